"""The hot command routes (check-ins, position reports), served ahead of FastAPI's router.

When 2,000 households answer within a second, or 200 phones report where they are every
second, FastAPI's routing, dependency solving and validation were about half of each command's
CPU (bench/RESULTS.md). `LeanRoutes`, the innermost middleware, holds a `LeanRoute` for each hot
route: a plain Starlette route on the FastAPI route's own path, under Starlette's
`ExceptionMiddleware` with the app's own handlers. It takes a request only when its headers are
what the route would take (a well-formed Idempotency-Key, a plain JSON body of declared length:
otherwise FastAPI's route gets it, unread, and answers), resolves the route's arguments with the
same functions the route's dependencies use (`authenticate`, `permitted`, `keyed`) and calls the
route's own endpoint, which decides everything else (`incident_for`, `Access.check`, i.e.
`app/permissions.authorize`). A body the command refuses is answered with the 422 FastAPI's
validation gives it (the same `RequestValidationError`, rendered by api/problems.py).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from inspect import signature
from typing import Any, get_type_hints

from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Route
from starlette.types import ASGIApp, ExceptionHandler, Receive, Scope, Send

from konenut.api.deps import authenticate, bearer, get_runtime, keyed, permitted, well_formed_key
from konenut.app.commands import Command

HOT_OPERATIONS = frozenset({"check_in_household", "report_position"})
JSON_MEDIA_TYPE = b"application/json"
LEAN_ARGUMENTS = frozenset({"body", "idem", "access"})  # besides the path's parameters

Endpoint = Callable[..., Awaitable[Response]]


class LeanRoute(Route):
    """A hot route's lean twin: the same path and endpoint, without FastAPI's machinery."""

    def __init__(self, route: APIRoute) -> None:
        self.operation = str(route.operation_id)
        self.command: type[Command] = get_type_hints(route.endpoint)["body"]
        self.route_endpoint: Endpoint = route.endpoint
        self.served = 0  # commands this route ran (its endpoint called)
        super().__init__(route.path, self.serve, methods=["POST"], include_in_schema=False)
        _check_parameters(self)

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        """FULL for a request this route takes, NONE for any other (FastAPI's route has it)."""
        match, child_scope = super().matches(scope)
        if match is not Match.FULL or not _lean_headers(scope):
            return Match.NONE, {}
        return match, child_scope

    async def answer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The route as a plain ASGI app under LeanRoutes' ExceptionMiddleware: one Request and
        one exception wrapper (Starlette's Route.handle and request_response added a second of
        each around every hot command, and a layer more to resume after awaiting the writer)."""
        response = await self.serve(Request(scope, receive, send))
        await response(scope, receive, send)

    async def serve(self, request: Request) -> Response:
        runtime = await get_runtime(request)
        actor = await authenticate(await bearer(request), runtime)
        access = permitted(runtime, actor, self.operation)
        body = await request.body()
        command = validated(self.command, body)
        idem = keyed(request, request.headers["idempotency-key"], body)
        self.served += 1
        arguments = {**request.path_params, "body": command, "idem": idem, "access": access}
        return await self.route_endpoint(**arguments)


def validated(command: type[Command], body: bytes) -> Command:
    """The command a JSON body holds, or the RequestValidationError FastAPI raises for it."""
    try:
        return command.model_validate(json.loads(body), from_attributes=True)  # as FastAPI
    except json.JSONDecodeError as exc:
        invalid = {"type": "json_invalid", "loc": ("body", exc.pos), "msg": "JSON decode error"}
        raise RequestValidationError([{**invalid, "input": {}, "ctx": {"error": exc.msg}}]) from exc
    except ValidationError as exc:
        errors = [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        raise RequestValidationError(errors) from exc


def _lean_headers(scope: Scope) -> bool:
    """A well-formed Idempotency-Key and a plain JSON body of declared, non-zero length."""
    headers = dict(scope["headers"])  # StrictRequests refused any of these twice
    key = headers.get(b"idempotency-key", b"").decode("latin-1")
    media_type = headers.get(b"content-type", b"").partition(b";")[0].strip().lower()
    length = headers.get(b"content-length", b"")
    return (
        bool(key)
        and well_formed_key(key)
        and media_type == JSON_MEDIA_TYPE
        and length.isdigit()
        and int(length) > 0
    )


def _check_parameters(route: LeanRoute) -> None:
    """TypeError at start, not at the first check-in, unless the endpoint takes its path's
    parameters and LEAN_ARGUMENTS."""
    takes = set(signature(route.route_endpoint).parameters)
    given = {*route.param_convertors, *LEAN_ARGUMENTS}
    if takes != given:
        raise TypeError(
            f"{route.operation}: a hot route takes {sorted(given)}, not {sorted(takes)}"
        )


class LeanRoutes:
    """Plain ASGI, the innermost middleware: a request a LeanRoute takes is answered by it,
    under Starlette's ExceptionMiddleware with the app's handlers (an unexpected exception goes
    on up, as from any route); any other goes on to FastAPI."""

    def __init__(
        self, app: ASGIApp, routes: Sequence[Any], handlers: Mapping[Any, ExceptionHandler]
    ) -> None:
        self.app = app
        self.routes = [
            LeanRoute(route)
            for route in routes
            if isinstance(route, APIRoute) and route.operation_id in HOT_OPERATIONS
        ]
        handled = {kind: h for kind, h in handlers.items() if kind not in (500, Exception)}
        self.answering = [(r, ExceptionMiddleware(r.answer, handled)) for r in self.routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        for route, answer in self.answering:
            match, child_scope = route.matches(scope)
            if match is Match.FULL:
                scope.update(child_scope)
                await answer(scope, receive, send)
                return
        await self.app(scope, receive, send)
