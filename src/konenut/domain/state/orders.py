"""Orders in the projection: whom each was for, and who acknowledged it when."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from pydantic import Field

from konenut.domain.events import Event
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class OrderView(View):
    order_id: str
    text: str
    to_person_ids: list[str]
    to_teams: list[str] = Field(default_factory=list)
    sent_at: str
    sent_by: str | None = None
    acknowledged_by: dict[str, str] = Field(default_factory=dict)  # person -> time


class OrderSentPayload(TypedDict):
    order_id: str
    text: str
    to_person_ids: NotRequired[list[str]]
    to_teams: NotRequired[list[str]]


class OrderAcknowledgedPayload(TypedDict):
    order_id: str
    person_id: str


def _order_sent(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        p = cast(OrderSentPayload, event.payload)
        incident.orders[p["order_id"]] = OrderView(
            order_id=p["order_id"],
            text=p["text"],
            to_person_ids=p.get("to_person_ids", []),
            to_teams=p.get("to_teams", []),
            sent_at=at(event),
            sent_by=event.actor,
        )


def _order_acknowledged(state: SiteState, event: Event) -> None:
    p = cast(OrderAcknowledgedPayload, event.payload)
    incident = incident_of(state, event)
    order = incident.orders.get(p["order_id"]) if incident else None
    if order is not None:
        order.acknowledged_by.setdefault(p["person_id"], at(event))


APPLIERS: dict[str, Applier] = {
    "order.sent": _order_sent,
    "order.acknowledged": _order_acknowledged,
}
