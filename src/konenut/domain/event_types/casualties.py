"""Casualties: reported, triaged (START), treated, assigned to a medic, moved, and how each ends."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, Field, StringConstraints

from konenut.domain.event_types.vocabulary import Id, Name, Ref, Stamp, Text
from konenut.domain.events import EventType, Payload, Scope, Visibility
from konenut.domain.roles import Role

Note = Annotated[str, StringConstraints(max_length=1000)]
Severity = Literal["minor", "serious", "critical"]


class TriageCategory(StrEnum):
    """START triage categories."""

    IMMEDIATE = "immediate"
    DELAYED = "delayed"
    MINOR = "minor"
    EXPECTANT = "expectant"
    DEAD = "dead"


class CasualtyState(StrEnum):
    REPORTED = "reported"
    ASSIGNED = "assigned"
    TREATING = "treating"
    HANDED_OVER = "handed_over"
    EVACUATED = "evacuated"
    DIED = "died"


class TreatmentKind(StrEnum):
    TOURNIQUET = "tourniquet"
    PRESSURE_DRESSING = "pressure_dressing"
    CHEST_SEAL = "chest_seal"
    AIRWAY = "airway"
    SPLINT = "splint"
    FLUIDS = "fluids"
    PAIN_RELIEF = "pain_relief"
    OTHER = "other"


class CasualtyFields(BaseModel):
    """What a reporter knows of a casualty (where comes as the event's location or a ref)."""

    count: int = Field(default=1, ge=1, le=100)
    building_ref: Ref | None = None
    name: Name | None = None
    severity: Severity | None = None
    text: Note = ""


class Linked(Payload):
    """Every casualty event names its casualty, the household it concerns (its own phones see
    the status) and the medics it is for (none: every medic; Scope.TARGETED)."""

    casualty_id: Id
    household_id: Id | None = None
    medic_ids: list[Id] = Field(default_factory=list, max_length=2)


class CasualtyReported(Linked, CasualtyFields):
    tag: Annotated[str, StringConstraints(pattern=r"^C-[0-9]{2,5}$")]
    person_id: Id | None = None  # a wounded member of the squad
    source: Literal["squad", "resident", "responder"] = "squad"
    # The check-in or status that opened it (app/casualties.py: never twice for one household
    # or person while its casualty is open).
    opened_by_event: Id | None = None


class CasualtyTriaged(Linked):
    category: TriageCategory
    injuries: list[Text] = Field(default_factory=list, max_length=20)
    note: Note = ""


class CasualtyTreated(Linked):
    treatment: TreatmentKind
    applied_at: Stamp  # a tourniquet's time is what the next medic needs most
    note: Note = ""


class CasualtyAssigned(Linked):
    medic_id: Id
    # Only when the commander lets the household know who is coming.
    medic_name: Name | None = None


class CasualtyStatusChanged(Linked):
    state: CasualtyState
    note: Note = ""
    evacuation_id: Id | None = None  # the evacuation that took it (issue 14, item 3)


class CasualtyMoved(Linked):
    collection_point_ref: Ref


# Need to know: names, injuries, treatments, categories and who treats them go to those who
# run the squad, the medics and the liaison; a responder sees where the wounded are and how
# many; a household sees only its own casualty's status, never residents' neighbours, guests or
# volunteers (attackers may hold their phones).
CASUALTY_PRIVATE_FIELDS = frozenset(
    {
        "name",
        "text",
        "note",
        "injuries",
        "treatment",
        "applied_at",
        "category",
        "person_id",
        "medic_id",
        "medic_ids",
        "opened_by_event",
        "treatments",
        "triage",
        "reported_by",
    }
)


def casualty_audience(payload: type[Payload], household_sees: bool) -> dict[Role, Visibility]:
    """Who sees a casualty event of this payload, hiding the private fields it has."""
    hidden = CASUALTY_PRIVATE_FIELDS & frozenset(payload.model_fields)
    audience = {
        Role.COMMANDER: Visibility(Scope.ALL),
        Role.OPERATOR: Visibility(Scope.ALL),
        Role.MEDIC: Visibility(Scope.TARGETED),  # the unassigned and their own
        Role.RESPONDER: Visibility(Scope.ALL, hide=hidden),
        Role.LIAISON: Visibility(Scope.INCIDENT),
    }
    if household_sees:  # that a medic was asked for and is coming
        audience[Role.RESIDENT] = Visibility(Scope.OWN, hide=hidden, envelope=False)
    return audience


def _casualty_type(name: str, payload: type[Payload], household_sees: bool) -> EventType:
    return EventType(
        name,
        1,
        payload,
        casualty_audience(payload, household_sees),
        household_field="household_id",
        targets_field="medic_ids",
        requires_incident=True,
    )


CASUALTY_EVENT_TYPES: tuple[EventType, ...] = (
    _casualty_type("casualty.reported", CasualtyReported, household_sees=True),
    _casualty_type("casualty.triaged", CasualtyTriaged, household_sees=False),
    _casualty_type("casualty.treated", CasualtyTreated, household_sees=False),
    _casualty_type("casualty.assigned", CasualtyAssigned, household_sees=True),
    _casualty_type("casualty.status_changed", CasualtyStatusChanged, household_sees=False),
    _casualty_type("casualty.moved", CasualtyMoved, household_sees=False),
)
