"""Where inbound replies arrive: each channel's secret webhook path and the URL to give its
provider (the API serves them, api/routes/hooks.py; `konenut hooks` prints them)."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

from konenut.app.replies import InboundChannel
from konenut.config import Settings
from konenut.security.private_files import load_or_create_secret

HOOKS_PATH = "/api/v1/hooks"
HOOK_CHANNELS: tuple[InboundChannel, ...] = ("sms", "telegram")
INBOUND_SECRET_NAME = "inbound_secret"
PATH_SECRET_CHARS = 32  # base64url: 192 bits


def load_or_create_inbound_secret(data_dir: Path) -> str:
    """The key in `inbound_secret` in the data dir, created (mode 0600) on first use."""
    return load_or_create_secret(data_dir / INBOUND_SECRET_NAME)


def hook_secret(settings: Settings, channel: InboundChannel) -> str:
    """The channel's secret path segment: one leaked webhook URL does not open the other."""
    configured = settings.inbound_secret.get_secret_value() if settings.inbound_secret else ""
    key = configured.strip() or load_or_create_inbound_secret(settings.data_dir)
    digest = hmac.new(key.encode(), b"konenut-hook:" + channel.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii")[:PATH_SECRET_CHARS]


def hook_url(settings: Settings, base_url: str, channel: InboundChannel) -> str:
    """The URL to give the SMS gateway's or Telegram's console (`base_url`: the site's links')."""
    return f"{base_url}{HOOKS_PATH}/{channel}/{hook_secret(settings, channel)}"
