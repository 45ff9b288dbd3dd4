"""Settings from the environment (KONENUT_*) and defaults (contracts §7)."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from konenut.security.private_files import create_private_dir, load_or_create_secret

DEFAULT_SITE_ID = "site"  # the single site of a one-community deployment and of the demo
DEFAULT_VAPID_SUBJECT = "mailto:admin@localhost"
# Wrong codes of one kind from all addresses together (a botnet, or a proxy that hides clients
# behind one address): at 300 a minute, finding one of 500 live 40-bit enrollment codes takes
# about 14 years, while a whole village enrolling at once mistypes far fewer.
DEFAULT_CODE_GUESSES_PER_MIN = 300
# Outbound channels configured by an Apprise URL template each (notify/router.py); the URLs
# carry provider secrets, so they are SecretStr: never in a repr, a log line or an error.
CODE_KEY_NAME = "code_key"  # in the data dir, unless KONENUT_CODE_KEY is set
NOTIFY_CHANNELS = ("sms", "telegram", "signal", "whatsapp", "email", "voice")
GZIP_MIN_BYTES = 500  # an HTTP answer below this is sent as is: gzip's header costs more


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KONENUT_", extra="ignore")

    data_dir: Path = Field(default=Path("konenut-data"))
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file in the data dir"
    )
    public_url: str | None = Field(
        default=None,
        description="Base URL of links when the site sets none (its public_url); default: serve's",
    )
    site_id: str = DEFAULT_SITE_ID
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    tls: bool = Field(default=False, description="Served over HTTPS (`konenut serve --tls`)")
    demo: bool = False
    log_level: str = "info"
    notify_sms_url: SecretStr | None = Field(
        default=None, description="Apprise URL template for SMS, with {phone}"
    )
    notify_telegram_url: SecretStr | None = Field(
        default=None, description="Apprise URL template for Telegram, with {telegram}"
    )
    notify_signal_url: SecretStr | None = Field(
        default=None, description="Apprise URL template for Signal, with {phone}"
    )
    notify_whatsapp_url: SecretStr | None = Field(
        default=None, description="Apprise URL template for WhatsApp, with {phone}"
    )
    notify_email_url: SecretStr | None = Field(
        default=None, description="Apprise URL template for e-mail, with {email}"
    )
    notify_voice_url: SecretStr | None = Field(
        default=None,
        description="json:// or form:// webhook of a telephony gateway, with {phone}",
    )
    escalate: bool = Field(
        default=True,
        description="Send muster calls down the escalation chain; run it on one node only",
    )
    vapid_subject: str | None = Field(
        default=None, description="VAPID contact; default: public_url if https, else mailto"
    )
    push_allow_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Self-hosted push services the server may reach although they are not https:// on "
            "a public address, comma-separated [scheme://]host[:port] (notify/push_endpoints.py)"
        ),
    )
    trusted_proxies: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "Reverse proxies whose X-Forwarded-For names the client, comma-separated addresses "
            "or networks (10.0.0.1, 10.0.0.0/24); default none: the connection's own address "
            "counts, so a client cannot pick the address throttles know it by"
        ),
    )
    code_guesses_per_min: int = Field(
        default=DEFAULT_CODE_GUESSES_PER_MIN,
        ge=1,
        description="Wrong enrollment codes (and, apart, wrong passes) a minute from all "
        "addresses together before every code of that kind is refused for a while and those "
        "who run the squad are alarmed (api/throttle.py)",
    )
    code_key: SecretStr | None = Field(
        default=None,
        description="Key of enrollment and pass code hashes (HMAC); default: code_key file in "
        "the data dir. Every node of a deployment needs the same one",
    )
    inbound_secret: SecretStr | None = Field(
        default=None,
        description="Key of the reply webhooks' secret paths; default: inbound_secret file",
    )
    telegram_webhook_secret: SecretStr | None = Field(
        default=None, description="Telegram's X-Telegram-Bot-Api-Secret-Token (setWebhook)"
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=32,
        description="HTTP processes of this node (`konenut serve --workers`): one of them also "
        "runs the writer; the code throttles share their limits among them",
    )
    stream_coalesce_ms: int = Field(
        default=250,
        ge=0,
        le=5_000,
        description="Live stream: positions go out every this often, the latest per unit (0: off)",
    )

    @field_validator("push_allow_hosts", "trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return [entry.strip() for entry in value.split(",") if entry.strip()]
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"{entry!r} is not an IP address or network") from None
        return value

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'konenut.db').resolve()}"

    @property
    def site_toml(self) -> Path:
        return self.data_dir / "site.toml"

    def ensure_data_dir(self) -> Path:
        """The data dir, created (or tightened) to mode 0700: it holds the database, secrets
        and photos, none of them for other local users."""
        return create_private_dir(self.data_dir)

    def resolved_code_key(self) -> bytes:
        """The deployment's key of code hashes: KONENUT_CODE_KEY, else the `code_key` file in
        the data dir, made (mode 0600) on first use. Each site keys with its own derivative."""
        configured = self.code_key.get_secret_value().strip() if self.code_key else ""
        return (configured or load_or_create_secret(self.data_dir / CODE_KEY_NAME)).encode()

    def notify_url(self, channel: str) -> str | None:
        """The Apprise URL template of an outbound channel, or None when not configured."""
        secret: SecretStr | None = getattr(self, f"notify_{channel}_url", None)
        value = secret.get_secret_value().strip() if secret is not None else ""
        return value or None

    def resolved_vapid_subject(self) -> str:
        if self.vapid_subject:
            return self.vapid_subject
        if self.public_url and self.public_url.startswith("https://"):
            return self.public_url.rstrip("/")
        return DEFAULT_VAPID_SUBJECT

    def base_url(self) -> str:
        """Links' base when the site has no public URL (app/identity.py links_url)."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return self.serve_url()

    def serve_url(self) -> str:
        """Where `konenut serve` listens, as this machine's browser reaches it."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::") else self.host
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}"
