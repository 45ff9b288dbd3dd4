"""kill -9 of a server mid-append: every acknowledged append is in the log (contracts §2).

A real `konenut serve` on SQLite is SIGKILLed while clients append check-ins as fast as they
can; after a restart, every event whose 201 reached a client is in the log, the seq has no gap,
and every key ever sent is stored exactly once once its sender retries. Twice over. The durability
settings that make this hold across a power cut too (WAL, synchronous=FULL) are asserted as
well: a process kill alone cannot tell them apart from weaker ones.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from helpers import SITE, open_store, seed_site
from konenut.domain.roles import Role
from konenut.store import schema
from konenut.store.engines import create_engines, durability_settings
from konenut.store.eventstore import EventStore
from server import KonenutServer

CLIENT_THREADS = 4  # several commands in flight: the kill lands inside a group commit
ACKS_BEFORE_KILL = 150
WAIT_FOR_ACKS = 120.0  # a safety net for a broken server, not a speed requirement
ROUNDS = 2


@dataclass
class Appender:
    """Client threads that post check-ins until the server goes away."""

    base_url: str
    token: str
    path: str
    prefix: str
    acked: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> event of the 201
    in_flight: dict[str, dict[str, Any]] = field(default_factory=dict)  # key -> body, no answer
    failures: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> None:
        self.threads = [
            threading.Thread(target=self._run, args=(t,), daemon=True)
            for t in range(CLIENT_THREADS)
        ]
        for thread in self.threads:
            thread.start()

    def _run(self, t: int) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.base_url, headers=headers, timeout=30.0) as client:
            for i in range(1_000_000):
                key = f"{self.prefix}-t{t}-{i}"
                body = {"status": "safe", "people_count": i % 5, "text": f"{key} בבית"}
                with self.lock:
                    self.in_flight[key] = body
                try:
                    answer = client.post(self.path, json=body, headers={"Idempotency-Key": key})
                except httpx.TransportError:
                    return  # the server is gone; this key may or may not be stored
                with self.lock:
                    if answer.status_code != 201 or "Idempotent-Replayed" in answer.headers:
                        self.failures.append(f"{key}: {answer.status_code} {answer.text}")
                        return
                    del self.in_flight[key]
                    self.acked[key] = answer.json()["events"][0]

    def wait_for_acks(self, count: int) -> None:
        deadline = time.monotonic() + WAIT_FOR_ACKS
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.acked) >= count or self.failures:
                    return
            if not any(thread.is_alive() for thread in self.threads):
                return
            time.sleep(0.01)

    def join(self) -> None:
        for thread in self.threads:
            thread.join(timeout=60)
            assert not thread.is_alive(), "a client thread did not notice the server is gone"


def read_log(url: str) -> list[tuple[int, str, str]]:
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


def assert_durability_settings(db_file: Path, url: str) -> None:
    with sqlite3.connect(db_file) as raw:  # a plain connection: the mode is in the file
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    store = EventStore(url)  # the engines the server uses
    try:
        for engine in (store.writer_engine, store.reader_engine):
            assert durability_settings(engine) == {"journal_mode": "wal", "synchronous": "FULL"}
    finally:
        store.close()


def test_acknowledged_appends_survive_kill_9(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    db_file = data_dir / "konenut.db"
    url = f"sqlite:///{db_file}"
    store = open_store(url)
    try:
        seeded = seed_site(store)
    finally:
        store.close()
    path = f"/api/v1/incidents/{seeded.incident_id}/households/{seeded.household_id}/check-ins"
    token = seeded.tokens[Role.COMMANDER]

    acked: dict[str, dict[str, Any]] = {}
    keys: dict[str, dict[str, Any]] = {}  # every key ever sent, with its body
    server = KonenutServer(data_dir)
    try:
        server.start()
        for round_ in range(1, ROUNDS + 1):
            appender = Appender(server.url, token, path, prefix=f"round{round_}")
            appender.start()
            appender.wait_for_acks(ACKS_BEFORE_KILL)
            server.kill()  # SIGKILL, mid-append
            appender.join()
            assert not appender.failures, appender.failures[:5]
            assert len(appender.acked) >= ACKS_BEFORE_KILL
            assert len(appender.in_flight) <= CLIENT_THREADS
            acked.update(appender.acked)
            keys.update(appender.in_flight)
            keys.update({k: {} for k in appender.acked})

            assert Path(f"{db_file}-wal").exists()  # killed with its write-ahead log in use
            assert_durability_settings(db_file, url)

            server.start()
            log = read_log(url)
            assert [seq for seq, _, _ in log] == list(range(1, len(log) + 1))
            stored = {event_id for _, event_id, _ in log}
            lost = [k for k, event in acked.items() if event["id"] not in stored]
            assert not lost, f"{len(lost)} acknowledged appends were lost: {lost[:5]}"
            by_id = {event_id: seq for seq, event_id, _ in log}
            assert all(by_id[event["id"]] == event["seq"] for event in acked.values())
            with server.client() as client:
                ready = client.get("/readyz")
            assert ready.status_code == 200 and ready.json()["seq"] == len(log)

            # The senders retry what got no answer: each key ends up stored exactly once.
            with server.client(headers={"Authorization": f"Bearer {token}"}) as client:
                for key, body in appender.in_flight.items():
                    retry = client.post(path, json=body, headers={"Idempotency-Key": key})
                    assert retry.status_code == 201, retry.text
                    acked[key] = retry.json()["events"][0]
                for key in list(appender.acked)[:: max(1, len(appender.acked) // 10)]:
                    body = {"status": "safe", "people_count": int(key.rsplit("-", 1)[1]) % 5}
                    body["text"] = f"{key} בבית"
                    again = client.post(path, json=body, headers={"Idempotency-Key": key})
                    assert again.status_code == 201, again.text
                    assert again.headers["Idempotent-Replayed"] == "true"
                    assert again.json()["events"][0] == acked[key]
            log = read_log(url)
            check_ins = [i for _, i, t in log if t == "household.checked_in"]
            assert len(check_ins) == len(keys) == len(acked)
            assert sorted(check_ins) == sorted(event["id"] for event in acked.values())
            assert [seq for seq, _, _ in log] == list(range(1, len(log) + 1))
    finally:
        server.stop()
