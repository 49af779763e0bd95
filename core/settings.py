"""The service's settings: one class, read from the environment (see the README's settings table)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"


class Settings(BaseSettings):
    """Every setting the API, the worker and the dev stack read."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: Literal["development", "test", "production"] = Field(
        default="development", description="development, test or production; production refuses dev secrets."
    )
    database_url: str | None = Field(
        default=None,
        description="PostgreSQL URL. Unset in development: the dev stack starts an embedded server.",
    )
    temporal_address: str | None = Field(
        default=None,
        description="Temporal frontend host:port. Unset in development: the dev stack starts a dev server.",
    )
    temporal_namespace: str = Field(default="default", description="Temporal namespace.")
    task_queue: str = Field(default="complaints", description="Temporal task queue of the worker.")
    policies_dir: Path = Field(
        default=REPO_ROOT / "policies", description="Folder of council policy files (*.toml)."
    )
    data_dir: Path = Field(
        default=REPO_ROOT / ".data", description="Dev stack only: embedded Postgres and Temporal files."
    )
    api_host: str = Field(default="127.0.0.1", description="Address the API listens on.")
    api_port: int = Field(default=8000, description="Port the API listens on.")
    temporal_ui_port: int = Field(default=8233, description="Dev stack only: Temporal Web UI port.")
    jwt_secret: str = Field(
        default=DEV_JWT_SECRET,
        description="HMAC secret of the dev token endpoint; must be changed outside development.",
    )
    oidc_issuer: str | None = Field(default=None, description="Production: the identity provider's issuer.")
    oidc_audience: str | None = Field(default=None, description="Production: the expected token audience.")
    oidc_jwks_url: str | None = Field(
        default=None, description="Production: the identity provider's JWKS URL."
    )
    log_level: str = Field(default="INFO", description="Python log level.")
    log_format: Literal["json", "text"] = Field(
        default="json", description="Log lines as JSON (one object a line) or plain text for reading by eye."
    )
    metrics_host: str = Field(
        default="127.0.0.1",
        description="Address the worker's metrics servers listen on (0.0.0.0 in a container).",
    )
    worker_metrics_port: int = Field(
        default=9464, ge=0, description="Port of the worker's Prometheus /metrics (0: off)."
    )
    temporal_metrics_port: int = Field(
        default=9465,
        ge=0,
        description="Port of the Temporal SDK's Prometheus metrics in the worker (0: off).",
    )
    metrics_refresh_seconds: float = Field(
        default=15.0,
        ge=0,
        description="The API re-reads the read-model figures when older than this at a scrape.",
    )
    public_base_url: str | None = Field(
        default=None,
        description="Base URL of the resident pages for e-mailed links (never a request's Host).",
    )
    notification_channel: Literal["smtp", "notify", "none"] = Field(
        default="smtp",
        description="How e-mails go out: smtp, notify (GOV.UK Notify) or none (nothing e-mailed).",
    )
    smtp_host: str = Field(default="127.0.0.1", description="SMTP server host (the dev stack's catcher).")
    smtp_port: int = Field(default=1025, description="SMTP server port (1025: the dev stack's catcher).")
    smtp_username: str | None = Field(default=None, description="SMTP login user, if the server needs one.")
    smtp_password: str | None = Field(default=None, description="SMTP login password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_timeout: float = Field(default=30.0, description="Seconds to wait for the SMTP server per step.")
    mail_from: str = Field(default="complaints@council.example", description="From address of e-mails.")
    staff_email_domain: str = Field(
        default="council.example", description="Staff e-mail is sent to <staff id>@<this domain>."
    )
    notify_api_key: str | None = Field(default=None, description="GOV.UK Notify API key (channel notify).")
    notify_email_template_id: str | None = Field(
        default=None,
        description="GOV.UK Notify e-mail template with ((subject)) and ((body)) placeholders.",
    )
    notification_max_attempts: int = Field(
        default=8, ge=1, description="Tries per message before it is marked failed and staff are flagged."
    )
    notification_templates_dir: Path | None = Field(
        default=None,
        description="Optional per-council template overrides: <dir>/<policy id>/<template>.txt.j2.",
    )

    # Residents' access (api/resident/): where the client address comes from, the session cookie, the limits.
    forwarded_allow_ips: str = Field(
        default="",
        description=(
            "Comma-separated addresses or networks of trusted reverse proxies (or *): only a request arriving"
            " from one of them has its client address and scheme taken from X-Forwarded-For/-Proto."
        ),
    )
    cookie_secure: bool | None = Field(
        default=None,
        description="Mark the resident session cookie Secure (TLS ends at a proxy); unset: in production.",
    )
    resident_session_hours: float = Field(
        default=8, gt=0, description="How long a resident pages' session lasts after signing in."
    )
    resident_link_days: float = Field(
        default=7, gt=0, description="How long the one-time code of an e-mailed access link works."
    )
    resident_wrong_codes_per_reference: int = Field(
        default=10,
        ge=1,
        description="Wrong access codes for one complaint per window before more are refused.",
    )
    resident_wrong_codes_per_address: int = Field(
        default=30, ge=1, description="Wrong access codes from one client address per window."
    )
    resident_wrong_code_window_minutes: int = Field(
        default=15, ge=1, description="Window of the wrong-code limits."
    )
    resident_complaints_per_address: int = Field(
        default=20, ge=1, description="Complaints made on the public form or API from one address per window."
    )
    resident_complaints_per_email: int = Field(
        default=5, ge=1, description="Complaints made for one e-mail address per window."
    )
    resident_link_requests_per_address: int = Field(
        default=10, ge=1, description="New access links asked for from one address per window."
    )
    resident_link_requests_per_email: int = Field(
        default=5, ge=1, description="New access links asked for one e-mail address per window."
    )
    resident_link_requests_per_complaint: int = Field(
        default=3, ge=1, description="New access links e-mailed for one complaint per window (silently)."
    )
    resident_request_window_minutes: int = Field(
        default=60, ge=1, description="Window of the complaint and access-link limits."
    )

    @property
    def session_cookie_secure(self) -> bool:
        return self.environment == "production" if self.cookie_secure is None else self.cookie_secure

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            if self.jwt_secret == DEV_JWT_SECRET:
                raise ValueError("JWT_SECRET must be set to a real secret in production")
            if not self.database_url or not self.temporal_address:
                raise ValueError("DATABASE_URL and TEMPORAL_ADDRESS must be set in production")
            if self.notification_channel == "notify" and not (
                self.notify_api_key and self.notify_email_template_id
            ):
                raise ValueError(
                    "NOTIFY_API_KEY and NOTIFY_EMAIL_TEMPLATE_ID must be set for NOTIFICATION_CHANNEL=notify"
                )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
