"""Many writer processes through the real API: every command is stored exactly once.

8 worker processes each send 500 commands (household check-ins and positions) to one site of a
real `konenut serve` subprocess, each with its own Idempotency-Key, and retry some of them
(one after the answer, some twice at the same moment). Then the log holds every command once,
the site's seq has no gap and no duplicate, and retries are answered from the stored response,
also after a server restart; the same key with another body is a 409 problem.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from server import KonenutServer

# The spawned workers import this module: konenut itself is imported only where the test
# process needs it (fixtures and checks), so that 8 workers start in a fraction of a second.

SITE = "site"  # the site `konenut serve` serves (tests.helpers.SITE)
WORKERS = 8
# SQLite gets the full 8 x 500. PostgreSQL gets 8 x 250: the full 8 x 500 passes there too
# (about 40 s of commands on 2 cores), but the store suite has to stay under ~4 minutes.
PER_WORKER = {"sqlite": 500, "postgresql": 250}
RETRY_EVERY = 10  # every 10th command is sent again after its answer (same key, same body)
TWIN_EVERY = 50  # every 50th command is sent twice at the same moment
COMMAND_TYPES = {"household.checked_in", "position.reported"}


@dataclass
class Job:
    base_url: str
    token: str
    worker: int
    incident_id: str
    household_ids: list[str]
    count: int


@dataclass
class Sent:
    """One acknowledged command: how to send it again, and what it answered."""

    token: str
    path: str
    key: str
    body: dict[str, Any]
    answer: dict[str, Any]


@dataclass
class WorkerResult:
    sent: list[Sent] = field(default_factory=list)
    replayed: int = 0
    twins: int = 0
    started: float = 0.0
    finished: float = 0.0
    failures: list[str] = field(default_factory=list)


def _command(job: Job, i: int) -> tuple[str, dict[str, Any]]:
    base = f"/api/v1/incidents/{job.incident_id}"
    if job.worker % 2 == 0:
        household_id = job.household_ids[i % len(job.household_ids)]
        status = ("safe", "not_home", "need_medic")[i % 3]
        body = {"status": status, "people_count": i % 7, "text": f"w{job.worker} #{i} בסדר"}
        return f"{base}/households/{household_id}/check-ins", body
    location = {"lat": 31.5 + i / 1e5, "lon": 34.5 + job.worker / 1e3, "accuracy_m": 5.0}
    return f"{base}/positions", {"location": location, "callsign": f"w{job.worker}-{i}"}


def run_worker(job: Job) -> WorkerResult:
    """One writer process: `count` commands, with sequential and simultaneous retries."""
    result = WorkerResult(started=time.time())
    headers = {"Authorization": f"Bearer {job.token}"}
    with (
        httpx.Client(base_url=job.base_url, headers=headers, timeout=60.0) as client,
        ThreadPoolExecutor(2) as pool,
    ):

        def post(path: str, key: str, body: dict[str, Any]) -> httpx.Response:
            return client.post(path, json=body, headers={"Idempotency-Key": key})

        for i in range(job.count):
            path, body = _command(job, i)
            key = f"w{job.worker}-{i}"
            if i % TWIN_EVERY == TWIN_EVERY // 2:
                pair = [pool.submit(post, path, key, body) for _ in range(2)]
                twins = [f.result() for f in pair]
                replays = sorted(r.headers.get("Idempotent-Replayed") == "true" for r in twins)
                if [r.status_code for r in twins] != [201, 201] or replays != [False, True]:
                    result.failures.append(f"{key} twins: {[r.text for r in twins]}")
                elif twins[0].json() != twins[1].json():
                    result.failures.append(f"{key} twins answered differently")
                result.twins += 1
                first = twins[0]
            else:
                first = post(path, key, body)
                if first.status_code != 201 or "Idempotent-Replayed" in first.headers:
                    result.failures.append(f"{key}: {first.status_code} {first.text}")
                    continue
            result.sent.append(Sent(job.token, path, key, body, first.json()))
            if i % RETRY_EVERY == 0:
                again = post(path, key, body)
                if (
                    again.status_code != 201
                    or again.headers.get("Idempotent-Replayed") != "true"
                    or again.json() != first.json()
                ):
                    result.failures.append(f"{key} retry: {again.status_code} {again.text}")
                result.replayed += 1
    result.finished = time.time()
    return result


# --- the site and the server ------------------------------------------------------------------
@dataclass
class Site:
    url: str
    data_dir: Path
    incident_id: str
    household_ids: list[str]
    commander: str
    operators: list[str]
    head: int
    per_worker: int


@pytest.fixture(params=["sqlite", "postgresql"])
def site(request: pytest.FixtureRequest, tmp_path: Path) -> Site:
    """A seeded site (before any server starts) with one operator device per worker."""
    from helpers import enrol, open_store, seed_site
    from konenut.app import commands as c
    from konenut.app import handlers
    from konenut.domain.roles import Role

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'konenut.db'}"  # where `konenut serve` looks for it
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    store = open_store(url)
    try:
        seeded = seed_site(store)
        operators = []
        for w in range(WORKERS):
            cmd = c.AddPerson(ref=f"op-{w}", name=f"Operator {w}", roles=[Role.OPERATOR])
            person_id = str(store.execute(SITE, handlers.add_person(None, cmd)).body["person_id"])
            token, _ = enrol(store, c.IssueEnrollmentCode(subject_id=person_id))
            operators.append(token)
        head = store.head(SITE)
    finally:
        store.close()
    return Site(
        url=url,
        data_dir=data_dir,
        incident_id=seeded.incident_id,
        household_ids=[seeded.household_id, seeded.other_household_id],
        commander=seeded.tokens[Role.COMMANDER],
        operators=operators,
        head=head,
        per_worker=PER_WORKER[request.param],
    )


@pytest.fixture
def server(site: Site) -> Iterator[KonenutServer]:
    database_url = None if site.url.startswith("sqlite") else site.url
    running = KonenutServer(site.data_dir, database_url=database_url)
    try:
        yield running.start()
    finally:
        running.stop()


def read_log(url: str) -> list[tuple[int, str, str]]:
    """(seq, id, type) of every event of the site, straight from the database."""
    import sqlalchemy as sa

    from konenut.store import schema
    from konenut.store.engines import create_engines

    engine = create_engines(url)[1]
    try:
        e = schema.events.c
        with engine.connect() as connection:
            rows = connection.execute(
                sa.select(e.seq, e.id, e.type).where(e.site_id == SITE).order_by(e.seq)
            )
            return [(int(r.seq), str(r.id), str(r.type)) for r in rows]
    finally:
        engine.dispose()


def read_log_through_api(server: KonenutServer, token: str) -> list[dict[str, Any]]:
    """The whole site log as the commander sees it, page by page."""
    events: list[dict[str, Any]] = []
    since = 0
    with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        while True:
            page = client.get("/api/v1/site/events", params={"since": since, "limit": 5000})
            assert page.status_code == 200, page.text
            data = page.json()
            events.extend(data["events"])
            if data["next_since"] is None:
                return events
            assert data["next_since"] > since
            since = data["next_since"]


def test_writer_processes_store_every_command_once(
    site: Site, server: KonenutServer, record_property: Any
) -> None:
    per_worker = site.per_worker
    jobs = [
        Job(server.url, site.operators[w], w, site.incident_id, site.household_ids, per_worker)
        for w in range(WORKERS)
    ]
    with ProcessPoolExecutor(WORKERS, mp_context=multiprocessing.get_context("spawn")) as pool:
        results = list(pool.map(run_worker, jobs))

    failures = [f for r in results for f in r.failures]
    assert not failures, failures[:10]
    sent = [s for r in results for s in r.sent]
    assert len(sent) == WORKERS * per_worker
    acked_ids = [e["id"] for s in sent for e in s.answer["events"]]
    acked_seqs = [e["seq"] for s in sent for e in s.answer["events"]]
    assert len(acked_ids) == WORKERS * per_worker  # one event per command
    assert len(set(acked_ids)) == len(acked_ids) and len(set(acked_seqs)) == len(acked_seqs)

    # Through the API, as the commander: exactly these 4,000 events, each once.
    seen = [e for e in read_log_through_api(server, site.commander) if e["type"] in COMMAND_TYPES]
    assert sorted(e["id"] for e in seen) == sorted(acked_ids)
    assert {e["id"]: e["seq"] for e in seen} == dict(zip(acked_ids, acked_seqs, strict=True))

    # In the database: seq 1..N without a gap or a duplicate, nothing but the commands added.
    log = read_log(site.url)
    assert [seq for seq, _, _ in log] == list(range(1, len(log) + 1))
    # Beside the commands, only the policies' follow-ups: a casualty opened for each household
    # that called for a medic (app/policies.py), once, however often it called.
    follow_ups = [t for _, _, t in log[site.head :] if t not in COMMAND_TYPES]
    assert follow_ups == ["casualty.reported"] * len(site.household_ids)
    assert len(log) == site.head + WORKERS * per_worker + len(follow_ups)
    assert sorted(i for _, i, t in log if t in COMMAND_TYPES) == sorted(acked_ids)
    assert len({i for _, i, _ in log}) == len(log)

    seconds = max(r.finished for r in results) - min(r.started for r in results)
    replayed = sum(r.replayed for r in results) + sum(r.twins for r in results)
    record_property("events_per_second", round(WORKERS * per_worker / seconds))
    record_property("replayed", replayed)
    print(
        f"\n{WORKERS}x{per_worker} commands through the API in {seconds:.1f} s: "
        f"{WORKERS * per_worker / seconds:.0f} events/s; {replayed} retries replayed"
    )

    # After a restart the keys still answer from the store, and nothing is appended.
    server.stop()
    server.start()
    head = len(log)
    sample = [r.sent[j] for r in results for j in (0, 7, per_worker // 2 + 3)]
    for item in sample:
        with server.client(headers={"Authorization": f"Bearer {item.token}"}) as client:
            again = client.post(item.path, json=item.body, headers={"Idempotency-Key": item.key})
            assert again.status_code == 201, again.text
            assert again.headers["Idempotent-Replayed"] == "true"
            assert again.json() == item.answer

            field = "callsign" if "callsign" in item.body else "text"
            changed = {**item.body, field: "another body"}  # the same key, another body
            conflict = client.post(item.path, json=changed, headers={"Idempotency-Key": item.key})
            assert conflict.status_code == 409
            assert conflict.headers["content-type"].startswith("application/problem+json")
            problem = conflict.json()
            assert problem["type"] == "urn:konenut:problem:idempotency-key-reused"
            assert problem["status"] == 409 and problem["title"] and problem["detail"]
    assert [seq for seq, _, _ in read_log(site.url)] == list(range(1, head + 1))

    # The same key from another device is another command.
    item = sample[0]
    with server.client(headers={"Authorization": f"Bearer {site.commander}"}) as client:
        other = client.post(item.path, json=item.body, headers={"Idempotency-Key": item.key})
    assert other.status_code == 201 and "Idempotent-Replayed" not in other.headers
    assert other.json()["events"][0]["seq"] == head + 1
