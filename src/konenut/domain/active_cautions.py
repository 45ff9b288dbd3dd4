"""Which caution warnings still stand: what a page opened after them must show."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from konenut.domain.caution import LIVE
from konenut.domain.events import Event, JsonDict
from konenut.domain.state import IncidentView

# A caution older than this is history (the map ages its sighting instead); it is also the
# map's "recent" bucket, so a warning is shown as long as its cause is drawn as recent.
ACTIVE_FOR = timedelta(minutes=10)


def still_active(event: Event, incident: IncidentView, now: datetime) -> bool:
    """Raised in the last ACTIVE_FOR, in an open incident, and about a sighting (if any) that
    is still live: not dismissed, neutralised or merged away; or about an intruder report that
    still stands (nobody inside said otherwise, no operator cleared it)."""
    if event.type != "caution.raised" or incident.closed_at is not None:
        return False
    if now - event.occurred_at > ACTIVE_FOR:
        return False
    if event.payload["kind"] == "intruder_inside":
        return event.payload.get("building_ref") in incident.intruder_since
    sighting_id = event.payload.get("sighting_id")
    if sighting_id is None:
        return True
    sighting = incident.sightings.get(sighting_id)
    return sighting is not None and sighting.status in LIVE


def active(events: Iterable[Event], incident: IncidentView, now: datetime) -> list[Event]:
    """The still-active cautions among `events`, newest first."""
    found = [e for e in events if still_active(e, incident, now)]
    return sorted(found, key=lambda e: e.seq, reverse=True)


def as_last_told(shown: Iterable[JsonDict]) -> list[JsonDict]:
    """Cautions as a reader was shown them (newest first), each only as last told: a caution
    told again (the same caution_id, updated) replaces what it said before."""
    seen: set[str] = set()
    found = []
    for body in shown:
        caution_id = body["payload"]["caution_id"]
        if caution_id not in seen:
            seen.add(caution_id)
            found.append(body)
    return found
