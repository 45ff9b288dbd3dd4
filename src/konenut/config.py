"""Settings from the environment (KONENUT_*) and defaults (contracts §7)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SITE_ID = "site"  # the single site of a one-community deployment and of the demo


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KONENUT_", extra="ignore")

    data_dir: Path = Field(default=Path("konenut-data"))
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data dir"
    )
    redis_url: str | None = None
    public_url: str | None = Field(
        default=None, description="Base URL printed in links; default: from host and port"
    )
    site_id: str = DEFAULT_SITE_ID
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    demo: bool = False
    log_level: str = "info"

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'konenut.db').resolve()}"

    @property
    def site_toml(self) -> Path:
        return self.data_dir / "site.toml"

    def base_url(self, tls: bool = False) -> str:
        if self.public_url:
            return self.public_url.rstrip("/")
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"{'https' if tls else 'http'}://{host}:{self.port}"
