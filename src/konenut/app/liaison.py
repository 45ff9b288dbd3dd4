"""Liaison passes: the arriving police or army unit sees the incident's picture, read-only.

A liaison pass is a standing pass (app/passes.py) of purpose `liaison`, made for one named unit:
a link and QR carrying its 16-character code, and a short code of digits to read out over the
radio. Each device that redeems either becomes a liaison token of the pass (the pass is its
subject), bound to the incident and working until the pass expires, up to the pass's cap of
devices. Revoking the pass revokes its devices (their streams close at once).
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from konenut.app.commands import Body, Command
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import new_event, open_incident_of
from konenut.app.identity import Actor, hash_code, hash_secret
from konenut.app.passes import redeemable, redemption_events
from konenut.domain.event_types import Lang
from konenut.domain.ids import format_time, new_id
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.state import PassView, SiteState
from konenut.security.qr import format_code

PURPOSE = "liaison"
LIAISON_PASS_TTL = timedelta(hours=12)  # a shift of the arriving unit, not a standing account
LONGEST_LIAISON_PASS = timedelta(hours=24)
DEFAULT_LIAISON_DEVICES = 3  # the unit's commander, their radio operator, one more
MAX_LIAISON_DEVICES = 20
# 12 digits are 40 bits, as many as a one-time enrollment code's 8 base32 characters, under the
# same guessing throttles (api/throttle.py); digits are read out alike in every language.
RADIO_CODE_DIGITS = 12
RADIO_GROUP_DIGITS = 4  # read out as three groups of four


UnitName = Annotated[str, StringConstraints(min_length=1, max_length=100, strip_whitespace=True)]


class IssueLiaisonPass(Command):
    unit_name: UnitName = Field(description="The arriving unit, as it calls itself on the radio")
    language: Lang = Field(default="he", description="The language of the page the link opens")
    max_devices: int = Field(
        default=DEFAULT_LIAISON_DEVICES,
        ge=1,
        le=MAX_LIAISON_DEVICES,
        description="How many of the unit's devices may redeem the pass",
    )
    ttl_secs: int = Field(
        default=int(LIAISON_PASS_TTL.total_seconds()),
        ge=600,
        le=int(LONGEST_LIAISON_PASS.total_seconds()),
        description="How long the pass and its devices work (default 12 h), or until the "
        "incident closes",
    )


class RedeemLiaisonPass(Body):
    code: Annotated[str, StringConstraints(min_length=RADIO_CODE_DIGITS, max_length=40)] = Field(
        description="The pass's 16-character code (from its link or QR) or its 12-digit radio "
        "code; dashes and spaces are ignored"
    )


def new_radio_code() -> str:
    return f"{secrets.randbelow(10**RADIO_CODE_DIGITS):0{RADIO_CODE_DIGITS}d}"


def format_radio_code(code: str) -> str:
    """ "482109375512" -> "4821 0937 5512": three groups to read out."""
    step = RADIO_GROUP_DIGITS
    return " ".join(code[i : i + step] for i in range(0, len(code), step))


def issue_liaison_pass(
    actor: Actor | None, incident_id: str, cmd: IssueLiaisonPass, code: str, radio_code: str
) -> Decide:
    """A liaison pass for one arriving unit in an open incident."""
    pass_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        expires_at = format_time(now + timedelta(seconds=cmd.ttl_secs))
        payload: dict[str, Any] = {
            "pass_id": pass_id,
            "purpose": PURPOSE,
            "role": Role.LIAISON.value,
            "incident_id": incident_id,
            "max_devices": cmd.max_devices,
            "expires_at": expires_at,
            "code_hash": hash_code(state.code_key, code),
            "radio_code_hash": hash_code(state.code_key, radio_code),
            "unit_name": cmd.unit_name,
        }
        event = new_event("pass.issued", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        return Decision(
            [event],
            secrets={"code": format_code(code), "radio_code": format_radio_code(radio_code)},
            extra={
                "pass_id": pass_id,
                "unit_name": cmd.unit_name,
                "incident_id": incident_id,
                "max_devices": cmd.max_devices,
                "expires_at": expires_at,
            },
        )

    return decide


def redeem_liaison_pass(cmd: RedeemLiaisonPass, token: str) -> Decide:
    """One more device of the unit: a liaison token of the pass, until the pass expires."""
    token_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        found = redeemable(state, cmd.code, PURPOSE, now)
        incident = open_incident_of(state, found.incident_id or "")
        events = redemption_events(
            found,
            token_id=token_id,
            token_hash=hash_secret(token),
            subject_id=found.pass_id,  # contracts §4: a liaison pass is the subject
            subject_kind=SubjectKind.LIAISON.value,
            now=now,
            incident_id=incident.incident_id,
            drill=incident.drill,
            expires_at=found.expires_at,
        )
        return Decision(
            list(events),
            secrets={"token": token},
            extra={"token_id": token_id, **_public(found), "devices": found.redeemed + 1},
        )

    return decide


def _public(found: PassView) -> dict[str, Any]:
    return found.model_dump(
        include={"pass_id", "unit_name", "incident_id", "max_devices", "expires_at"}
    )


def liaison_passes_of(state: SiteState, incident_id: str) -> list[dict[str, Any]]:
    """The incident's liaison passes, newest first: who they are for, how many devices each
    enrolled (and how many still work), until when, and whether they were withdrawn."""
    working: dict[str, int] = {}
    for token in list(state.tokens.values()):
        if token.pass_id is not None and token.revoked_at is None:
            working[token.pass_id] = working.get(token.pass_id, 0) + 1
    rows = [
        {
            **_public(found),
            "issued_at": found.issued_at,
            "revoked_at": found.revoked_at,
            "redeemed": found.redeemed,
            "devices_working": working.get(found.pass_id, 0),
        }
        for found in list(state.passes.values())
        if found.purpose == PURPOSE and found.incident_id == incident_id
    ]
    return sorted(rows, key=lambda row: row["issued_at"], reverse=True)


def my_liaison_pass(state: SiteState, actor: Actor) -> dict[str, Any]:
    """The calling liaison device's pass: the unit, the incident, until when it works."""
    found = state.passes.get(actor.subject_id)
    token = state.tokens.get(actor.token_id)
    return {
        "pass_id": found.pass_id if found else None,
        "unit_name": found.unit_name if found else None,
        "incident_id": actor.incident_id,
        "expires_at": token.expires_at if token else None,
    }


def record_view(actor: Actor) -> Decide:
    """`audit.liaison_viewed`: a liaison device opened the live picture (contracts §4: liaison
    access is audited; api/routes/stream.py records it)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        found = state.passes.get(actor.subject_id)
        payload = {"token_id": actor.token_id}
        if found is not None:
            payload["pass_id"] = found.pass_id
        incident = state.incidents.get(actor.incident_id or "")
        viewed = new_event(
            "audit.liaison_viewed", payload, actor=actor, cmd=None, now=now, incident=incident
        )
        return Decision([viewed])

    return decide
