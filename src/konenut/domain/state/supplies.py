"""Supply requests in the projection, and the site's inventory that deliveries draw on."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from konenut.domain.events import Event, JsonDict
from konenut.domain.state.view import Applier, View, at, incident_of
from konenut.domain.supplies import SupplyKind, SupplyState, after_delivery, item_key

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class SupplyView(View):
    supply_id: str
    kind: str
    calibre: str | None = None
    item: str  # the inventory line it draws on (domain/supplies.item_key)
    quantity: int
    urgency: str
    building_ref: str | None = None
    location: JsonDict | None = None
    text: str = ""
    state: str = SupplyState.OPEN.value
    requested_at: str
    requested_by: str | None = None
    runner_person_id: str | None = None
    assigned_at: str | None = None
    closed_at: str | None = None  # delivered or cancelled
    closed_by: str | None = None
    closed_text: str = ""


class InventoryView(View):
    """What the site holds of one item now, and under what count the board says "low"."""

    item: str
    kind: str
    calibre: str | None = None
    quantity: int
    counted: int  # the count as last set, before deliveries drew on it
    low_below: int = 0
    set_at: str


class SupplyRequestedPayload(TypedDict):
    supply_id: str
    kind: str
    calibre: NotRequired[str]
    quantity: int
    urgency: str
    building_ref: NotRequired[str]
    text: NotRequired[str]


class SupplyAssignedPayload(TypedDict):
    supply_id: str
    runner_person_id: str


class SupplyDeliveredPayload(TypedDict):
    supply_id: str


class SupplyCancelledPayload(TypedDict):
    supply_id: str
    text: NotRequired[str]


class InventorySetPayload(TypedDict):
    kind: str
    calibre: NotRequired[str]
    quantity: int
    low_below: int


def _supply_requested(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        p = cast(SupplyRequestedPayload, event.payload)
        incident.supplies[p["supply_id"]] = SupplyView(
            supply_id=p["supply_id"],
            kind=p["kind"],
            calibre=p.get("calibre"),
            item=item_key(SupplyKind(p["kind"]), p.get("calibre")),
            quantity=p["quantity"],
            urgency=p["urgency"],
            building_ref=p.get("building_ref"),
            location=event.location,
            text=p.get("text", ""),
            requested_at=at(event),
            requested_by=event.actor,
        )


def _supply_of(state: SiteState, event: Event) -> SupplyView | None:
    incident = incident_of(state, event)
    supply_id = cast(SupplyDeliveredPayload, event.payload)["supply_id"]  # every supply.*
    return incident.supplies.get(supply_id) if incident else None


def _supply_assigned(state: SiteState, event: Event) -> None:
    if supply := _supply_of(state, event):
        supply.runner_person_id = cast(SupplyAssignedPayload, event.payload)["runner_person_id"]
        supply.assigned_at = at(event)
        supply.state = SupplyState.ASSIGNED.value


def _close(supply: SupplyView, event: Event, to: SupplyState) -> None:
    supply.state = to.value
    supply.closed_at = at(event)
    supply.closed_by = event.actor
    supply.closed_text = cast(SupplyCancelledPayload, event.payload).get("text", "")


def _supply_delivered(state: SiteState, event: Event) -> None:
    if supply := _supply_of(state, event):
        _close(supply, event, SupplyState.DELIVERED)
        stock = state.inventory.get(supply.item)
        if stock is not None and not event.drill:  # a drill's delivery moves no real rounds
            stock.quantity = after_delivery(stock.quantity, supply.quantity)


def _supply_cancelled(state: SiteState, event: Event) -> None:
    if supply := _supply_of(state, event):
        _close(supply, event, SupplyState.CANCELLED)


def _inventory_set(state: SiteState, event: Event) -> None:
    p = cast(InventorySetPayload, event.payload)
    item = item_key(SupplyKind(p["kind"]), p.get("calibre"))
    state.inventory[item] = InventoryView(
        item=item,
        kind=p["kind"],
        calibre=p.get("calibre"),
        quantity=p["quantity"],
        counted=p["quantity"],
        low_below=p["low_below"],
        set_at=at(event),
    )


APPLIERS: dict[str, Applier] = {
    "supply.requested": _supply_requested,
    "supply.assigned": _supply_assigned,
    "supply.delivered": _supply_delivered,
    "supply.cancelled": _supply_cancelled,
    "inventory.set": _inventory_set,
}
