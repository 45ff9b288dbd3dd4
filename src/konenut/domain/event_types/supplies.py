"""Supply requests from the field, their runners, and the site's inventory they draw on."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints

from konenut.domain.event_types.audiences import COMMAND_AUDIENCE, POSITION_AUDIENCE
from konenut.domain.event_types.vocabulary import Id, Ref
from konenut.domain.events import EventType, Payload
from konenut.domain.supplies import SupplyKind, Urgency

# "5.56", "7.62x39", "9mm": what is written on the box.
Calibre = Annotated[str, StringConstraints(min_length=1, max_length=20, strip_whitespace=True)]
Note = Annotated[str, StringConstraints(max_length=300, strip_whitespace=True)]
SUPPLY_MAX_QUANTITY = 100_000  # a crate of rounds is a few thousand; more is a typing slip
INVENTORY_MAX_QUANTITY = 10_000_000


class SupplyRequested(Payload):
    """Asked for from the field; the place is the event's location (a map point or the
    asker's position) and/or a house on the plan."""

    supply_id: Id
    kind: SupplyKind
    calibre: Calibre | None = None  # ammunition only
    quantity: int = Field(ge=1, le=SUPPLY_MAX_QUANTITY)
    urgency: Urgency = Urgency.URGENT
    building_ref: Ref | None = None
    text: Note = ""


class SupplyAssigned(Payload):
    supply_id: Id
    runner_person_id: Id


class SupplyDelivered(Payload):
    supply_id: Id


class SupplyCancelled(Payload):
    supply_id: Id
    text: Note = ""


class InventorySet(Payload):
    """What the site holds of one item (the armory's count), and under what it is "low".
    Site configuration: no incident; a delivered request draws on it."""

    kind: SupplyKind
    calibre: Calibre | None = None
    quantity: int = Field(ge=0, le=INVENTORY_MAX_QUANTITY)
    low_below: int = Field(default=0, ge=0, le=INVENTORY_MAX_QUANTITY)


# The squad sees every request (who is short of what is the squad's picture; a runner may be
# anyone in it), volunteers and the liaison in their incident; never residents or guests (a
# request says where a defender is), never the admin desk. The stock is for those who run it.
SUPPLY_AUDIENCE = POSITION_AUDIENCE
INVENTORY_AUDIENCE = COMMAND_AUDIENCE

SUPPLY_EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "supply.requested",
        1,
        SupplyRequested,
        SUPPLY_AUDIENCE,
        requires_incident=True,
    ),
    EventType("supply.assigned", 1, SupplyAssigned, SUPPLY_AUDIENCE, requires_incident=True),
    EventType("supply.delivered", 1, SupplyDelivered, SUPPLY_AUDIENCE, requires_incident=True),
    EventType("supply.cancelled", 1, SupplyCancelled, SUPPLY_AUDIENCE, requires_incident=True),
    EventType("inventory.set", 1, InventorySet, INVENTORY_AUDIENCE),
)
