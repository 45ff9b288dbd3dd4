"""Supply requests from the field: asked, given a runner, delivered or cancelled; the inventory."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import Field, StringConstraints

from konenut.app.commands import Command
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers.events import new_event
from konenut.app.handlers.incidents import in_open_incident
from konenut.app.handlers.site import plan_building
from konenut.app.identity import Actor
from konenut.domain.errors import FieldInvalid, NotFound
from konenut.domain.event_types.supplies import (
    INVENTORY_MAX_QUANTITY,
    SUPPLY_MAX_QUANTITY,
    Calibre,
    Note,
)
from konenut.domain.event_types.vocabulary import Id, Ref
from konenut.domain.events import Location, NewEvent
from konenut.domain.ids import new_id
from konenut.domain.on_site import SIGHTING_MARGIN_M, check_on_site
from konenut.domain.state import IncidentView, SiteState, SupplyView
from konenut.domain.supplies import (
    SupplyKind,
    SupplyState,
    Urgency,
    check_calibre,
    check_transition,
    item_key,
)


class RequestSupply(Command):
    """Ask for supplies: what, how many, how urgent, and where (a point on the map or the
    asker's position as `location`, and/or a house of the plan)."""

    kind: SupplyKind
    calibre: Calibre | None = Field(default=None, description="Ammunition only: 5.56, 9mm, ...")
    quantity: int = Field(ge=1, le=SUPPLY_MAX_QUANTITY)
    urgency: Urgency = Urgency.URGENT
    building_ref: Ref | None = None
    text: Note = ""


class AssignRunner(Command):
    runner_person_id: Id


class DeliverSupply(Command):
    """The runner (or the commander) says it arrived."""


class CancelSupply(Command):
    text: Annotated[str, StringConstraints(max_length=300, strip_whitespace=True)] = ""


class SetInventory(Command):
    """What the site holds of one item now, and under what count it is low."""

    kind: SupplyKind
    calibre: Calibre | None = None
    quantity: int = Field(ge=0, le=INVENTORY_MAX_QUANTITY)
    low_below: int = Field(default=0, ge=0, le=INVENTORY_MAX_QUANTITY)


def check_place(state: SiteState, location: Location | None, building_ref: str | None) -> None:
    """A place is a point near the site and/or a house on its plan (422 naming the field)."""
    if location is None and building_ref is None:
        raise FieldInvalid("body.location", "say where: a point on the map, a house, or here")
    check_on_site(state.site, location, "body.location", SIGHTING_MARGIN_M)
    if building_ref is not None:
        try:
            plan_building(state, building_ref)
        except NotFound as exc:
            raise FieldInvalid("body.building_ref", exc.detail) from exc


def request_supply(actor: Actor, incident_id: str, cmd: RequestSupply) -> Decide:
    supply_id = new_id()

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        check_calibre(cmd.kind, cmd.calibre)
        check_place(state, cmd.location, cmd.building_ref)
        payload = {
            "supply_id": supply_id,
            **cmd.model_dump(exclude={"occurred_at", "location"}, exclude_none=True),
        }
        return [
            new_event("supply.requested", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner, {"supply_id": supply_id})


def supply_in(incident: IncidentView, supply_id: str) -> SupplyView:
    supply = incident.supplies.get(supply_id)
    if supply is None:
        raise NotFound(f"no supply request {supply_id} in incident {incident.ref}")
    return supply


def _step(
    actor: Actor, incident_id: str, supply_id: str, cmd: Command, to: SupplyState, **fields: Any
) -> Decide:
    """A change of a request's state, as its state machine allows."""

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        supply = supply_in(incident, supply_id)
        check_transition(supply.state, to)
        payload = {"supply_id": supply_id, **fields}
        type_ = f"supply.{to.value}"
        return [new_event(type_, payload, actor=actor, cmd=cmd, now=now, incident=incident)]

    return in_open_incident(incident_id, inner)


def assign_runner(actor: Actor, incident_id: str, supply_id: str, cmd: AssignRunner) -> Decide:
    check = _step(
        actor,
        incident_id,
        supply_id,
        cmd,
        SupplyState.ASSIGNED,
        runner_person_id=cmd.runner_person_id,
    )

    def decide(state: SiteState, now: datetime) -> Decision:
        if cmd.runner_person_id not in state.persons:
            raise FieldInvalid("body.runner_person_id", f"no person {cmd.runner_person_id}")
        return check(state, now)

    return decide


def deliver_supply(actor: Actor, incident_id: str, supply_id: str, cmd: DeliverSupply) -> Decide:
    return _step(actor, incident_id, supply_id, cmd, SupplyState.DELIVERED)


def cancel_supply(actor: Actor, incident_id: str, supply_id: str, cmd: CancelSupply) -> Decide:
    fields = {"text": cmd.text} if cmd.text else {}
    return _step(actor, incident_id, supply_id, cmd, SupplyState.CANCELLED, **fields)


def set_inventory(actor: Actor | None, cmd: SetInventory) -> Decide:
    """Count one item. The same count and threshold as last set change nothing, even after
    deliveries drew on it: applying an unchanged site file mid-incident restocks nothing."""

    def decide(state: SiteState, now: datetime) -> Decision:
        check_calibre(cmd.kind, cmd.calibre)
        payload = cmd.model_dump(exclude={"occurred_at", "location"}, exclude_none=True)
        current = state.inventory.get(item_key(cmd.kind, cmd.calibre))
        if current is not None and (current.counted, current.low_below) == (
            cmd.quantity,
            cmd.low_below,
        ):
            return Decision()  # nothing changed
        return Decision([new_event("inventory.set", payload, actor=actor, cmd=cmd, now=now)])

    return decide
