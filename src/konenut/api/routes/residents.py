"""Household cards and guest posters: issuing them, and redeeming them from a phone."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from konenut.api.deps import (
    Access,
    command_response,
    get_runtime,
    idempotency_key,
    incident_for,
    permit,
)
from konenut.api.offload import off_the_loop
from konenut.api.passes import known_pass, redeem, throttle_redemption
from konenut.api.runtime import Runtime
from konenut.app import cards, guests, passes
from konenut.app.commands import Body
from konenut.app.identity import new_token
from konenut.domain.roles import Role
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1", tags=["residents and guests"])

Key = Depends(idempotency_key)


class PassCode(Body):
    code: cards.Code


def _with_link(access: Access, body: dict[str, Any], lang: str) -> dict[str, Any]:
    link = passes.pass_link(access.runtime.links_url(), body["code"], lang)
    return {**body, "link": link, "qr_data_url": passes.qr_data_url(link)}


@router.post(
    "/site/households/{household_id}/card", operation_id="issue_household_card", status_code=201
)
async def issue_household_card(
    household_id: str,
    body: cards.IssueCard,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("issue_household_card")),
) -> JSONResponse:
    """A new card for this household: its code, link and QR, shown only here.

    Up to 10 devices may enrol with it, as residents of this household only; it does not
    expire. The household's previous card is revoked at once (devices it enrolled keep working).
    """
    code = passes.new_pass_code()
    outcome = await access.execute(cards.issue_card(access.actor, household_id, body, code), idem)
    if "code" not in outcome.body:
        return command_response(outcome)
    card = cards.printed_card(access.runtime.links_url(), outcome.body, outcome.body["code"])
    return command_response(replace(outcome, body=card))


@router.post("/site/households/cards", operation_id="issue_household_cards", status_code=201)
async def issue_household_cards(
    body: cards.IssueCards,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("issue_household_cards")),
) -> JSONResponse:
    """Fresh cards to print, one per household, in house-number order (the printable page).

    Each household's previous card is revoked; each card carries its code, link, QR and short
    instructions in the household's languages.
    """
    outcome = await access.execute(cards.issue_cards(access.actor, body), idem)
    codes = outcome.body.get("codes")
    if not isinstance(codes, list):
        return command_response(outcome)
    base_url = access.runtime.links_url()
    cards_and_codes = list(zip(outcome.body["cards"], codes, strict=True))
    # A QR code per household: seconds of CPU for a town, so not on the event loop.
    printed = await off_the_loop(
        lambda: [cards.printed_card(base_url, card, code) for card, code in cards_and_codes]
    )
    answer = {k: v for k, v in outcome.body.items() if k != "codes"}
    return command_response(replace(outcome, body={**answer, "cards": printed}))


@router.post("/passes/inspect", operation_id="inspect_pass")
def inspect_pass(
    request: Request, body: PassCode, runtime: Runtime = Depends(get_runtime)
) -> dict[str, Any]:
    """What a pass's code is for, so that its page shows the right form (stores nothing).

    A guest poster also says its building and whether an incident is open to check in to.
    """
    state, code_hash = known_pass(runtime, request, body.code)
    found = state.pass_by_hash(code_hash)
    assert found is not None
    if found.purpose == guests.PURPOSE:
        return guests.poster_of(state, body.code, runtime.store.clock())
    return {"purpose": found.purpose}


@router.post("/passes/redeem-card", operation_id="redeem_household_card", status_code=201)
async def redeem_household_card(
    request: Request,
    body: cards.RedeemCard,
    idem: IdempotencyKey = Key,
    runtime: Runtime = Depends(get_runtime),
) -> JSONResponse:
    """Enrol this device with a household card: a resident of that household, and no other.

    The answer holds the device token, shown once. The card's 11th device is refused.
    """
    _, code_hash = known_pass(runtime, request, body.code)
    return await redeem(runtime, code_hash, idem, cards.redeem_card(body, new_token()))


@router.post("/passes/redeem-guest", operation_id="redeem_guest_poster", status_code=201)
async def redeem_guest_poster(
    request: Request,
    body: guests.RedeemGuestPoster,
    idem: IdempotencyKey = Key,
    runtime: Runtime = Depends(get_runtime),
) -> JSONResponse:
    """Check in as a guest by a poster: "we are here, N people, in this building".

    Only while a real incident is open (409 no-open-incident otherwise). The answer holds a
    device token bound to that incident: it stops working when the incident closes. The site's
    [guests] caps apply: devices per poster in an incident (409 pass-used-up), people per
    check-in (422), redemptions a minute per address and per poster (429 with Retry-After).
    """
    state, code_hash = known_pass(runtime, request, body.code)
    found = state.pass_by_hash(code_hash)
    assert found is not None
    throttle_redemption(runtime, request, state, found)
    return await redeem(runtime, code_hash, idem, guests.redeem_guest_poster(body, new_token()))


@router.post("/site/guest-posters", operation_id="issue_guest_poster", status_code=201)
async def issue_guest_poster(
    body: guests.IssueGuestPoster,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("issue_guest_poster")),
) -> JSONResponse:
    """A guest poster for a building (or site-wide without one): its code, link and QR.

    It does not expire; revoke it with /passes/{pass_id}/revoke. The code is shown only here.
    """
    code = passes.new_pass_code()
    outcome = await access.execute(guests.issue_guest_poster(access.actor, body, code), idem)
    if "code" not in outcome.body:
        return command_response(outcome)
    return command_response(replace(outcome, body=_with_link(access, outcome.body, body.language)))


@router.get("/guests/me", operation_id="get_my_guest")
def get_my_guest(access: Access = Depends(permit("get_my_guest"))) -> dict[str, Any]:
    """A guest's own check-in: building, people, status, and the incident it is bound to."""
    return guests.my_guest(access.state, access.actor)


@router.get("/incidents/{incident_id}/guests", operation_id="list_guests")
def list_guests(
    incident_id: str, access: Access = Depends(permit("list_guests"))
) -> list[dict[str, Any]]:
    """Guests who checked in by a poster, in the order they came (phones for the command only)."""
    incident_for(access, incident_id)
    with_phone = bool(access.actor.roles & {Role.ADMIN, Role.COMMANDER, Role.OPERATOR})
    return guests.guests_of(access.state, incident_id, with_phone=with_phone)


@router.post(
    "/incidents/{incident_id}/guests/{guest_id}/check-ins",
    operation_id="check_in_guest",
    status_code=201,
)
async def check_in_guest(
    incident_id: str,
    guest_id: str,
    body: guests.GuestCheckIn,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("check_in_guest")),
) -> JSONResponse:
    """A guest's status (safe, need a medic, someone at the door, smoke, left)."""
    incident_for(access, incident_id)
    access.person(guest_id)
    return await access.run(guests.check_in_guest(access.actor, incident_id, guest_id, body), idem)


@router.post(
    "/incidents/{incident_id}/guest-posters/{pass_id}/void",
    operation_id="void_poster_guests",
    status_code=201,
)
async def void_poster_guests(
    incident_id: str,
    pass_id: str,
    body: guests.VoidPosterGuests,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("void_poster_guests")),
) -> JSONResponse:
    """Void everyone this poster brought into the incident, in one tap: they leave the
    occupancy board and the guest list, and their devices are revoked (`voided`: how many).
    The poster itself keeps working; revoke it with /passes/{pass_id}/revoke."""
    incident_for(access, incident_id)
    return await access.run(
        guests.void_poster_guests(access.actor, incident_id, pass_id, body), idem
    )


@router.post(
    "/incidents/{incident_id}/guests/{guest_id}/merge", operation_id="merge_guest", status_code=201
)
async def merge_guest(
    incident_id: str,
    guest_id: str,
    body: guests.MergeGuest,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("merge_guest")),
) -> JSONResponse:
    """The guest belongs with a household the squad knows: one place to account for them."""
    incident_for(access, incident_id)
    return await access.run(guests.merge_guest(access.actor, incident_id, guest_id, body), idem)
