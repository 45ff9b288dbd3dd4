"""Any Apprise URL (SMS gateways, Telegram, Signal, e-mail, ntfy, ...) as a Channel."""

from __future__ import annotations

import asyncio
import logging
import re
import string
import threading
from urllib.parse import quote, unquote, urlsplit

import structlog

from konenut.app.channels import (
    SEND_TIMEOUT_SECS,
    DeliveryResult,
    OutboundMessage,
    Recipient,
    bounded_send,
)

log = structlog.get_logger(__name__)

APPRISE_LOGGER_NAME = "apprise"
REASON_MAX_CHARS = 300  # keep a failure reason readable in the log and the muster board
# Path, user and password pieces at least this long are treated as secrets (bot tokens, API
# keys) and masked in any reason text; shorter ones (a path "/sms") say nothing secret.
SECRET_MIN_CHARS = 6
REDACTED = "***"


def _recipient_fields(recipient: Recipient) -> dict[str, str | None]:
    """Template placeholder name -> the recipient's address for it."""
    return {
        "phone": recipient.phone,
        "telegram": recipient.telegram_chat,
        "email": recipient.email,
        "person": recipient.person_id or None,
    }


PLACEHOLDERS = frozenset(_recipient_fields(Recipient()))


def safe_url(url: str) -> str:
    """Only the scheme: many Apprise URLs carry a token even in the host part (tgram://TOKEN)."""
    scheme = url.split("://", 1)[0] if "://" in url else "?"
    return f"{scheme}://{REDACTED}"


def _secret_pieces(url: str) -> list[str]:
    parts = urlsplit(url)
    pieces = re.split(r"[:@]", parts.netloc) + parts.path.split("/")
    pieces += [value for pair in parts.query.split("&") for value in pair.split("=")[1:]]
    pieces += [unquote(p) for p in pieces]  # Apprise logs the decoded values
    return sorted({p for p in pieces if len(p) >= SECRET_MIN_CHARS}, key=len, reverse=True)


def redact(text: str, url: str) -> str:
    """`text` with every long piece of `url` (tokens, keys, numbers) masked."""
    for piece in _secret_pieces(url):
        text = text.replace(piece, REDACTED)
    return text


class _ThreadLogCapture(logging.Handler):
    """Collects the Apprise warnings and errors emitted by one worker thread."""

    def __init__(self, thread_id: int) -> None:
        super().__init__(level=logging.WARNING)
        self.thread_id = thread_id
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread_id:
            self.lines.append(record.getMessage())


class AppriseChannel:
    """Sends title and body through one Apprise URL template.

    The template is an Apprise URL with placeholders filled from the recipient, URL-quoted:
    `{phone}`, `{telegram}`, `{email}`, `{person}`; e.g. `tgram://BOT_TOKEN/{telegram}`.
    The URL carries provider secrets: only its scheme and host are ever logged.
    """

    def __init__(
        self, name: str, url_template: str, *, timeout_secs: float = SEND_TIMEOUT_SECS
    ) -> None:
        fields = {f for _, f, _, _ in string.Formatter().parse(url_template) if f is not None}
        unknown = fields - PLACEHOLDERS
        if unknown:
            raise ValueError(
                f"channel {name!r}: unknown placeholder(s) {sorted(unknown)} in its Apprise URL;"
                f" use {sorted(PLACEHOLDERS)}"
            )
        self._name = name
        self._template = url_template
        self._fields = frozenset(fields)
        self._timeout_secs = timeout_secs

    @property
    def name(self) -> str:
        return self._name

    def __repr__(self) -> str:
        return f"AppriseChannel({self._name!r}, {safe_url(self._template)!r})"

    def url_for(self, recipient: Recipient) -> str | None:
        """The filled URL, or None when the recipient lacks an address the template needs."""
        values = _recipient_fields(recipient)
        if any(not values[f] for f in self._fields):
            return None
        return self._template.format_map({f: quote(values[f] or "", safe="") for f in self._fields})

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        url = self.url_for(message.recipient)
        if url is None:
            missing = sorted(f for f in self._fields if not _recipient_fields(message.recipient)[f])
            return DeliveryResult(
                sent=False, detail=f"recipient has no {', '.join(missing)}", channel=self._name
            )
        result = await bounded_send(
            self._name,
            lambda: asyncio.to_thread(self._notify, url, message),
            self._timeout_secs,
            lambda text: redact(text, url),
        )
        log.info(
            "notify.apprise",
            channel=self._name,
            target=safe_url(url),
            sent=result.sent,
            detail=result.detail,
            tag=message.tag,
        )
        return result

    def _notify(self, url: str, message: OutboundMessage) -> DeliveryResult:
        """Blocking Apprise call, run in a worker thread; its own warnings become the reason."""
        import apprise  # on the first send, not at import: a twentieth of a server's start

        # Sequential dispatch keeps Apprise's own warnings on this thread, where they are read.
        notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
        if not notifier.add(url):
            return DeliveryResult(
                sent=False,
                detail=f"Apprise does not accept this URL ({safe_url(url)})",
                channel=self._name,
            )
        capture = _ThreadLogCapture(threading.get_ident())
        apprise_log = logging.getLogger(APPRISE_LOGGER_NAME)
        apprise_log.addHandler(capture)
        try:
            ok = notifier.notify(body=message.body, title=message.title)
        finally:
            apprise_log.removeHandler(capture)
        if ok:
            return DeliveryResult(sent=True, detail="accepted", channel=self._name)
        # Apprise 2 collects each call's warnings in its result (they are logged from its worker
        # threads); Apprise 1 logs them on this thread, where the capture reads them.
        logs = getattr(ok, "logs", None)
        lines = [str(entry.message) for entry in logs()] if callable(logs) else capture.lines
        reason = "; ".join(lines) or "provider refused the message"
        reason = redact(reason, url)[:REASON_MAX_CHARS]
        return DeliveryResult(sent=False, detail=reason, channel=self._name)
