"""Redeeming a standing pass over HTTP (volunteer join, household card, guest poster): the
guard against guessed codes and the idempotency scope every redemption shares."""

from __future__ import annotations

from dataclasses import replace

import structlog
from fastapi import Request
from fastapi.responses import JSONResponse

from konenut.api.deps import command_response
from konenut.api.problems import ApiProblem
from konenut.api.runtime import Runtime
from konenut.api.throttle import CodeSpace, client_address, refuse_guessers, refuse_over
from konenut.app import handlers
from konenut.app.guests import guest_settings
from konenut.app.passes import pass_code_hash
from konenut.domain.state import PassView, SiteState
from konenut.store.eventstore import Decide, IdempotencyKey

log = structlog.get_logger(__name__)


def known_pass(runtime: Runtime, request: Request, code: str) -> tuple[SiteState, str]:
    """The site's state and the code's hash; 404 (counted against guessers) if it is unknown."""
    address = refuse_guessing(runtime, request, CodeSpace.PASS)
    state = runtime.store.state(runtime.site_id)
    code_hash = pass_code_hash(state, code)
    if code_hash is None:
        count_wrong_code(runtime, address, CodeSpace.PASS)
        raise ApiProblem(404, "this code is unknown; check it and try again", slug="code-unknown")
    return state, code_hash


def refuse_guessing(runtime: Runtime, request: Request, space: CodeSpace) -> str:
    """The caller's address; 429 when it, or all addresses together, sent too many wrong codes
    of this kind in the last minute (checked before the code is: a guess learns nothing)."""
    address = refuse_guessers(runtime.enroll_throttle, request)
    runtime.guessing.refuse_if_flooded(space)
    return address


def count_wrong_code(runtime: Runtime, address: str, space: CodeSpace) -> None:
    """Count an unknown code against its address and its kind; the first to reach the limit
    of the kind alarms those who run the squad (`code_guessing.detected`)."""
    runtime.enroll_throttle.record_failure(address)
    if runtime.guessing.record_failure(space):
        limit, window = runtime.guessing.throttle.limit, runtime.guessing.throttle.window_secs
        log.warning("code guessing", code_space=space.value, failures=limit)
        alarm = handlers.record_guessing(space.value, limit, round(window))
        runtime.submit_quietly(runtime.site_id, alarm)


async def redeem(
    runtime: Runtime, code_hash: str, idem: IdempotencyKey, decide: Decide
) -> JSONResponse:
    """Run a redemption under the pass's idempotency scope and answer as commands do."""
    # Contracts §4: for passes the key's scope is (site, pass, key).
    scoped = replace(idem, scope="pass:" + code_hash[:40])
    return command_response(await runtime.run(runtime.site_id, decide, scoped))


TOO_MANY_FROM_HERE = "too many check-ins from this address; wait a minute and try again"
TOO_MANY_ON_POSTER = "too many check-ins by this poster just now; wait a minute and try again"


def throttle_redemption(
    runtime: Runtime, request: Request, state: SiteState, found: PassView
) -> None:
    """429 when this address, or this poster, redeemed too often in the last minute (the site's
    [guests] limits); otherwise the attempt counts against both."""
    address = client_address(request)
    refuse_redemption(runtime, state, address, found.pass_id)
    throttle = runtime.guest_throttle
    # Counted as attempts: a retry, a refusal, a success.
    throttle.record_failure("address:" + address)
    throttle.record_failure("poster:" + found.pass_id)


def refuse_redemption(runtime: Runtime, state: SiteState, address: str, pass_id: str) -> None:
    """429 when this address, or this poster, redeemed too often in the last minute."""
    caps = guest_settings(state)
    throttle = runtime.guest_throttle
    by_address, by_poster = "address:" + address, "poster:" + pass_id
    refuse_over(throttle, by_address, TOO_MANY_FROM_HERE, caps.redemptions_per_address_per_min)
    refuse_over(throttle, by_poster, TOO_MANY_ON_POSTER, caps.redemptions_per_poster_per_min)
