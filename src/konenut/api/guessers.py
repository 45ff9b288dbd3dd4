"""Plain ASGI: a caller over a code route's limits is refused before it is routed."""

from __future__ import annotations

import orjson
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from konenut.api import problems
from konenut.api.limits import KIB, declared_length, read_body, replaying
from konenut.api.passes import refuse_guessing, refuse_redemption
from konenut.api.problems import ApiProblem
from konenut.api.runtime import Runtime
from konenut.api.throttle import CodeSpace
from konenut.app import guests
from konenut.app.passes import pass_code_hash

# The routes that take a code (api/routes/identity.py, residents.py, volunteers.py,
# liaison.py). Under a flood most requests to them are refused; refused here, a request costs
# no routing, no dependency solving and no validation (bench/flood.py). The routes keep their
# own checks.
CODE_ROUTES: dict[str, CodeSpace] = {
    "/api/v1/enroll": CodeSpace.ENROLLMENT_CODE,
    "/api/v1/passes/redeem": CodeSpace.PASS,
    "/api/v1/passes/redeem-card": CodeSpace.PASS,
    "/api/v1/passes/redeem-guest": CodeSpace.PASS,
    "/api/v1/passes/inspect": CodeSpace.PASS,
    "/api/v1/passes/redeem-liaison": CodeSpace.PASS,  # a link's code or a radio code
}
GUEST_REDEMPTION = "/api/v1/passes/redeem-guest"  # also limited per poster: its code tells which
REDEMPTION_MAX_BYTES = 4 * KIB  # a redemption is a few hundred bytes; larger: left to the route


class RefuseGuessers:
    """Answers 429 (the routes' own problem and Retry-After) to a POST to a code route while
    its address, or its kind of code from all addresses, is over the limit, or (a guest
    poster's redemption) its address or poster redeemed too often; reads no body for the first
    two, and at most a command's few hundred bytes for the poster."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        space = _code_space(scope)
        if space is None:
            await self.app(scope, receive, send)
            return
        try:
            address = refuse_guessing(self.runtime, Request(scope), space)
            if scope["path"] == GUEST_REDEMPTION:
                receive = await self._refuse_busy_poster(scope, receive, address)
        except ApiProblem as refused:
            await problems.problem_for(refused)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    async def _refuse_busy_poster(self, scope: Scope, receive: Receive, address: str) -> Receive:
        """429 if the poster whose code the body holds (or this address) redeemed too often;
        the receive that hands the body on otherwise."""
        if declared_length(scope) > REDEMPTION_MAX_BYTES:
            return receive  # not a redemption the route would take: it answers
        body, messages = await read_body(receive, REDEMPTION_MAX_BYTES)
        state = self.runtime.store.state(self.runtime.site_id)
        code = _code_in(body)
        code_hash = None if code is None else pass_code_hash(state, code)
        found = None if code_hash is None else state.pass_by_hash(code_hash)
        if found is not None and found.purpose == guests.PURPOSE:
            refuse_redemption(self.runtime, state, address, found.pass_id)
        return replaying(messages, receive)


def _code_space(scope: Scope) -> CodeSpace | None:
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    return CODE_ROUTES.get(scope["path"])


def _code_in(body: bytes | None) -> str | None:
    """The `code` of a JSON body, if it has one (anything else is the route's to refuse)."""
    try:
        parsed = orjson.loads(body) if body is not None else None
    except orjson.JSONDecodeError:
        return None
    code = parsed.get("code") if isinstance(parsed, dict) else None
    return code if isinstance(code, str) else None
