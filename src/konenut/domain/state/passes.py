"""Standing passes in the projection: what each gives, whether it still works, how often used."""

from __future__ import annotations

from typing import TYPE_CHECKING, TypedDict, cast

from konenut.domain.events import Event
from konenut.domain.ids import format_time
from konenut.domain.state.view import Applier, View, at

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class PassView(View):
    """A standing pass (contracts §4): what redeeming its code gives, and how often it was."""

    pass_id: str
    purpose: str
    role: str
    incident_id: str | None = None
    household_id: str | None = None
    building_ref: str | None = None
    max_devices: int | None = None
    expires_at: str | None = None
    code_hash: str
    unit_name: str | None = None
    radio_code_hash: str | None = None
    issued_at: str
    issued_by: str | None = None
    revoked_at: str | None = None
    redeemed: int = 0


class PassRevokedPayload(TypedDict):
    pass_id: str


class PassRedeemedPayload(TypedDict):
    pass_id: str
    token_id: str


def _pass_issued(state: SiteState, event: Event) -> None:
    issued = PassView(**event.payload, issued_at=at(event), issued_by=event.actor)
    state.passes[issued.pass_id] = issued
    state._pass_by_hash[issued.code_hash] = issued.pass_id
    if issued.radio_code_hash is not None:  # a liaison pass's short code opens it too
        state._pass_by_hash[issued.radio_code_hash] = issued.pass_id


def _pass_revoked(state: SiteState, event: Event) -> None:
    revoked = state.passes.get(cast(PassRevokedPayload, event.payload)["pass_id"])
    if revoked is not None and revoked.revoked_at is None:
        revoked.revoked_at = format_time(event.recorded_at)


def _pass_redeemed(state: SiteState, event: Event) -> None:
    p = cast(PassRedeemedPayload, event.payload)
    redeemed = state.passes.get(p["pass_id"])
    if redeemed is not None:
        redeemed.redeemed += 1
    token = state.tokens.get(p["token_id"])
    if token is not None:
        token.pass_id = p["pass_id"]


APPLIERS: dict[str, Applier] = {
    "pass.issued": _pass_issued,
    "pass.revoked": _pass_revoked,
    "audit.pass_redeemed": _pass_redeemed,
}
