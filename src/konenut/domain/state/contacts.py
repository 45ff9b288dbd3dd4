"""Where each person can be reached beyond the app, in the projection."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from konenut.domain.events import Event
from konenut.domain.state.view import Applier, View

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class ContactView(View):
    channel: str
    address: str
    quiet_from: str | None = None
    quiet_until: str | None = None


class ContactPointSetPayload(TypedDict):
    person_id: str
    channel: str
    address: NotRequired[str]  # absent: the channel is removed
    quiet_from: NotRequired[str]
    quiet_until: NotRequired[str]


def _contact_point_set(state: SiteState, event: Event) -> None:
    p = cast(ContactPointSetPayload, event.payload)
    contacts = state.contacts.setdefault(p["person_id"], {})
    address = p.get("address")
    if address is None:
        contacts.pop(p["channel"], None)
        return
    contacts[p["channel"]] = ContactView(
        channel=p["channel"],
        address=address,
        quiet_from=p.get("quiet_from"),
        quiet_until=p.get("quiet_until"),
    )


APPLIERS: dict[str, Applier] = {"contact_point.set": _contact_point_set}
