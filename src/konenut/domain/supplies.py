"""Rules of supplies: what the field may ask for, the request's states, and the inventory."""

from __future__ import annotations

from enum import StrEnum

from konenut.domain.errors import FieldInvalid, IllegalTransition


class SupplyKind(StrEnum):
    AMMUNITION = "ammunition"
    WATER = "water"
    TOURNIQUETS = "tourniquets"
    BATTERIES = "batteries"
    KEYS = "keys"
    OTHER = "other"


class Urgency(StrEnum):
    ROUTINE = "routine"
    URGENT = "urgent"
    CRITICAL = "critical"


class SupplyState(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


# Where a request may go from each state. A runner may be replaced while the request is
# assigned (the first one was hit, or is too far); delivered and cancelled are final.
TRANSITIONS: dict[SupplyState, frozenset[SupplyState]] = {
    SupplyState.OPEN: frozenset({SupplyState.ASSIGNED, SupplyState.CANCELLED}),
    SupplyState.ASSIGNED: frozenset(
        {SupplyState.ASSIGNED, SupplyState.DELIVERED, SupplyState.CANCELLED}
    ),
    SupplyState.DELIVERED: frozenset(),
    SupplyState.CANCELLED: frozenset(),
}


def check_transition(state: str, wanted: SupplyState) -> None:
    """Refuse a change the state machine does not allow (409 naming the state)."""
    if wanted not in TRANSITIONS[SupplyState(state)]:
        raise IllegalTransition("this supply request", state, wanted.value)


def item_key(kind: SupplyKind, calibre: str | None) -> str:
    """The inventory line a request draws on: ammunition by calibre, anything else by kind."""
    return f"{kind.value}:{calibre}" if kind is SupplyKind.AMMUNITION else kind.value


def check_calibre(kind: SupplyKind, calibre: str | None, loc: str = "body.calibre") -> None:
    """Ammunition names its calibre; nothing else has one."""
    if kind is SupplyKind.AMMUNITION and not calibre:
        raise FieldInvalid(loc, "ammunition needs its calibre")
    if kind is not SupplyKind.AMMUNITION and calibre:
        raise FieldInvalid(loc, f"{kind.value} has no calibre")


def is_low(on_hand: int, low_below: int) -> bool:
    """The board warns when an item's stock has dropped under its threshold."""
    return on_hand < low_below


def after_delivery(on_hand: int, quantity: int) -> int:
    """What is left once `quantity` went out. The count never goes below nothing: a delivery
    larger than the stock means the count was wrong, and the board shows it empty."""
    return max(0, on_hand - quantity)
