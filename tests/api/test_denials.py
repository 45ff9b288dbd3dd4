"""Refusals (403) are audited without growing the log without limit (issue 11, item 13).

The first refusal of a token for an operation is recorded at once; the rest of its minute are
one `audit.access_denied` with their count when the minute ends (the node looks every second,
on the store's clock, which the test moves); a flood that goes on is one record a minute.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from helpers import open_store
from konenut.domain.events import Event
from konenut.domain.ids import format_time
from konenut.domain.roles import Role

from .conftest import Clock, Site, serve_site

PEOPLE = "/api/v1/site/people"
EXPORT = "/api/v1/site/households/export.csv"
APPEARS_WITHIN_SECS = 5.0  # contracts §8
PAST_THE_MINUTE = timedelta(seconds=61)


def refused(site: Site, path: str, times: int) -> None:
    for _ in range(times):
        assert site.get(path, Role.RESIDENT).status_code == 403


def records(events: list[Event]) -> list[tuple[str, int]]:
    return [(e.payload["operation"], e.payload.get("count", 1)) for e in events]


def appended_after(site: Site, seq: int) -> list[Event]:
    """What is appended after `seq`, waiting up to 5 s for something (the node's flush)."""
    deadline = time.monotonic() + APPEARS_WITHIN_SECS
    while not (found := site.events_after(seq)) and time.monotonic() < deadline:
        time.sleep(0.1)
    return found


def test_a_flood_of_refusals_is_one_record_a_minute_with_its_count(
    timed: Site, clock: Clock
) -> None:
    site = timed
    before = site.head()
    started = clock.now
    refused(site, PEOPLE, 50)
    refused(site, EXPORT, 1)  # another operation: its own record, at once
    first = site.events_after(before)
    assert records(first) == [("list_people", 1), ("export_households_csv", 1)]
    token_id = site.token_ids[Role.RESIDENT]
    assert first[0].payload["token_id"] == token_id and first[0].device == token_id

    clock.now += PAST_THE_MINUTE
    (counted,) = appended_after(site, first[-1].seq)
    assert counted.type == "audit.access_denied"
    assert counted.payload == {
        "operation": "list_people",
        "reason": first[0].payload["reason"],
        "token_id": token_id,
        "count": 49,
        "first_at": format_time(started),
    }

    refused(site, PEOPLE, 3)  # the flood goes on: counted, not recorded one by one
    assert site.events_after(counted.seq) == []
    clock.now += PAST_THE_MINUTE
    (again,) = appended_after(site, counted.seq)
    assert records([again]) == [("list_people", 3)]

    clock.now += PAST_THE_MINUTE  # a quiet minute: the next refusal is recorded at once
    assert appended_after(site, again.seq) == []  # waited 5 s: a minute with nothing counted
    refused(site, PEOPLE, 1)
    assert records(site.events_after(again.seq)) == [("list_people", 1)]


def test_refusals_counted_when_the_node_stops_are_recorded(tmp_path: Path) -> None:
    with serve_site(tmp_path) as site:
        before = site.head()
        refused(site, PEOPLE, 4)
    reopened = open_store(f"sqlite:///{tmp_path / 'konenut.db'}")
    try:
        assert records(reopened.read("site", before)) == [("list_people", 1), ("list_people", 3)]
    finally:
        reopened.close()
