"""The service's settings: one class, read from the environment (see the README's settings table)."""

from __future__ import annotations

import base64
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.codec import DEV_KEY, DEV_PAYLOAD_KEYS, parse_payload_keys

# The folder holding the service's packages: the checkout, or site-packages once installed. The files the
# service reads at run time (migrations/, policies/, the letter, report and resident page templates, the
# resident pages' static files) ship beside the code as package data (pyproject.toml), so a path below
# CODE_ROOT is right in both. REPO_ROOT names the same folder where only a checkout makes sense (dev stack).
CODE_ROOT = Path(__file__).resolve().parent.parent
REPO_ROOT = CODE_ROOT
DEV_JWT_SECRET = "dev-only-secret-change-me-0123456789abcdef"
SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]
DEV_AUDIT_HMAC_KEY = "dev-only-audit-key-change-me-0123456789"
DEV_KEY_BYTES = base64.b64decode(DEV_KEY)


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
    database_sslmode: SslMode | None = Field(
        default=None, description="TLS to PostgreSQL, as libpq's sslmode (unset: the URL's, else prefer)."
    )
    database_ssl_root_cert: Path | None = Field(
        default=None, description="CA file (PEM) to verify PostgreSQL's certificate (unset: system CAs)."
    )
    database_pool_size: int | None = Field(
        default=None,
        ge=2,
        description="Connections per process (unset: API 10; worker its activity slots + 2).",
    )
    temporal_address: str | None = Field(
        default=None,
        description="Temporal frontend host:port. Unset in development: the dev stack starts a dev server.",
    )
    # The Temporal connection settings below carry the names of the Temporal SDK's own environment
    # configuration (temporalio.envconfig), which core/temporal.py hands them to: the SDK merges them with
    # the profile file and builds the TLS and API-key options, exactly as the `temporal` CLI does.
    temporal_namespace: str | None = Field(
        default=None, description="Temporal namespace (unset: the profile's, else `default`)."
    )
    temporal_api_key: SecretStr | None = Field(
        default=None, description="Temporal Cloud API key; sent as a bearer token, turns TLS on."
    )
    temporal_tls: bool | None = Field(
        default=None,
        description="Force TLS to Temporal on or off (unset: on with an API key or a client certificate).",
    )
    temporal_tls_client_cert_path: Path | None = Field(
        default=None, description="mTLS: the client certificate (PEM) presented to Temporal."
    )
    temporal_tls_client_key_path: Path | None = Field(
        default=None, description="mTLS: the client certificate's private key (PEM)."
    )
    temporal_tls_server_ca_cert_path: Path | None = Field(
        default=None, description="CA (PEM) of the Temporal server's certificate (unset: the system's CAs)."
    )
    temporal_tls_server_name: str | None = Field(
        default=None, description="Server name to verify in Temporal's certificate, if not the address host."
    )
    temporal_config_file: Path | None = Field(
        default=None, description="TOML file of Temporal connection profiles (the SDK's and CLI's format)."
    )
    temporal_profile: str | None = Field(
        default=None, description="Profile to use from the Temporal config file (unset: `default`)."
    )
    task_queue: str = Field(default="complaints", description="Temporal task queue of the worker.")
    worker_max_cached_workflows: int = Field(
        default=500,
        ge=0,
        description="Open complaints each worker keeps in memory (see the README's sizing table).",
    )
    worker_max_concurrent_workflow_tasks: int = Field(
        default=20, ge=2, description="Workflow tasks each worker runs at once."
    )
    worker_max_concurrent_activities: int = Field(
        default=20, ge=1, description="Activities each worker runs at once (each may hold a DB connection)."
    )
    temporal_request_timeout: float = Field(
        default=10.0,
        gt=0,
        description="Seconds an API request waits for Temporal to accept an action (an opening waits 20 s).",
    )
    idempotency_key_ttl_hours: float = Field(
        default=24.0, gt=0, description="Hours an Idempotency-Key answers repeats; after that it is new."
    )
    idempotency_claim_timeout: float = Field(
        default=60.0,
        gt=0,
        description="Seconds after which a key claimed by a request that never answered is taken over.",
    )
    policies_dir: Path = Field(
        default=CODE_ROOT / "policies",
        description="Folder of council policy files (*.toml); unset: the policies shipped with the service.",
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
    oidc_issuer: str | None = Field(
        default=None, description="The identity provider's issuer (required in production)."
    )
    oidc_audience: str | None = Field(
        default=None, description="The expected token audience (required in production)."
    )
    oidc_jwks_url: str | None = Field(
        default=None, description="The identity provider's JWKS URL (required in production)."
    )
    staff_id_claim: str = Field(
        default="sub",
        min_length=1,
        description="Token claim naming the staff member (conflict-of-interest checks, assignment, audit).",
    )
    payload_keys: str | None = Field(
        default=None,
        description="AES-256 keys of the Temporal payload codec, `id:base64key,...`; the first encrypts.",
    )
    audit_hmac_key: str = Field(
        default=DEV_AUDIT_HMAC_KEY,
        min_length=16,
        description="HMAC key that stands for free text in the audit trail; change outside development.",
    )
    temporal_ui_origins: str = Field(
        default="http://127.0.0.1:8233,http://localhost:8233",
        description="Temporal Web UI origins that may call the codec endpoints (CORS), comma separated.",
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
    complaints_team_email: str | None = Field(
        default=None,
        description="The complaints team's address (new web complaints); default complaints-team@<domain>.",
    )
    notify_api_key: str | None = Field(default=None, description="GOV.UK Notify API key (channel notify).")
    notify_email_template_id: str | None = Field(
        default=None,
        description="GOV.UK Notify e-mail template with ((subject)) and ((body)) placeholders.",
    )
    notification_max_attempts: int = Field(
        default=8, ge=1, description="Tries per message before it is marked failed and staff are flagged."
    )
    notification_claim_timeout: float = Field(
        default=120.0,
        gt=0,
        description="Seconds after which a message claimed by a sender that stopped is resolved.",
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
    # The staff console (web/staff/): its session, and the OpenID Connect client it signs staff in with.
    staff_session_idle_minutes: float = Field(
        default=30, gt=0, description="A staff console session ends after this long without a request."
    )
    staff_session_hours: float = Field(
        default=8, gt=0, description="A staff console session ends this long after signing in, however busy."
    )
    oidc_client_id: str | None = Field(
        default=None,
        description="The console's client id at the identity provider (authorisation code flow).",
    )
    oidc_client_secret: str | None = Field(
        default=None, description="Its client secret, if the provider gives one (PKCE is used either way)."
    )
    oidc_scopes: str = Field(
        default="openid profile email", description="Scopes the console asks the identity provider for."
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
    resident_drafts_per_address: int = Field(
        default=60,
        ge=1,
        description="Complaints started on the question pages (a draft kept from the first answer) from one"
        " address per window.",
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
        default=60, ge=1, description="Window of the complaint, draft and access-link limits."
    )
    resident_messages_per_day: int = Field(
        default=20,
        ge=1,
        description="Messages and evidence files a resident may send on one complaint per day (UTC) online.",
    )

    # Evidence (attachments) and need-to-know access.
    attachment_max_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1, description="Largest attachment accepted, in bytes (10 MiB)."
    )
    attachment_content_types: list[str] = Field(
        default=[
            "application/pdf",
            "image/jpeg",
            "image/png",
            "image/heic",
            "text/plain",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "application/msword",
        ],
        description="Content types an attachment may have (a JSON list).",
    )
    # Inbound e-mail (inbound/): residents' replies and the shared complaints mailbox.
    inbound_mode: Literal["smtp", "imap", "off"] = Field(
        default="smtp",
        description="How inbound e-mail arrives: smtp (the listener), imap (poll a mailbox) or off.",
    )
    inbound_smtp_host: str = Field(
        default="127.0.0.1", description="Address the inbound SMTP listener binds."
    )
    inbound_smtp_port: int = Field(default=2525, ge=1, le=65535, description="Port of the SMTP listener.")
    inbound_smtp_tls_cert: Path | None = Field(
        default=None, description="Certificate (PEM) for STARTTLS; with it the listener requires STARTTLS."
    )
    inbound_smtp_tls_key: Path | None = Field(
        default=None, description="Private key (PEM) of that certificate."
    )
    inbound_smtp_allowed_relays: str = Field(
        default="",
        description="Addresses or networks allowed to hand mail over, comma separated (empty: any).",
    )
    inbound_imap_host: str | None = Field(default=None, description="IMAP server of the shared mailbox.")
    inbound_imap_port: int = Field(default=993, ge=1, le=65535, description="IMAP port (993: IMAP over TLS).")
    inbound_imap_tls: bool = Field(
        default=True, description="IMAP over TLS (off only for a local test server)."
    )
    inbound_imap_username: str | None = Field(default=None, description="The shared mailbox's user.")
    inbound_imap_password: SecretStr | None = Field(default=None, description="Its password (LOGIN).")
    inbound_imap_oauth_token_file: Path | None = Field(
        default=None,
        description="File holding a current OAuth2 access token (XOAUTH2), re-read at each poll; wins over"
        " the password.",
    )
    inbound_imap_mailbox: str = Field(default="INBOX", description="Mailbox (folder) to poll.")
    inbound_imap_poll_seconds: float = Field(default=60.0, gt=0, description="Seconds between polls.")
    inbound_max_message_bytes: int = Field(
        default=25 * 1024 * 1024, ge=1, description="Largest message processed; larger waits in triage."
    )
    inbound_max_attachments: int = Field(
        default=10, ge=0, description="Attachments per message processed; more and it waits in triage."
    )
    inbound_messages_per_sender_per_hour: int = Field(
        default=20, ge=1, description="Messages processed per sender per hour; past it they wait in triage."
    )
    inbound_retention_days: int = Field(
        default=365,
        ge=1,
        description="Days a message of no complaint (dropped, dismissed, a service request) is kept after it"
        " was decided.",
    )
    clamd_address: str | None = Field(
        default=None,
        description="A ClamAV daemon that scans every upload first: host:port or unix:/path (off if unset).",
    )
    staff_service_areas: dict[str, list[str]] = Field(
        default={},
        description=(
            "Staff limited to service areas (JSON: staff id to a list of areas); wins over the identity"
            " provider's `service_areas` claim. Staff in neither see every area."
        ),
    )

    @property
    def session_cookie_secure(self) -> bool:
        return self.environment == "production" if self.cookie_secure is None else self.cookie_secure

    @property
    def staff_cookie_secure(self) -> bool:
        """The console's cookie is Secure outside development (COOKIE_SECURE overrides, e.g. a plain-HTTP
        test server)."""
        return self.environment != "development" if self.cookie_secure is None else self.cookie_secure

    @property
    def payload_keys_or_dev(self) -> str:
        """PAYLOAD_KEYS, or the fixed development key outside production (production refuses to start
        without real keys, see below)."""
        return self.payload_keys or DEV_PAYLOAD_KEYS

    @property
    def codec_origins(self) -> list[str]:
        origins = (origin.strip().rstrip("/") for origin in self.temporal_ui_origins.split(","))
        return [origin for origin in origins if origin]

    @model_validator(mode="after")
    def _tls_settings_agree(self) -> Settings:
        not_verifying = {"disable", "allow", "prefer"}
        if self.database_ssl_root_cert is not None and self.database_sslmode in not_verifying:
            raise ValueError("DATABASE_SSL_ROOT_CERT needs DATABASE_SSLMODE require, verify-ca, verify-full")
        if (self.inbound_smtp_tls_cert is None) != (self.inbound_smtp_tls_key is None):
            raise ValueError("INBOUND_SMTP_TLS_CERT and INBOUND_SMTP_TLS_KEY go together")
        if (self.temporal_tls_client_cert_path is None) != (self.temporal_tls_client_key_path is None):
            raise ValueError("TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH go together")
        return self

    def database_pool_size_for(self, process: Literal["api", "worker"]) -> int:
        """The pool is sized to the work a process runs at once, so no activity waits for a connection:
        a worker needs one per activity slot plus the outbox dispatcher and the schedules' start-up step."""
        if self.database_pool_size is not None:
            return self.database_pool_size
        return self.worker_max_concurrent_activities + 2 if process == "worker" else 10

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.payload_keys:
            parse_payload_keys(self.payload_keys)  # a malformed key stops the service, in any environment
        if self.environment == "production":
            problems = production_problems(self)
            if problems:
                raise ValueError("; ".join(problems.values()))
        return self


def production_problems(settings: Settings) -> dict[str, str]:
    """What production refuses in these settings: setting name -> what to do. The settings refuse to load
    with any of them in production; `complaints doctor` lists each (cli/doctor.py)."""
    problems: dict[str, str] = {}
    if settings.jwt_secret == DEV_JWT_SECRET:
        problems["JWT_SECRET"] = "JWT_SECRET must be set to a real secret in production"
    if not settings.database_url:
        problems["DATABASE_URL"] = "DATABASE_URL must be set in production"
    if not settings.temporal_address and not settings.temporal_config_file:
        problems["TEMPORAL_ADDRESS"] = "TEMPORAL_ADDRESS (or TEMPORAL_CONFIG_FILE) must be set in production"
    # Fail closed: no identity provider, no sign-in (HS256 dev tokens are never accepted here).
    if not (settings.oidc_issuer and settings.oidc_audience and settings.oidc_jwks_url):
        problems["OIDC_JWKS_URL"] = "OIDC_ISSUER, OIDC_AUDIENCE and OIDC_JWKS_URL must be set in production"
    if not settings.payload_keys:
        problems["PAYLOAD_KEYS"] = "PAYLOAD_KEYS must be set in production (personal data in Temporal)"
    elif any(key.key == DEV_KEY_BYTES for key in parse_payload_keys(settings.payload_keys)):
        problems["PAYLOAD_KEYS"] = "PAYLOAD_KEYS must not contain the development key in production"
    if settings.audit_hmac_key == DEV_AUDIT_HMAC_KEY:
        problems["AUDIT_HMAC_KEY"] = "AUDIT_HMAC_KEY must be set to a real secret in production"
    if settings.inbound_mode == "imap" and not (
        settings.inbound_imap_host
        and settings.inbound_imap_username
        and (settings.inbound_imap_password or settings.inbound_imap_oauth_token_file)
    ):
        problems["INBOUND_IMAP_HOST"] = (
            "INBOUND_IMAP_HOST, INBOUND_IMAP_USERNAME and INBOUND_IMAP_PASSWORD (or"
            " INBOUND_IMAP_OAUTH_TOKEN_FILE) must be set for INBOUND_MODE=imap"
        )
    if settings.notification_channel == "notify" and not (
        settings.notify_api_key and settings.notify_email_template_id
    ):
        problems["NOTIFY_API_KEY"] = (
            "NOTIFY_API_KEY and NOTIFY_EMAIL_TEMPLATE_ID must be set for NOTIFICATION_CHANNEL=notify"
        )
    return problems


def inbound_production_problems(settings: Settings) -> dict[str, str]:
    """What the inbound e-mail process (python -m inbound) refuses in production, on top of
    production_problems. Kept apart because the API and the worker share these settings with INBOUND_MODE
    at its default (smtp) and never listen: refusing them would stop every deployment for a listener they
    do not run."""
    problems: dict[str, str] = {}
    if settings.environment == "production" and settings.inbound_mode == "smtp":
        if not settings.inbound_smtp_allowed_relays.strip():
            # An open listener lets anyone hand over mail "from" a complainant: only the council's relay
            # (which checks SPF/DKIM/DMARC) may.
            problems["INBOUND_SMTP_ALLOWED_RELAYS"] = (
                "INBOUND_SMTP_ALLOWED_RELAYS must name the council's mail relay"
                " for INBOUND_MODE=smtp in production"
            )
    return problems


@lru_cache
def get_settings() -> Settings:
    return Settings()
