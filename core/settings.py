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

    @model_validator(mode="after")
    def _refuse_dev_secrets_in_production(self) -> Settings:
        if self.environment == "production":
            if self.jwt_secret == DEV_JWT_SECRET:
                raise ValueError("JWT_SECRET must be set to a real secret in production")
            if not self.database_url or not self.temporal_address:
                raise ValueError("DATABASE_URL and TEMPORAL_ADDRESS must be set in production")
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
