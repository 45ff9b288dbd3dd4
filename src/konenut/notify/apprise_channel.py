"""Any Apprise URL (SMS gateways, Telegram, Signal, e-mail, ntfy, ...) as a Channel."""

from __future__ import annotations

import asyncio
import logging
import re
import string
import threading
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

import structlog

from konenut.app.channels import (
    SEND_TIMEOUT_SECS,
    DeliveryResult,
    OutboundMessage,
    Recipient,
    bounded_send,
)
from konenut.app.sending import MAX_CONCURRENT_SENDS

if TYPE_CHECKING:
    import apprise
    import requests

log = structlog.get_logger(__name__)

APPRISE_LOGGER_NAME = "apprise"
REASON_MAX_CHARS = 300  # keep a failure reason readable in the log and the muster board
# Path, user and password pieces at least this long are treated as secrets (bot tokens, API
# keys) and masked in any reason text; shorter ones (a path "/sms") say nothing secret.
SECRET_MIN_CHARS = 6
REDACTED = "***"
# Several recipients go in one Apprise URL, as Apprise writes them: one path segment each.
TARGETS_SEPARATOR = "/"
SAMPLE_TARGETS = ("+15550000001", "+15550000002")  # to ask the plugin how it sends two

_Waiting = tuple[str, "asyncio.Future[DeliveryResult]"]  # a recipient's address, its outcome


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


def _joinable_field(url_template: str, fields: frozenset[str]) -> str | None:
    """The template's one placeholder when it fills a whole segment of the URL before its query
    (`twilio://SID:TOKEN@FROM/{phone}`, `clicksend://USER:KEY@{phone}?batch=yes`): there, several
    addresses joined by TARGETS_SEPARATOR are several targets to Apprise."""
    if len(fields) != 1:
        return None
    (field,) = fields
    placeholder = "{" + field + "}"
    if url_template.count(placeholder) != 1:
        return None
    before, after = url_template.split(placeholder)
    whole = before.endswith(("/", "@")) and (after == "" or after.startswith(("/", "?")))
    return field if whole and "?" not in before else None


class AppriseChannel:
    """Sends title and body through one Apprise URL template.

    The template is an Apprise URL with placeholders filled from the recipient, URL-quoted:
    `{phone}`, `{telegram}`, `{email}`, `{person}`; e.g. `tgram://BOT_TOKEN/{telegram}`.
    The URL carries provider secrets: only its scheme and host are ever logged.

    No send pays for more set-up than its own message: the channel keeps one HTTP session (its
    pooled connections to the provider, notify/keepalive.py) and one AppriseAsset for its life,
    and Apprise runs each plugin on the channel's own worker thread. Where the provider sends
    one message to several recipients in one request and the template asks for it (Apprise's
    `batch=yes`, e.g. `signal://HOST:8080/FROM/{phone}?batch=yes`), messages with the same title
    and body that are sent together go in one request each, up to the plugin's batch size; each
    message's outcome is that request's.
    """

    def __init__(
        self,
        name: str,
        url_template: str,
        *,
        timeout_secs: float = SEND_TIMEOUT_SECS,
        pool_size: int = MAX_CONCURRENT_SENDS,
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
        self._pool_size = pool_size
        self._joinable = _joinable_field(url_template, self._fields)
        self._batch_size: int | None = None if self._joinable else 1
        self._probe: asyncio.Task[int] | None = None
        # Made on the first send (Apprise is imported then, not at start).
        self._setup_lock = threading.Lock()
        self._kept: tuple[requests.Session, apprise.AppriseAsset] | None = None
        # Per event loop: the escalator and the broadcaster share the channels, each on its own.
        self._batches: dict[asyncio.AbstractEventLoop, dict[tuple[str, str], list[_Waiting]]] = {}
        self._requests: set[asyncio.Task[None]] = set()

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

    def _fill_targets(self, addresses: list[str]) -> str:
        """The template with several recipients' addresses as Apprise's targets."""
        assert self._joinable is not None
        joined = TARGETS_SEPARATOR.join(quote(a, safe="") for a in addresses)
        return self._template.replace("{" + self._joinable + "}", joined)

    async def send(self, message: OutboundMessage) -> DeliveryResult:
        url = self.url_for(message.recipient)
        if url is None:
            missing = sorted(f for f in self._fields if not _recipient_fields(message.recipient)[f])
            return DeliveryResult(
                sent=False, detail=f"recipient has no {', '.join(missing)}", channel=self._name
            )
        if self._batch_size is None:
            self._batch_size = await self._probed_batch_size()
        if self._batch_size > 1 and self._joinable is not None:
            address = _recipient_fields(message.recipient)[self._joinable] or ""
            result = await self._send_in_batch(message, address)
        else:
            result = await self._send_one(url, message.title, message.body)
        log.info(
            "notify.apprise",
            channel=self._name,
            target=safe_url(url),
            sent=result.sent,
            detail=result.detail,
            tag=message.tag,
        )
        return result

    async def _send_one(self, url: str, title: str, body: str) -> DeliveryResult:
        """One Apprise call to `url` (one or several targets), bounded in time."""
        return await bounded_send(
            self._name,
            lambda: asyncio.to_thread(self._notify, url, title, body),
            self._timeout_secs,
            lambda text: redact(text, url),
        )

    # --- several recipients in one request -----------------------------------------------------
    async def _probed_batch_size(self) -> int:
        """The probe's answer, one probe for all the first sends (on a worker thread: it imports
        Apprise). They resume together, so those started together still make one batch."""
        loop = asyncio.get_running_loop()
        if self._probe is None or self._probe.get_loop() is not loop:
            self._probe = loop.create_task(asyncio.to_thread(self._probe_batch_size))
        return await asyncio.shield(self._probe)

    def _probe_batch_size(self) -> int:
        """How many targets the provider takes in one request with this template (1: none)."""
        import apprise

        url = self._fill_targets(list(SAMPLE_TARGETS))
        plugin = apprise.Apprise.instantiate(url, asset=self._setup()[1], suppress_exceptions=True)
        if plugin is None or getattr(plugin, "batch", False) is not True or len(plugin) != 1:
            return 1
        return max(1, int(getattr(plugin, "default_batch_size", 1)))

    async def _send_in_batch(self, message: OutboundMessage, address: str) -> DeliveryResult:
        """Wait for the request that carries this message with the others sent with it."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[DeliveryResult] = loop.create_future()
        batches = self._batches.setdefault(loop, {})
        if not batches:  # once every send started with this one is here
            loop.call_soon(self._send_batches, loop)
        batches.setdefault((message.title, message.body), []).append((address, done))
        return await done

    def _send_batches(self, loop: asyncio.AbstractEventLoop) -> None:
        batches = self._batches.pop(loop, {})
        size = self._batch_size or 1
        for (title, body), waiting in batches.items():
            addresses = list(dict.fromkeys(address for address, _ in waiting))
            for start in range(0, len(addresses), size):
                chunk = set(addresses[start : start + size])
                futures = [f for a, f in waiting if a in chunk]
                url = self._fill_targets([a for a in addresses if a in chunk])
                task = loop.create_task(self._send_request(url, title, body, futures))
                self._requests.add(task)
                task.add_done_callback(self._requests.discard)

    async def _send_request(
        self, url: str, title: str, body: str, waiting: list[asyncio.Future[DeliveryResult]]
    ) -> None:
        """One request for several messages: each gets its outcome (unless it stopped waiting)."""
        try:
            result = await self._send_one(url, title, body)
        except asyncio.CancelledError:
            for future in waiting:
                future.cancel()
            raise
        for future in waiting:
            if not future.done():
                future.set_result(result)

    # --- the blocking part, on a worker thread ---------------------------------------------------
    def _setup(self) -> tuple[requests.Session, apprise.AppriseAsset]:
        """The channel's HTTP session and AppriseAsset, made once."""
        with self._setup_lock:
            if self._kept is None:
                import apprise  # on the first send, not at import: a twentieth of a server's start

                from konenut.notify import keepalive

                # service_timeout=0: Apprise calls the plugin on this thread instead of handing
                # it to its shared pool of cpu_count + 4 threads (6 sends in flight on 2 cores,
                # not 64); bounded_send keeps the time limit.
                asset = apprise.AppriseAsset(async_mode=False, service_timeout=0)
                self._kept = (keepalive.new_session(self._pool_size), asset)
            return self._kept

    def _notify(self, url: str, title: str, body: str) -> DeliveryResult:
        """Blocking Apprise call, run in a worker thread; its own warnings become the reason."""
        import apprise

        from konenut.notify import keepalive

        session, asset = self._setup()
        notifier = apprise.Apprise(asset=asset)
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
            with keepalive.through(session):
                ok = notifier.notify(body=body, title=title)
        finally:
            apprise_log.removeHandler(capture)
        if ok:
            return DeliveryResult(sent=True, detail="accepted", channel=self._name)
        # Apprise 2 collects each call's warnings in its result; Apprise 1 logs them on this
        # thread, where the capture reads them.
        logs = getattr(ok, "logs", None)
        lines = [str(entry.message) for entry in logs()] if callable(logs) else capture.lines
        reason = "; ".join(lines) or "provider refused the message"
        reason = redact(reason, url)[:REASON_MAX_CHARS]
        return DeliveryResult(sent=False, detail=reason, channel=self._name)
