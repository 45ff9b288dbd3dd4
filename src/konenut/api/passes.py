"""Redeeming a standing pass over HTTP (volunteer join, household card, guest poster): the
guard against guessed codes and the idempotency scope every redemption shares."""

from __future__ import annotations

from dataclasses import replace

from fastapi import Request
from fastapi.responses import JSONResponse

from konenut.api.deps import command_response
from konenut.api.problems import ApiProblem
from konenut.api.runtime import Runtime
from konenut.api.throttle import refuse_guessers
from konenut.app.passes import pass_code_hash
from konenut.domain.state import SiteState
from konenut.store.eventstore import Decide, IdempotencyKey


def known_pass(runtime: Runtime, request: Request, code: str) -> tuple[SiteState, str]:
    """The site's state and the code's hash; 404 (counted against guessers) if it is unknown."""
    address = refuse_guessers(runtime.enroll_throttle, request)
    state = runtime.store.state(runtime.site_id)
    code_hash = pass_code_hash(state, code)
    if code_hash is None:
        runtime.enroll_throttle.record_failure(address)
        raise ApiProblem(404, "this code is unknown; check it and try again", slug="code-unknown")
    return state, code_hash


async def redeem(
    runtime: Runtime, code_hash: str, idem: IdempotencyKey, decide: Decide
) -> JSONResponse:
    """Run a redemption under the pass's idempotency scope and answer as commands do."""
    # Contracts §4: for passes the key's scope is (site, pass, key).
    scoped = replace(idem, scope="pass:" + code_hash[:40])
    return command_response(await runtime.run(runtime.site_id, decide, scoped))
