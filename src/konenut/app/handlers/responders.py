"""The squad in an incident: the muster call, responders' statuses, positions."""

from __future__ import annotations

from datetime import datetime

from konenut.app import commands as c
from konenut.app.decisions import Decide
from konenut.app.handlers.events import new_event
from konenut.app.handlers.incidents import in_open_incident
from konenut.app.handlers.people import subject_person
from konenut.app.identity import Actor
from konenut.domain.errors import NotFound
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.on_site import POSITION_MARGIN_M, check_on_site
from konenut.domain.state import IncidentView, SiteState


def call_muster(actor: Actor, incident_id: str, cmd: c.CallMuster) -> Decide:
    muster_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        unknown = [p for p in cmd.targets if p not in state.persons]
        if unknown:
            raise NotFound(f"no person(s) {', '.join(unknown[:5])}")
        payload = {
            "muster_id": muster_id,
            "rally_point_ref": cmd.rally_point_ref,
            "text": cmd.text,
            "targets": cmd.targets,
        }
        return [
            new_event("muster.called", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner, {"muster_id": muster_id})


def change_responder_status(actor: Actor, incident_id: str, cmd: c.ChangeResponderStatus) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        person_id = subject_person(state, actor, cmd.person_id)
        payload = {
            "person_id": person_id,
            "status": cmd.status.value,
            "eta_secs": cmd.eta_secs,
            "note": cmd.note,
            "via": cmd.via,
        }
        return [
            new_event(
                "responder.status_changed",
                payload,
                actor=actor,
                cmd=cmd,
                now=now,
                incident=incident,
            )
        ]

    return in_open_incident(incident_id, inner)


def report_position(actor: Actor, incident_id: str, cmd: c.ReportPosition) -> Decide:
    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        subject_id = cmd.subject_id or actor.subject_id
        check_on_site(state.site, cmd.location, "body.location", POSITION_MARGIN_M)
        person = state.persons.get(subject_id)
        if person is None and subject_id != actor.subject_id:
            raise NotFound(f"no person {subject_id}")  # a unit placed by hand is a person
        callsign = cmd.callsign or (person.callsign if person else None)
        payload = {
            "subject_id": subject_id,
            "callsign": callsign,
            "source": "app" if subject_id == actor.subject_id else "manual",
        }
        return [
            new_event(
                "position.reported", payload, actor=actor, cmd=cmd, now=now, incident=incident
            )
        ]

    return in_open_incident(incident_id, inner)
