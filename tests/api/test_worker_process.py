"""An HTTP worker process's app (issue 13 item 4), in-process: its store is a replica fed by the
writer's link, its commands are decided by the writer, once, with the writer's policies.

The writer here is the seeded site's own store and app; the worker is a second app over a
`ReplicaStore` joined to it through a real `WriterLink` socket (tests/e2e/test_workers.py
runs the same as separate processes behind `konenut serve --workers`).
"""

from __future__ import annotations

import dataclasses
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from konenut import bootstrap
from konenut.api.routes.stream import STREAM_PATH
from konenut.domain.roles import Role
from konenut.server import create_app
from konenut.store.writer_link import WriterLink

from .conftest import Site
from .test_caution import HOUSE_14, at, cautions_after, household_in, inc, position, sighting

READY_WAIT_SECS = 10.0


@contextmanager
def worker_of(site: Site) -> Iterator[Site]:
    """The seeded site as a worker process serves it: same store underneath, another app."""
    with tempfile.TemporaryDirectory(prefix="konenut-") as run_dir:
        link = WriterLink(site.store, Path(run_dir) / "writer.sock")
        link.start()
        writer_settings = site.client.app.state.runtime.settings
        settings = writer_settings.model_copy(update={"workers": 2})
        replica = bootstrap.replica_store(settings, link.path)
        try:
            with TestClient(create_app(settings, replica)) as client:
                _wait_ready(client)
                yield dataclasses.replace(site, client=client)
        finally:
            replica.close()
            link.close()


@pytest.fixture
def worker(site: Site) -> Iterator[Site]:
    with worker_of(site) as serving:
        yield serving


def _wait_ready(client: TestClient) -> None:
    """The worker loads its projections in the background, as a server does."""
    deadline = time.monotonic() + READY_WAIT_SECS
    while client.get("/readyz").status_code != 200:
        assert time.monotonic() < deadline, "the worker did not get ready"
        time.sleep(0.02)


def test_a_check_in_through_a_worker_is_decided_once_and_read_back_there(
    site: Site, worker: Site
) -> None:
    seq = site.head()
    checked = worker.post(
        f"{inc(site)}/households/{site.seeded.household_id}/check-ins",
        Role.RESIDENT,
        json={"status": "safe", "people_count": 3},
    )
    assert checked.status_code == 201, checked.text
    [event] = checked.json()["events"]
    assert event["seq"] == seq + 1
    assert [e.type for e in site.events_after(seq)] == ["household.checked_in"]
    # The worker applied the event before it answered: its own board shows it at once.
    board = worker.get(f"{inc(site)}/accountability", Role.OPERATOR)
    assert board.status_code == 200, board.text
    [row] = [h for h in board.json()["households"] if h["household_id"] == site.seeded.household_id]
    assert (row["state"], row["people_count"]) == ("safe", 3)


def test_a_refusal_decided_by_the_writer_reaches_the_caller_through_the_worker(
    site: Site, worker: Site
) -> None:
    seq = site.head()
    unknown = worker.post(
        f"{inc(site)}/households/01a0ffff-0000-7000-8000-000000000000/check-ins",
        Role.OPERATOR,
        json={"status": "safe"},
    )
    assert unknown.status_code == 404, unknown.text
    assert "no household" in unknown.json()["detail"]
    assert site.events_after(seq) == []


def test_a_retry_through_the_worker_is_answered_from_the_writers_record(
    site: Site, worker: Site
) -> None:
    path = f"{inc(site)}/households/{site.seeded.household_id}/check-ins"
    first = worker.post(path, Role.RESIDENT, json={"status": "safe"}, key="retry-1")
    again = site.post(path, Role.RESIDENT, json={"status": "safe"}, key="retry-1")
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert [e.type for e in site.events_after(first.json()["events"][0]["seq"] - 1)] == [
        "household.checked_in"
    ]


def test_a_caution_raised_through_a_worker_is_raised_once(site: Site, worker: Site) -> None:
    """The writer runs the policies for every commit; the worker's replica runs none."""
    household_id = household_in(worker, "14", "adult", "adult")
    position(worker, Role.RESPONDER, at(HOUSE_14, north_m=-60))
    sighting(worker, at(HOUSE_14, north_m=-40))
    seq = site.head()
    checked = worker.post(
        f"{inc(site)}/households/{household_id}/check-ins", Role.OPERATOR, json={"status": "safe"}
    )
    assert checked.status_code == 201, checked.text
    [caution] = cautions_after(site, seq)
    assert caution["building_refs"] == ["14"]


def test_a_viewer_on_the_worker_sees_what_the_writer_appends(site: Site, worker: Site) -> None:
    with worker.client.websocket_connect(f"{STREAM_PATH}?since={site.head()}") as ws:
        ws.send_text(orjson.dumps({"type": "auth", "token": site.token(Role.OPERATOR)}).decode())
        assert orjson.loads(ws.receive_text())["type"] == "hello"
        reported = site.post(
            f"{inc(site)}/sightings",
            Role.RESPONDER,
            json={"category": "hostile", "count": 4, "location": at(HOUSE_14, north_m=-300)},
        )
        assert reported.status_code == 201, reported.text
        frame = orjson.loads(ws.receive_text())
        while "." not in frame["type"]:  # control messages have no dot in their type
            frame = orjson.loads(ws.receive_text())
    assert frame["type"] == "sighting.reported"
    assert frame["payload"]["count"] == 4


def test_each_process_refuses_at_its_share_of_a_code_limit(worker: Site) -> None:
    runtime = worker.client.app.state.runtime
    assert runtime.settings.workers == 2
    assert runtime.enroll_throttle.share_of(10) == 5
    assert runtime.guessing.throttle.share_of(runtime.settings.code_guesses_per_min) == (
        runtime.settings.code_guesses_per_min // 2
    )


def test_refusals_a_worker_counted_are_recorded_when_it_stops(site: Site) -> None:
    """A clean stop records the refusals still being counted (api/denials.py), from a worker
    too: its last commands reach the writer before it lets go of the link."""
    seq = site.head()
    with worker_of(site) as worker:
        for _ in range(3):
            assert worker.get("/api/v1/site/people", Role.RESIDENT).status_code == 403
    site.flush()
    denied = [e for e in site.events_after(seq) if e.type == "audit.access_denied"]
    assert sum(e.payload.get("count", 1) for e in denied) == 3
