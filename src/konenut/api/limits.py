"""Request body limits: every body is counted while it is read, before auth and JSON parsing;
and reading a body ahead of the app, then handing it on."""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from konenut.api import problems
from konenut.api.routes.registry import MAX_FILE_BYTES
from konenut.app.photos import MAX_PHOTO_BYTES

KIB = 1024
MIB = 1024 * KIB
# A command is JSON of a few hundred bytes; a broadcast in five languages a few KiB.
COMMAND_BODY_MAX_BYTES = 64 * KIB
# A town's GeoJSON plan (PUT /api/v1/site): thousands of buildings; the demo village is 60 KiB.
SITE_PLAN_BODY_MAX_BYTES = 8 * MIB


@dataclass(frozen=True)
class BodyLimit:
    """A route (method and path) whose body may be longer than a command's."""

    method: str
    path: re.Pattern[str]
    max_bytes: int


LARGER_BODIES: tuple[BodyLimit, ...] = (
    BodyLimit("POST", re.compile(r"/api/v1/incidents/[^/]+/photos"), MAX_PHOTO_BYTES),
    BodyLimit("POST", re.compile(r"/api/v1/site/households/import"), MAX_FILE_BYTES),
    BodyLimit("PUT", re.compile(r"/api/v1/site"), SITE_PLAN_BODY_MAX_BYTES),
)


def body_limit_bytes(method: str, path: str) -> int:
    """How long the body of a request to `method path` may be."""
    for limit in LARGER_BODIES:
        if limit.method == method and limit.path.fullmatch(path):
            return limit.max_bytes
    return COMMAND_BODY_MAX_BYTES


def size_text(size_bytes: int) -> str:
    """`5 MB`, `64 KiB`: a limit as people read it."""
    if size_bytes % MIB == 0:
        return f"{size_bytes // MIB} MB"
    return f"{size_bytes // KIB} KiB"


class BodyTooLarge(Exception):
    """The body went past its limit while the app was reading it."""


class _CountedBody:
    """The request's receive, counting body bytes; past the limit it raises, and whatever the
    app answers instead (FastAPI turns a failed read into a 400) is held back."""

    def __init__(self, receive: Receive, send: Send, limit_bytes: int) -> None:
        self._receive = receive
        self._send = send
        self.limit_bytes = limit_bytes
        self.read_bytes = 0
        self.exceeded = False
        self.responded = False

    async def receive(self) -> Message:
        if self.exceeded:
            raise BodyTooLarge
        message = await self._receive()
        if message["type"] == "http.request":
            self.read_bytes += len(message.get("body", b""))
            if self.read_bytes > self.limit_bytes:
                self.exceeded = True
                raise BodyTooLarge
        return message

    async def send(self, message: Message) -> None:
        if self.exceeded:
            return
        self.responded = True
        await self._send(message)


class LimitBodies:
    """Plain ASGI: a declared Content-Length over the route's limit is refused before a byte
    of the body is read; a body without one is refused as soon as it grows past the limit.
    Either way the answer is 413 problem+json and the connection is closed."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit_bytes = body_limit_bytes(scope["method"], scope["path"])
        if declared_length(scope) > limit_bytes:
            await _too_large(limit_bytes)(scope, receive, send)
            return
        counted = _CountedBody(receive, send, limit_bytes)
        try:
            await self.app(scope, counted.receive, counted.send)
        except Exception:
            if not counted.exceeded:
                raise
        if counted.exceeded and not counted.responded:
            await _too_large(limit_bytes)(scope, receive, send)


def declared_length(scope: Scope) -> int:
    """The Content-Length the client declared (0 when none or unreadable: then we count)."""
    for name, value in scope["headers"]:
        if name.lower() == b"content-length" and value.isdigit():
            return int(value)
    return 0


async def read_body(receive: Receive, max_bytes: int) -> tuple[bytes | None, list[Message]]:
    """The request's body and the messages it came in (None: the client went away, or the
    body is longer than `max_bytes`)."""
    messages: list[Message] = []
    size = 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return None, messages
        size += len(message.get("body", b""))
        if size > max_bytes:
            return None, messages
        if not message.get("more_body", False):
            return b"".join(m.get("body", b"") for m in messages), messages


def replaying(messages: list[Message], receive: Receive) -> Receive:
    """A receive that hands out the messages already read, then the connection's own."""
    pending = list(messages)

    async def replayed() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replayed


def _too_large(limit_bytes: int) -> Response:
    return problems.problem(
        413,
        f"the request body is larger than {size_text(limit_bytes)}",
        headers={"Connection": "close"},
    )
