"""Cautions in the projection: the latest for each key, and whom it warned."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from pydantic import Field

from konenut.domain.events import Event, JsonDict
from konenut.domain.ids import format_time, parse_time
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState

CAUTION_REPEAT = timedelta(minutes=5)  # an identical caution is not raised again sooner


class CautionView(View):
    """The latest caution for one key (a sighting and the houses near it, or two units):
    whom it warned within the repeat window, so an identical one is not raised again."""

    caution_id: str
    kind: str
    raised_at: str  # the first of the window
    last_at: str
    warned: list[str] = Field(default_factory=list)  # person ids
    civilians: list[JsonDict] = Field(default_factory=list)  # what is inside, as last told


class CautionRaisedPayload(TypedDict):
    caution_id: str
    kind: str
    key: str
    to_person_ids: list[str]
    civilians: NotRequired[list[JsonDict]]


def _caution_raised(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        p, when = cast(CautionRaisedPayload, event.payload), at(event)
        previous = incident.cautions.get(p["key"])
        if previous is not None and previous.raised_at <= when < _later(previous.raised_at):
            new = [w for w in p["to_person_ids"] if w not in previous.warned]
            previous.warned = [*previous.warned, *new]
            previous.last_at = max(previous.last_at, when)
            previous.civilians = list(p.get("civilians", []))
            return
        incident.cautions[p["key"]] = CautionView(
            caution_id=p["caution_id"],
            kind=p["kind"],
            raised_at=when,
            last_at=when,
            warned=list(p["to_person_ids"]),
            civilians=list(p.get("civilians", [])),
        )


def _later(when: str) -> str:
    """When a caution raised at `when` may be raised again (CAUTION_REPEAT later)."""
    return format_time(parse_time(when) + CAUTION_REPEAT)


APPLIERS: dict[str, Applier] = {"caution.raised": _caution_raised}
