"""Standing passes (contracts §4): codes printed or posted for many devices, stored as hashes.

A pass is generic (its purpose, role and scope say what redeeming it gives); what each purpose
creates on redemption lives with that purpose (app/volunteers.py for volunteer_join).
"""

from __future__ import annotations

import base64
import io
from datetime import datetime, timedelta
from typing import Any

import segno
from pydantic import Field

from konenut.app.commands import Body, Command
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import new_event, open_incident_of, revoke_tokens
from konenut.app.identity import (
    PASS_CODE_CHARS,
    Actor,
    hash_code,
    legacy_code_hash,
    new_code,
    normalise_code,
)
from konenut.domain.errors import DomainError, NotFound
from konenut.domain.event_types import Lang
from konenut.domain.events import NewEvent
from konenut.domain.ids import format_time, new_id
from konenut.domain.roles import Role
from konenut.domain.state import PassView, SiteState
from konenut.security.qr import QR_BORDER_MODULES, QR_ERROR_LEVEL, format_code

VOLUNTEER_PASS_TTL = timedelta(hours=12)  # a join QR on a wall must not outlive the night
QR_SCALE = 6  # pixels per module: sharp on a phone held up to another phone


class IssueVolunteerPass(Command):
    language: Lang = Field(default="he", description="The language of the join page the link opens")
    ttl_secs: int | None = Field(
        default=None, ge=60, le=int(VOLUNTEER_PASS_TTL.total_seconds()), description="Default: 12 h"
    )


class RevokePass(Body):
    reason: str = Field(default="", max_length=500)
    keep_devices: bool = Field(
        default=False,
        description="Keep the devices the pass enrolled working (a lost household card whose "
        "family phones stay); by default they are revoked with it",
    )


class PassRefused(DomainError):
    """A pass code that cannot be redeemed; `slug` says why (unknown, revoked, expired...)."""

    def __init__(self, status: int, slug: str, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug


def pass_link(base_url: str, code: str, lang: str) -> str:
    """The link printed on a pass: the code travels in the #fragment, never to servers or logs."""
    return f"{base_url.rstrip('/')}/{lang}/p#{normalise_code(code)}"


def qr_data_url(data: str) -> str:
    """A PNG QR code of `data` as a data: URL, ready for an <img> on the commander's screen."""
    buffer = io.BytesIO()
    qr = segno.make_qr(data, error=QR_ERROR_LEVEL, boost_error=False)
    qr.save(buffer, kind="png", scale=QR_SCALE, border=QR_BORDER_MODULES)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def issue_volunteer_pass(
    actor: Actor | None, incident_id: str, cmd: IssueVolunteerPass, code: str
) -> Decide:
    """A join-as-volunteer pass for an open incident: many devices, each a pending volunteer."""
    pass_id = new_id()
    ttl = timedelta(seconds=cmd.ttl_secs) if cmd.ttl_secs else VOLUNTEER_PASS_TTL

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        expires_at = format_time(now + ttl)
        payload: dict[str, Any] = {
            "pass_id": pass_id,
            "purpose": "volunteer_join",
            "role": Role.VOLUNTEER.value,
            "incident_id": incident_id,
            "expires_at": expires_at,
            "code_hash": hash_code(state.code_key, code),
        }
        event = new_event("pass.issued", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        return Decision(
            [event],
            secrets={"code": format_code(code)},
            extra={"pass_id": pass_id, "expires_at": expires_at, "incident_id": incident_id},
        )

    return decide


def new_pass_code() -> str:
    return new_code(PASS_CODE_CHARS)


def revoke_pass(actor: Actor | None, pass_id: str, cmd: RevokePass) -> Decide:
    def decide(state: SiteState, now: datetime) -> Decision:
        found = state.passes.get(pass_id)
        if found is None:
            raise NotFound(f"no pass {pass_id}")
        if found.revoked_at is not None:
            return Decision(extra={"revoked_at": found.revoked_at})
        incident = state.incidents.get(found.incident_id) if found.incident_id else None
        payload = {"pass_id": pass_id, "reason": cmd.reason}
        revoked = new_event(
            "pass.revoked", payload, actor=actor, cmd=None, now=now, incident=incident
        )
        devices = [] if cmd.keep_devices else _live_devices_of(state, pass_id)
        ended = revoke_tokens(state, devices, cmd.reason or "pass revoked", actor, now)
        return Decision([revoked, *ended], extra={"devices_revoked": len(devices)})

    return decide


def _live_devices_of(state: SiteState, pass_id: str) -> list[str]:
    return [
        t.token_id
        for t in list(state.tokens.values())
        if t.pass_id == pass_id and t.revoked_at is None
    ]


def pass_code_hash(state: SiteState, code: str) -> str | None:
    """The hash a pass of this code is stored under: keyed, or (a pass printed before codes
    were keyed) the legacy one; None when no pass has this code."""
    for code_hash in (hash_code(state.code_key, code), legacy_code_hash(code)):
        if state.pass_by_hash(code_hash) is not None:
            return code_hash
    return None


def redeemable(state: SiteState, code: str, purpose: str, now: datetime) -> PassView:
    """The pass this code opens, if it may be redeemed now; PassRefused says precisely why not."""
    code_hash = pass_code_hash(state, code)
    found = state.pass_by_hash(code_hash) if code_hash else None
    if found is None or found.purpose != purpose:
        raise PassRefused(404, "code-unknown", "this code is unknown; check it and try again")
    if found.revoked_at is not None:
        raise PassRefused(409, "pass-revoked", "this pass was withdrawn; ask for a new one")
    if found.expires_at is not None and found.expires_at <= format_time(now):
        raise PassRefused(409, "pass-expired", "this pass has expired; ask for a new one")
    if found.max_devices is not None and found.redeemed >= found.max_devices:
        raise PassRefused(409, "pass-used-up", "this pass was used by as many devices as it may")
    if found.incident_id is not None:
        incident = state.incidents.get(found.incident_id)
        if incident is None or not incident.is_open:
            raise PassRefused(409, "incident-closed", "the incident of this pass is over")
    return found


def redemption_events(
    found: PassView,
    *,
    token_id: str,
    token_hash: str,
    subject_id: str,
    subject_kind: str,
    now: datetime,
    incident_id: str | None,
    drill: bool,
    expires_at: str | None = None,
) -> tuple[NewEvent, NewEvent]:
    """The device token a redemption creates (working until `expires_at`, if given), and its
    audit record (contracts §4)."""
    enrolled = {
        "token_id": token_id,
        "token_hash": token_hash,
        "subject_id": subject_id,
        "subject_kind": subject_kind,
        "roles": [found.role],
        "household_id": found.household_id,
        "incident_id": found.incident_id,
        "expires_at": expires_at,
    }
    audit = {
        "pass_id": found.pass_id,
        "purpose": found.purpose,
        "token_id": token_id,
        "subject_id": subject_id,
        "subject_kind": subject_kind,
    }
    common: dict[str, Any] = {"occurred_at": now, "actor": subject_id, "device": token_id}
    return (
        NewEvent(
            type="device.enrolled",
            payload={k: v for k, v in enrolled.items() if v is not None},
            **common,
        ),
        NewEvent(
            type="audit.pass_redeemed",
            payload=audit,
            incident_id=incident_id,
            drill=drill,
            **common,
        ),
    )
