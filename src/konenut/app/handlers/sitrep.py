"""The SITREP's audit records: produced (in which format), sent (to which masked target)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from konenut.app.decisions import Decide, Decision
from konenut.app.handlers.events import new_event
from konenut.app.identity import Actor
from konenut.app.permissions import SITREP_RECIPIENTS
from konenut.domain.errors import Forbidden, NotFound
from konenut.domain.roles import Role
from konenut.domain.state import SiteState


def record_produced(actor: Actor | None, incident_id: str, fmt: str, lang: str) -> Decide:
    """`audit.sitrep_produced`: the incident's picture left the system as a report."""
    return _record(actor, incident_id, "audit.sitrep_produced", {"format": fmt, "lang": lang})


def send_requested(
    actor: Actor | None, incident_id: str, person_id: str | None, lang: str
) -> Decide:
    """The short text is about to be sent: `audit.sitrep_produced` (format text), refused
    unless the receiving person may receive a SITREP (app/permissions.SITREP_RECIPIENTS)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        if person_id is not None:
            person = state.persons.get(person_id)
            if person is None:
                raise NotFound(f"no person {person_id}")
            if not SITREP_RECIPIENTS.intersection(Role(r) for r in person.roles):
                raise Forbidden(f"{person.name} holds no role that may receive a SITREP")
        return _record(
            actor, incident_id, "audit.sitrep_produced", {"format": "text", "lang": lang}
        )(state, now)

    return decide


def record_sent(
    actor: Actor | None, incident_id: str, channel: str, to: str, lang: str, sent: bool, detail: str
) -> Decide:
    """`audit.sitrep_sent`: the short text went (or failed to go) to a channel's target."""
    payload = {"channel": channel, "to": to, "lang": lang, "sent": sent, "detail": detail}
    return _record(actor, incident_id, "audit.sitrep_sent", payload)


def _record(actor: Actor | None, incident_id: str, type_: str, payload: dict[str, Any]) -> Decide:
    def decide(state: SiteState, now: datetime) -> Decision:
        incident = state.incidents.get(incident_id)
        return Decision(
            [new_event(type_, payload, actor=actor, cmd=None, now=now, incident=incident)]
        )

    return decide
