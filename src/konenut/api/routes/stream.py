"""The live stream WebSocket `/api/v1/stream` (docs/stream.md): auth, replay, live, heartbeats."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any
from urllib.parse import parse_qs

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from konenut.api.deps import actor_for_token, checked_actor
from konenut.api.problems import ApiProblem
from konenut.api.runtime import Runtime
from konenut.app import liaison
from konenut.app.broadcaster import broadcast_counts
from konenut.app.identity import Actor
from konenut.bus.hub import (
    CLOSE_UNAUTHORISED,
    Authorise,
    Identify,
    Progress,
    StreamHub,
    StreamLimits,
    control,
)
from konenut.domain.events import Event, Viewer
from konenut.domain.roles import Role

STREAM_PATH = "/api/v1/stream"
AUTH_TIMEOUT_SECS = 5.0  # contracts §6: the first message, the token, within 5 s
CLOSE_BAD_REQUEST = 4400
CLOSE_TRY_AGAIN_LATER = 1013  # RFC 6455 registry: the server is starting
MAX_CLOSE_REASON_BYTES = 123  # RFC 6455 §5.5: a close frame's body is at most 125 bytes
# A client sends only its auth message (a 43-character token) and pongs; the server (uvicorn's
# ws_max_size) closes with 1009 a frame announcing more, before reading it.
MAX_CLIENT_MESSAGE_BYTES = 4 * 1024
# A liaison device opening the picture is audited once in this long: a phone on a bad network
# that reconnects every minute is one look at the picture, not sixty lines of audit.
LIAISON_VIEW_AUDIT_SECS = 600.0


class StreamClosed(Exception):
    """The stream was closed (by us) while something still wanted to send."""


class AsgiSink:
    """A client's WebSocket as the hub sees it: frames out, and one close."""

    __slots__ = ("_closed", "_send")

    def __init__(self, send: Send) -> None:
        self._send = send
        self._closed = False

    async def send(self, frame: str) -> None:
        if self._closed:
            raise StreamClosed
        await self._send({"type": "websocket.send", "text": frame})

    async def close(self, code: int, reason: str) -> None:
        if self._closed:
            return
        self._closed = True
        clipped = reason.encode()[:MAX_CLOSE_REASON_BYTES].decode(errors="ignore")
        await self._send({"type": "websocket.close", "code": code, "reason": clipped})


def parse_since(query_string: bytes) -> int | None:
    """`since` from the query (0 when absent); None when it is not a whole number >= 0."""
    values = parse_qs(query_string.decode("latin-1")).get("since", ["0"])
    text = values[-1]
    if not text.isdigit() or len(text) > 18:  # seq fits in a signed 64-bit column
        return None
    return int(text)


def token_of(message: Message) -> str | None:
    """The token of an `{"type": "auth", "token": ...}` text message, else None."""
    text = message.get("text")
    if message.get("type") != "websocket.receive" or not isinstance(text, str):
        return None
    try:
        body: Any = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict) or body.get("type") != "auth":
        return None
    token = body.get("token")
    return token if isinstance(token, str) and token else None


class StreamEndpoint:
    """One connection's whole life, as bare ASGI: accept, auth, hello, catch up, listen."""

    def __init__(self, runtime: Runtime, hub: StreamHub) -> None:
        self.runtime = runtime
        self.hub = hub
        self._liaison_seen_at: dict[str, float] = {}  # token id -> when its view was audited

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (await receive())["type"] != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        sink = AsgiSink(send)
        try:
            await self._serve(scope, receive, sink)
        except (OSError, StreamClosed):  # the client went away (uvicorn's ClientDisconnected)
            return

    async def _serve(self, scope: Scope, receive: Receive, sink: AsgiSink) -> None:
        if not self.hub.started:  # tokens are not loaded yet: "unknown token" would be a lie
            await sink.close(CLOSE_TRY_AGAIN_LATER, "starting: catching up with the log")
            return
        since = parse_since(scope.get("query_string", b""))
        if since is None:
            await sink.close(CLOSE_BAD_REQUEST, "since must be a whole number >= 0")
            return
        actor = await self._authenticate(receive, sink)
        if actor is None:
            return
        self._audit_liaison(actor)
        client = self.hub.join(actor.token_id, actor.viewer, sink, expires=self._expires(actor))
        try:
            await sink.send(self._hello(actor, since))
            await self.hub.catch_up(client, since)
            while (await receive())["type"] != "websocket.disconnect":
                self.hub.heard(client)
        finally:
            self.hub.leave(client)

    async def _authenticate(self, receive: Receive, sink: AsgiSink) -> Actor | None:
        try:
            message = await asyncio.wait_for(receive(), AUTH_TIMEOUT_SECS)
        except TimeoutError:
            await sink.close(CLOSE_UNAUTHORISED, f"no auth message within {AUTH_TIMEOUT_SECS:g} s")
            return None
        if message["type"] == "websocket.disconnect":
            return None
        token = token_of(message)
        if token is None:
            await sink.close(CLOSE_UNAUTHORISED, 'the first message must be {"type": "auth", ...}')
            return None
        try:
            return actor_for_token(self.runtime, token)
        except ApiProblem as problem:
            await sink.close(CLOSE_UNAUTHORISED, problem.detail)
            return None

    def _audit_liaison(self, actor: Actor) -> None:
        """Liaison access is audited (contracts §4): `audit.liaison_viewed`, at most once per
        device in LIAISON_VIEW_AUDIT_SECS."""
        if Role.LIAISON not in actor.roles:
            return
        now = time.monotonic()
        last = self._liaison_seen_at.get(actor.token_id)
        if last is not None and now - last < LIAISON_VIEW_AUDIT_SECS:
            return
        self._liaison_seen_at[actor.token_id] = now
        self.runtime.submit_quietly(self.runtime.site_id, liaison.record_view(actor))

    def _expires(self, actor: Actor) -> bool:
        token = self.runtime.store.state(self.runtime.site_id).tokens.get(actor.token_id)
        return token is not None and token.expires_at is not None

    def _hello(self, actor: Actor, since: int) -> str:
        return control(
            "hello",
            self.hub.head,
            since=since,
            roles=sorted(actor.roles),
            heartbeat_secs=self.hub.limits.heartbeat_secs,
        )


class StreamMiddleware:
    """Serves the stream as bare ASGI ahead of FastAPI's routing; everything else passes on.

    Why not a FastAPI WebSocket route: its routing frames and objects stay alive for the whole
    life of each connection. Measured idle on loopback, per connection: bare `websockets`
    server 15 KiB, uvicorn + this middleware 22 KiB, uvicorn + a FastAPI route 31 KiB; the
    budget at 5,000 phones is twice the bare server.
    """

    def __init__(self, app: ASGIApp, endpoint: StreamEndpoint) -> None:
        self.app = app
        self.endpoint = endpoint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket" and scope["path"] == STREAM_PATH:
            await self.endpoint(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def token_authoriser(runtime: Runtime) -> Authorise:
    """Why an open stream's token no longer works (revoked, expired, incident closed), or None."""

    def authorise(token_id: str) -> str | None:
        state = runtime.store.state(runtime.site_id)
        try:
            checked_actor(state, state.tokens.get(token_id), runtime.store.clock())
        except ApiProblem as problem:
            return problem.detail
        return None

    return authorise


def token_identifier(runtime: Runtime) -> Identify:
    """Whom an open stream's token stands for now (its person's household and roles follow
    the registry), or None when it no longer works."""

    def identify(token_id: str) -> Viewer | None:
        state = runtime.store.state(runtime.site_id)
        try:
            return checked_actor(state, state.tokens.get(token_id), runtime.store.clock()).viewer
        except ApiProblem:
            return None

    return identify


def broadcast_progress(runtime: Runtime) -> Progress:
    """A broadcast's households counted by what became of it, from the site's projection."""

    def progress(incident_id: str | None, broadcast_id: str) -> dict[str, int] | None:
        state = runtime.store.state(runtime.site_id)
        incident = state.incidents.get(incident_id or "")
        broadcast = incident.broadcasts.get(broadcast_id) if incident else None
        return None if broadcast is None else broadcast_counts(state, broadcast)

    return progress


def stream_hub(runtime: Runtime) -> StreamHub:
    """The site's hub, reading the log through the runtime's store."""
    store, site_id = runtime.store, runtime.site_id

    async def read(since: int, limit: int) -> list[Event]:
        return await asyncio.to_thread(store.read, site_id, since, limit=limit)

    coalesce_secs = runtime.settings.stream_coalesce_ms / 1000
    return StreamHub(
        site_id,
        read=read,
        latest_seq=lambda: store.state(site_id).seq,
        authorise=token_authoriser(runtime),
        identify=token_identifier(runtime),
        progress=broadcast_progress(runtime),
        limits=dataclasses.replace(StreamLimits.defaults(), coalesce_secs=coalesce_secs),
    )
