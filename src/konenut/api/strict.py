"""Requests mean one thing: single credentials and keys, and JSON bodies that are I-JSON.

A request two parsers may read differently is refused before anything reads it: one proxy or
client library takes the first `Authorization` header or duplicate JSON key and another the
last (RFC 7493 §2.3), so the same bytes could check in a household as "safe" at one hop and as
"intruder" at the next. JSON bodies must be UTF-8 (RFC 8259 §8.1), without duplicate names,
NaN, Infinity or numbers no double holds (RFC 7493 §2.2).
"""

from __future__ import annotations

import json
from email.message import Message as MediaType
from typing import Any

from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from konenut.api import problems
from konenut.api.limits import COMMAND_BODY_MAX_BYTES, body_limit_bytes, read_body, replaying
from konenut.api.offload import off_the_loop

# Headers a request may carry once: which device, which command, how to read the body.
SINGLE_HEADERS = (b"authorization", b"idempotency-key", b"content-type", b"content-length")
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class NotIJson(ValueError):
    """The body parses only by a lenient reading (or not at all)."""


def _unique_names(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(set(names)) != len(names):
        repeated = next(name for name in names if names.count(name) > 1)
        raise NotIJson(f"the JSON object has the name {repeated!r} more than once")
    return dict(pairs)


def _no_constant(name: str) -> Any:
    raise NotIJson(f"{name} is not a JSON number")


def _finite(text: str) -> float:
    number = float(text)
    if number in (float("inf"), float("-inf")):
        raise NotIJson(f"the JSON number {text[:40]} is out of range")
    return number


def i_json_problem(body: bytes) -> str | None:
    """What makes `body` other than one I-JSON value, or None (also when it is not JSON at
    all: the route answers that as it always has). UnicodeDecodeError when it is not UTF-8."""
    text = body.decode("utf-8")
    try:
        json.loads(
            text, object_pairs_hook=_unique_names, parse_constant=_no_constant, parse_float=_finite
        )
    except json.JSONDecodeError:
        return None
    except NotIJson as exc:
        return str(exc)
    except (RecursionError, ValueError) as exc:  # nesting past the stack, a 5,000-digit integer
        return f"the JSON cannot be read: {exc}"
    return None


def _repeated_header(scope: Scope) -> str | None:
    """The first single header the request carries more than once, if any."""
    seen: set[bytes] = set()
    for name, _ in scope["headers"]:
        lowered: bytes = name.lower()
        if lowered in SINGLE_HEADERS:
            if lowered in seen:
                return lowered.decode("latin-1")
            seen.add(lowered)
    return None


def _is_json(scope: Scope) -> bool:
    """Whether FastAPI would read the body as JSON: no Content-Type, or application/(*+)json."""
    content_type = next((v for n, v in scope["headers"] if n.lower() == b"content-type"), None)
    if content_type is None:
        return True
    media = MediaType()
    media["content-type"] = content_type.decode("latin-1")
    subtype = media.get_content_subtype()
    return media.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


async def body_problem(body: bytes) -> Response | None:
    """The problem with a JSON body, or None (large bodies are checked off the loop)."""
    try:
        if len(body) > COMMAND_BODY_MAX_BYTES:
            problem = await off_the_loop(i_json_problem, body)
        else:
            problem = i_json_problem(body)
    except UnicodeDecodeError:
        return problems.problem(400, "There was an error parsing the body: it is not UTF-8")
    if problem is None:
        return None
    errors = [{"loc": "body", "msg": problem}]
    return problems.problem(422, f"body: {problem}", "validation-error", errors)


class StrictRequests:
    """Plain ASGI, behind the body limits and ahead of FastAPI: a repeated
    single header is 400, a JSON body that is not UTF-8 400, one that is not I-JSON 422."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        repeated = _repeated_header(scope)
        if repeated is not None:
            detail = f"the request has more than one {repeated} header; send it once"
            await problems.problem(400, detail)(scope, receive, send)
            return
        if scope["method"] not in BODY_METHODS or not _is_json(scope):
            await self.app(scope, receive, send)
            return
        # The whole body, as long as the route takes (LimitBodies, outside, refuses longer).
        limit_bytes = body_limit_bytes(scope["method"], scope["path"])
        body, messages = await read_body(receive, limit_bytes)
        problem = None if not body else await body_problem(body)
        if problem is not None:
            await problem(scope, receive, send)
            return
        await self.app(scope, replaying(messages, receive), send)
