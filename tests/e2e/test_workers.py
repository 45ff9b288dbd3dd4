"""`konenut serve --workers 2` (issue 13 item 4): two processes answer on one port, one of them
the site's writer; commands from either are decided once, in order, and a viewer on either
sees everything; a worker that dies is started again; code throttles hold across both."""

from __future__ import annotations

import http.client
import os
import signal
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import orjson
import pytest
from websockets.sync.client import connect

from helpers import Seeded, open_store, seed_site
from konenut.api.routes.stream import STREAM_PATH
from konenut.api.throttle import MAX_FAILURES_PER_WINDOW
from konenut.domain.roles import Role
from server import KonenutServer
from stream.test_ready_after_restart import _first_frame as first_frame
from stream.test_ready_after_restart import _seed as seed_long_log

WAIT_SECS = 20.0
CHECK_INS = 60
WORKER_START_SECS = 8.0  # a worker loads this test's long log well within it


@pytest.fixture
def node(tmp_path: Path) -> Iterator[tuple[KonenutServer, Seeded]]:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        seeded = seed_site(store)
    finally:
        store.close()
    with KonenutServer(data_dir, flags=["--workers", "2"]) as server:
        _wait_for_worker(server)
        yield server, seeded


def _workers(server: KonenutServer) -> list[int]:
    """The pids of the server's HTTP worker processes."""
    assert server.process is not None
    tasks = Path(f"/proc/{server.process.pid}/task")  # a restarted one is its thread's child
    pids = [int(pid) for task in tasks.iterdir() for pid in (task / "children").read_text().split()]
    return [pid for pid in pids if b"spawn_main" in Path(f"/proc/{pid}/cmdline").read_bytes()]


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def _wait_for_worker(server: KonenutServer) -> int:
    deadline = time.monotonic() + WAIT_SECS
    while time.monotonic() < deadline:
        workers = _workers(server)
        if workers:
            return workers[0]
        time.sleep(0.05)
    raise AssertionError("no HTTP worker process started")


def _request(
    server: KonenutServer, method: str, path: str, token: str | None, body: object = None
) -> tuple[int, dict[str, object]]:
    """One request on a new connection: the kernel picks the process that answers it."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=WAIT_SECS)
    headers = {"Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    try:
        connection.request(method, path, body=orjson.dumps(body) if body else None, headers=headers)
        response = connection.getresponse()
        return response.status, orjson.loads(response.read() or b"{}")
    finally:
        connection.close()


def test_check_ins_on_new_connections_are_spread_over_both_and_each_stored_once(
    node: tuple[KonenutServer, Seeded],
) -> None:
    server, seeded = node
    [worker] = _workers(server)
    before = _cpu_ticks(worker)
    path = f"/api/v1/incidents/{seeded.incident_id}/households/{seeded.household_id}/check-ins"
    answers = [
        _request(
            server,
            "POST",
            path,
            seeded.tokens[Role.RESIDENT],
            {"status": "safe", "people_count": n % 5 + 1},
        )
        for n in range(CHECK_INS)
    ]
    assert {status for status, _ in answers} == {201}
    seqs = [body["events"][0]["seq"] for _, body in answers]  # type: ignore[index]
    assert seqs == sorted(set(seqs))  # one writer: each in turn, none twice
    assert _cpu_ticks(worker) > before  # the worker process answered some of them
    status, page = _request(
        server, "GET", f"/api/v1/site/events?since={seqs[0] - 1}", seeded.tokens[Role.COMMANDER]
    )
    assert status == 200
    stored = [e for e in page["events"] if e["type"] == "household.checked_in"]  # type: ignore[index, union-attr]
    assert [e["seq"] for e in stored] == seqs


def test_viewers_on_either_process_see_a_sighting_reported_on_either(
    node: tuple[KonenutServer, Seeded],
) -> None:
    server, seeded = node
    url = f"ws://{server.host}:{server.port}{STREAM_PATH}"
    auth = orjson.dumps({"type": "auth", "token": seeded.tokens[Role.OPERATOR]}).decode()
    with ExitStack() as stack:
        viewers = [
            stack.enter_context(connect(url, compression=None, open_timeout=WAIT_SECS))
            for _ in range(6)
        ]
        for ws in viewers:
            ws.send(auth)
            assert orjson.loads(ws.recv(timeout=WAIT_SECS))["type"] == "hello"
        counts = list(range(1, 5))
        for count in counts:
            status, body = _request(
                server,
                "POST",
                f"/api/v1/incidents/{seeded.incident_id}/sightings",
                seeded.tokens[Role.RESPONDER],
                {"category": "hostile", "count": count, "location": {"lat": 31.3, "lon": 34.6}},
            )
            assert status == 201, body
        for ws in viewers:
            seen: list[int] = []
            while len(seen) < len(counts):
                frame = orjson.loads(ws.recv(timeout=WAIT_SECS))
                if frame["type"] == "sighting.reported":
                    seen.append(frame["payload"]["count"])
            assert seen == counts


def test_a_worker_that_dies_is_started_again_and_the_node_keeps_answering(
    node: tuple[KonenutServer, Seeded],
) -> None:
    server, seeded = node
    [worker] = _workers(server)
    os.kill(worker, signal.SIGKILL)
    deadline = time.monotonic() + WAIT_SECS
    while (current := _workers(server)) in ([], [worker]):
        assert time.monotonic() < deadline, "the dead worker was not started again"
        time.sleep(0.05)
    path = f"/api/v1/incidents/{seeded.incident_id}/households/{seeded.household_id}/check-ins"
    statuses = {
        _request(
            server,
            "POST",
            path,
            seeded.tokens[Role.RESIDENT],
            {"status": "safe", "people_count": 2},
        )[0]
        for _ in range(20)
    }
    assert statuses == {201}
    assert current != [worker]


def test_wrong_codes_on_both_processes_together_stay_within_the_limit(
    node: tuple[KonenutServer, Seeded],
) -> None:
    server, _ = node
    statuses = [
        _request(server, "POST", "/api/v1/enroll", None, {"code": "ZZZZZZZZ"})[0]
        for _ in range(2 * MAX_FAILURES_PER_WINDOW)
    ]
    assert statuses.count(404) <= MAX_FAILURES_PER_WINDOW  # each refuses at its half
    assert 429 in statuses


def test_the_writer_going_takes_its_workers_with_it(tmp_path: Path) -> None:
    """Without the writer no command could be taken: workers leave rather than linger."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    open_store(f"sqlite:///{data_dir / 'konenut.db'}").close()
    server = KonenutServer(data_dir, flags=["--workers", "2"]).start()
    try:
        worker = _wait_for_worker(server)
        assert server.process is not None
        os.kill(server.process.pid, signal.SIGKILL)
        deadline = time.monotonic() + WAIT_SECS
        while Path(f"/proc/{worker}").exists() and _state(worker) != "Z":
            assert time.monotonic() < deadline, "the worker outlived its writer"
            time.sleep(0.05)
    finally:
        server.kill()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return "gone"


def test_a_worker_takes_stream_clients_only_once_it_can_serve_them(tmp_path: Path) -> None:
    """A log longer than the stream's ring: a worker that took connections before its stream
    had loaded turned stream clients away (1013) while the node already said ready."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    token = seed_long_log(data_dir)
    with KonenutServer(data_dir, flags=["--workers", "2"]) as server:
        # Ready is the writer's word: the worker is still starting. Clients keep coming.
        until = time.monotonic() + WORKER_START_SECS
        frames = []
        while time.monotonic() < until:
            frames.append(first_frame(server, token)["type"])
    assert set(frames) == {"hello"}, frames
