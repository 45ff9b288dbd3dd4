"""A lean path for the busiest commands (check-ins, position reports): plain ASGI before FastAPI.

When 2,000 households answer within a second, or 200 phones report where they are every
second, FastAPI's route matching and dependency solving were about half of each command's CPU
(bench/RESULTS.md). This path serves a hot command only when the full stack would serve it the
same way (a working token allowed to run it here, a well-formed Idempotency-Key and JSON body,
the route's own extra precondition) and answers exactly as the route does; it hands every other
request, unread bytes and all, to the full stack, so refusals, their problem bodies and the
denial records stay in one place. The routes stay registered in FastAPI (OpenAPI, tests, any
request this path does not take).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from konenut.api.deps import (
    IDEMPOTENCY_KEY_MAX_CHARS,
    Access,
    actor_for_token,
    request_hash,
)
from konenut.api.problems import ApiProblem
from konenut.api.runtime import Runtime
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import Actor
from konenut.app.permissions import PENDING_VOLUNTEER_OPERATIONS, allowed_scope
from konenut.app.volunteers import PendingVolunteer
from konenut.domain.events import Scope as AccessScope
from konenut.store.eventstore import Decide, IdempotencyKey

MAX_BODY_BYTES = 4096  # a hot command is a few hundred bytes; larger ones take the full stack
IDEMPOTENCY_KEY = re.compile(rf"[\x21-\x7e]{{1,{IDEMPOTENCY_KEY_MAX_CHARS}}}")
WANTED_HEADERS = (b"authorization", b"idempotency-key", b"content-type", b"content-length")

ExceptionHandlers = Mapping[Any, Callable[..., Any]]
CommandT = TypeVar("CommandT", bound=c.Command)


@dataclass(frozen=True)
class HotRoute(Generic[CommandT]):
    """A route this path serves: its URL (first group: the incident), operation and command, the
    handler building its Decide, and what else the route checks before running it."""

    path: re.Pattern[str]
    operation: str
    command: type[CommandT]
    decide: Callable[[Actor, tuple[str, ...], CommandT], Decide]
    # False: the route refuses or treats the call specially (the full stack answers).
    plain: Callable[[Actor, AccessScope, tuple[str, ...], CommandT], bool]


def _own_household(actor: Actor, scope: AccessScope, params: tuple[str, ...], _: Any) -> bool:
    return scope is not AccessScope.OWN or params[1] == actor.household_id


def _own_position(actor: Actor, _: AccessScope, __: tuple[str, ...], cmd: c.ReportPosition) -> bool:
    # A unit placed by hand (operators; 403 for others) is left to the route.
    return cmd.subject_id in (None, actor.subject_id)


HOT_ROUTES: tuple[HotRoute[Any], ...] = (
    HotRoute(
        re.compile(r"/api/v1/incidents/([^/]+)/households/([^/]+)/check-ins"),
        "check_in_household",
        c.CheckIn,
        lambda actor, params, cmd: handlers.check_in(actor, params[0], params[1], cmd),
        _own_household,
    ),
    HotRoute(
        re.compile(r"/api/v1/incidents/([^/]+)/positions"),
        "report_position",
        c.ReportPosition,
        lambda actor, params, cmd: handlers.report_position(actor, params[0], cmd),
        _own_position,
    ),
)

Matched = tuple[HotRoute[Any], tuple[str, ...]]


class FastPath:
    """Serves the HOT_ROUTES' commands without FastAPI."""

    def __init__(self, app: ASGIApp, runtime: Runtime, handlers: ExceptionHandlers) -> None:
        self.app = app
        self.runtime = runtime
        self.handlers = handlers  # the app's exception handlers (api/problems.py)
        self.served: dict[str, int] = {r.operation: 0 for r in HOT_ROUTES}  # per operation

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        match = self._candidate(scope)
        if match is None:
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if headers is None or not _small_json(headers):
            await self.app(scope, receive, send)
            return
        body, messages = await read_body(receive, MAX_BODY_BYTES)
        replay = replaying(messages, receive)
        prepared = None if body is None else self._prepared(scope, headers, body, *match)
        if prepared is None:
            await self.app(scope, replay, send)
            return
        access, decide, idem = prepared
        response: Response
        try:
            response = await access.run(decide, idem)
        except Exception as exc:
            response = await self._problem(scope, exc)
        self.served[access.operation] += 1
        await response(scope, replay, send)

    def _candidate(self, scope: Scope) -> Matched | None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope.get("root_path"):
            return None
        if not self.runtime.store.started:
            return None
        for route in HOT_ROUTES:
            match = route.path.fullmatch(scope["path"])
            if match is not None:
                return route, match.groups()
        return None

    def _prepared(
        self,
        scope: Scope,
        headers: dict[bytes, str],
        body: bytes,
        route: HotRoute[Any],
        params: tuple[str, ...],
    ) -> tuple[Access, Decide, IdempotencyKey] | None:
        """What the route would run, or None when the full stack must answer (or refuse)."""
        key = headers.get(b"idempotency-key")
        scheme, _, token = headers.get(b"authorization", "").partition(" ")
        if key is None or not IDEMPOTENCY_KEY.fullmatch(key) or scheme.lower() != "bearer":
            return None
        if not token:
            return None
        try:
            actor = actor_for_token(self.runtime, token)
            command = route.command.model_validate(orjson.loads(body))
        except (ApiProblem, ValidationError, orjson.JSONDecodeError):
            return None
        operation, incident_id = route.operation, params[0]
        allowed = allowed_scope(operation, actor.roles)
        pending = isinstance(actor, PendingVolunteer)
        if allowed is None or (pending and operation not in PENDING_VOLUNTEER_OPERATIONS):
            return None
        if actor.incident_id not in (None, incident_id):
            return None
        if incident_id not in self.runtime.store.state(actor.site_id).incidents:
            return None
        if not route.plain(actor, allowed, params, command):
            return None
        path = Request(scope).url.path
        idem = IdempotencyKey(scope="", key=key, request_hash=request_hash("POST", path, body))
        access = Access(actor, allowed, self.runtime, operation)
        return access, route.decide(actor, params, command), idem

    async def _problem(self, scope: Scope, exc: Exception) -> Response:
        """The problem response FastAPI's exception middleware would send for `exc`."""
        for kind in type(exc).__mro__:
            if kind is Exception:
                break  # unexpected: the server-error middleware's, as for any route
            handler = self.handlers.get(kind)
            if handler is not None:
                response: Response = await handler(Request(scope), exc)
                return response
        raise exc


def _headers(scope: Scope) -> dict[bytes, str] | None:
    """The headers this path reads (latin-1, as Starlette decodes them); None if one repeats."""
    found: dict[bytes, str] = {}
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered in WANTED_HEADERS:
            if lowered in found:
                return None
            found[lowered] = value.decode("latin-1")
    return found


def _small_json(headers: dict[bytes, str]) -> bool:
    media_type = headers.get(b"content-type", "").split(";")[0].strip().lower()
    length = headers.get(b"content-length", "")
    return media_type == "application/json" and length.isdigit() and int(length) <= MAX_BODY_BYTES


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
