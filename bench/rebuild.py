"""Cold start at town scale: the projections rebuilt from a long log, and a restart to /readyz.

  fill     a SQLite data dir is seeded with H households (a resident device each), R responders
           (a device each) and an open incident, then its log is filled to N events through the
           store's writer (group commit, the path every command takes): responders' positions,
           households' check-ins and now and then a hostile sighting, the mix of an attack's
           first hours. The store snapshots as it goes (every SNAPSHOT_EVERY_EVENTS events).
  rebuild  the whole log folded into a fresh SiteState (`EventStore.rebuild`: read every row,
           build each Event, apply it), beside two floors measured in the same run: the store
           reading every event without applying it (`iter_all`), and a bare `sqlite3` loop
           that selects every row and decodes its payload with orjson. Figures per 1,000,000
           events; target (issue 13 item 6): rebuild < 10 s per 1,000,000 events.
  restart  `konenut serve` on the filled data dir, killed with SIGKILL, started again: the
           time from the process start to `/readyz` answering 200, and to a commander's
           stream connection receiving its hello (every surface up), beside the same start on
           an empty data dir (the floor: interpreter, imports, migrations check, uvicorn).
           Target: restart to /readyz < 2 s at 1,000,000 events.

Run from the repository root:  .venv/bin/python bench/rebuild.py [--events N] [--quick]
(1,000,000 events: about 3 minutes on 2 cores, most of it filling the log; `--quick` is
100,000). Loopback only, temporary files only; filling the log is bounded by --max-seconds,
each start by bench/checkins.py's READY_TIMEOUT_SECS.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import websockets

from konenut.app.decisions import Decide, Decision
from konenut.domain.state import SiteState

sys.path.insert(0, str(Path(__file__).resolve().parent))
import checkins as checkinsbench  # bench/checkins.py: the server helpers and the machine line

DEFAULT_EVENTS = 1_000_000
QUICK_EVENTS = 100_000
HOUSEHOLDS = 2_000
RESPONDERS = 200
COMMANDS_PER_ROUND = 100  # submitted at once: the writer group-commits them
EVENTS_PER_COMMAND = 100  # each command carries this many reports (filling 1,000,000 is quicker)
SIGHTING_EVERY = 200  # one command in this many reports a hostile sighting
ORIGIN = (34.60, 31.40)  # (lon, lat)
TARGET_REBUILD_SECS_PER_MILLION = 10.0
TARGET_RESTART_SECS = 2.0
MILLION = 1_000_000
READY_POLL_SECS = 0.01  # /readyz is asked this often: the start is timed to about this


@dataclass
class Seeded:
    data_dir: Path
    site: str
    commander_token: str
    head: int


def fill_log(data_dir: Path, events: int, max_secs: float) -> Seeded:
    """A site whose log holds `events` events, most of them positions and check-ins."""
    from seeding import Seeder

    from konenut import bootstrap
    from konenut.app import commands as c
    from konenut.app import handlers
    from konenut.app.identity import Actor
    from konenut.app.policies import CAUTION
    from konenut.domain.roles import Role, SubjectKind

    seeder = Seeder(data_dir)
    store, site = seeder.store, seeder.site
    # The caution policy looks at every unit near a live sighting on each position appended
    # (issue 13 item 1): filling a long log with it takes hours, and the fill is not measured.
    bootstrap.policies_of(store).unbind(CAUTION)
    try:
        incident = store.execute(site, handlers.open_incident(None, c.OpenIncident(title="Bench")))
        incident_id = str(incident.body["incident_id"])
        households = [
            str(body["household_id"])
            for body in seeder.all_done(
                [
                    handlers.add_household(None, c.AddHousehold(ref=f"h{i}", name=f"House {i}"))
                    for i in range(HOUSEHOLDS)
                ]
            )
        ]
        people = [
            str(body["person_id"])
            for body in seeder.all_done(
                [
                    handlers.add_person(
                        None,
                        c.AddPerson(
                            ref=f"r{i}",
                            name=f"Responder {i}",
                            roles=[Role.COMMANDER if i == 0 else Role.RESPONDER],
                        ),
                    )
                    for i in range(RESPONDERS)
                ]
            )
        ]
        tokens = seeder.enrol([(p, SubjectKind.PERSON) for p in people])
        seeder.enrol([(h, SubjectKind.HOUSEHOLD) for h in households])
        state = store.state(site)
        actors = {
            t.subject_id: Actor.from_token(site, t)
            for t in state.tokens.values()
            if t.subject_kind == SubjectKind.PERSON.value
        }
        house_actors = {
            t.subject_id: Actor.from_token(site, t)
            for t in state.tokens.values()
            if t.subject_kind == SubjectKind.HOUSEHOLD.value
        }

        def command(i: int) -> Any:
            lat, lon = ORIGIN[1] + (i % 97) * 1e-5, ORIGIN[0] + (i % 89) * 1e-5
            where = {"lat": lat, "lon": lon}
            if i % SIGHTING_EVERY == 0:
                return handlers.report_sighting(
                    actors[people[i % RESPONDERS]],
                    incident_id,
                    c.ReportSighting(location=where, category="hostile", text=f"seen {i}"),
                )
            if i % 3 == 0:
                household = households[i % HOUSEHOLDS]
                return handlers.check_in(
                    house_actors[household],
                    incident_id,
                    household,
                    c.CheckIn(
                        status=("safe", "safe", "not_home", "need_medic")[i % 7 % 4], text=f"#{i}"
                    ),
                )
            return handlers.report_position(
                actors[people[i % RESPONDERS]], incident_id, c.ReportPosition(location=where)
            )

        began = time.monotonic()
        i = 0
        while store.head(site) < events and time.monotonic() - began < max_secs:
            seeder.all_done(
                [
                    together(
                        [command(i + k * EVENTS_PER_COMMAND + j) for j in range(EVENTS_PER_COMMAND)]
                    )
                    for k in range(COMMANDS_PER_ROUND)
                ]
            )
            i += COMMANDS_PER_ROUND * EVENTS_PER_COMMAND
        head = store.head(site)
        secs = time.monotonic() - began
        print(f"filled the log to {head:,} events in {secs:.0f} s ({head / secs:,.0f} events/s)")
        return Seeded(data_dir, site, tokens[0], head)
    finally:
        seeder.close()


def together(decides: list[Decide]) -> Decide:
    """One command appending the events of all `decides` (each decided on the same state)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        return Decision([event for d in decides for event in d(state, now).events])

    return decide


# --- rebuild ---------------------------------------------------------------------------------
@dataclass
class Timed:
    wall_secs: float
    cpu_secs: float


def timed(work: Callable[[], object]) -> Timed:
    wall, cpu = time.monotonic(), time.process_time()
    work()
    return Timed(time.monotonic() - wall, time.process_time() - cpu)


def measure_rebuild(seeded: Seeded) -> dict[str, Timed]:
    from konenut.config import Settings
    from konenut.store.eventstore import EventStore

    store = EventStore(Settings(data_dir=seeded.data_dir).resolved_database_url)
    database = seeded.data_dir / "konenut.db"
    try:
        results = {
            "bare sqlite3 SELECT + orjson.loads": timed(lambda: bare_read(database)),
            "store iter_all (no apply)": timed(lambda: sum(1 for _ in store.iter_all(seeded.site))),
        }
        rebuilt: list[int] = []
        results["store rebuild (read + apply)"] = timed(
            lambda: rebuilt.append(store.rebuild(seeded.site).seq)
        )
        assert rebuilt == [seeded.head], (
            f"rebuild reached seq {rebuilt}, the log ends at {seeded.head}"
        )
    finally:
        store.close()
    return results


def bare_read(database: Path) -> int:
    connection = sqlite3.connect(database)
    try:
        count = 0
        for (payload,) in connection.execute("SELECT payload FROM events ORDER BY site_id, seq"):
            orjson.loads(payload)
            count += 1
        return count
    finally:
        connection.close()


# --- restart ---------------------------------------------------------------------------------
@dataclass
class Start:
    readyz_secs: float
    stream_secs: float


def measure_start(data_dir: Path, token: str | None, log: Path) -> Start:
    """Start `konenut serve`, time /readyz and (with a token) the stream's hello, kill -9 it."""
    began = time.monotonic()
    server = checkinsbench.start_server(data_dir, log, None, poll_secs=READY_POLL_SECS)
    try:
        ready = time.monotonic() - began
        hello = asyncio.run(first_frame(server.port, token)) - began if token else ready
        return Start(ready, hello)
    finally:
        server.process.send_signal(signal.SIGKILL)
        server.process.wait()


async def first_frame(port: int, token: str) -> float:
    uri = f"ws://{checkinsbench.HOST}:{port}/api/v1/stream?since=0"
    async with websockets.connect(uri, max_size=None, compression=None) as socket:
        await socket.send(orjson.dumps({"type": "auth", "token": token}).decode())
        frame = orjson.loads(await asyncio.wait_for(socket.recv(), 30))
        if frame.get("type") != "hello":
            raise RuntimeError(f"the stream's first frame was {frame.get('type')!r}, not hello")
        return time.monotonic()


# --- report ----------------------------------------------------------------------------------
def report(head: int, rebuild: dict[str, Timed], empty: Start, restarts: list[Start]) -> bool:
    per_million = MILLION / head
    print(f"\nrebuild of {head:,} events (figures also scaled to 1,000,000 events)")
    print("| pass | wall s | CPU s | wall s per 1,000,000 | events/s |")
    print("|---|---|---|---|---|")
    for name, t in rebuild.items():
        rate = head / t.wall_secs if t.wall_secs else 0.0
        print(
            f"| {name} | {t.wall_secs:.2f} | {t.cpu_secs:.2f} | "
            f"{t.wall_secs * per_million:.2f} | {rate:,.0f} |"
        )
    full = rebuild["store rebuild (read + apply)"]
    bare = rebuild["bare sqlite3 SELECT + orjson.loads"]
    print(f"rebuild / bare read: {full.wall_secs / bare.wall_secs:.1f}x")
    print(f"\nstart to /readyz and to the stream's hello ({head:,} events; empty: a new data dir)")
    print("| start | /readyz s | stream hello s |")
    print("|---|---|---|")
    print(f"| empty data dir (floor) | {empty.readyz_secs:.2f} | {empty.stream_secs:.2f} |")
    for n, start in enumerate(restarts, 1):
        print(f"| after kill -9, #{n} | {start.readyz_secs:.2f} | {start.stream_secs:.2f} |")
    worst = max(max(s.readyz_secs, s.stream_secs) for s in restarts)
    rebuild_ok = full.wall_secs * per_million < TARGET_REBUILD_SECS_PER_MILLION
    restart_ok = worst < TARGET_RESTART_SECS
    print(
        f"\n{verdict(rebuild_ok)}: rebuild < {TARGET_REBUILD_SECS_PER_MILLION:g} s per 1,000,000 "
        f"events ({full.wall_secs * per_million:.1f} s)"
    )
    print(
        f"{verdict(restart_ok)}: restart to /readyz and the stream < {TARGET_RESTART_SECS:g} s "
        f"at {head:,} events ({worst:.2f} s; the empty start's floor {empty.readyz_secs:.2f} s)"
    )
    return rebuild_ok and restart_ok


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=None, help=f"default {DEFAULT_EVENTS:,}")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_EVENTS:,} events")
    parser.add_argument("--restarts", type=int, default=2)
    parser.add_argument(
        "--max-seconds", type=float, default=600.0, help="time limit of filling the log"
    )
    parser.add_argument("--tmp-dir", type=Path, default=None, help="measure another disk")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    from seeding import Seeder

    args = parse_args(argv)
    events = args.events or (QUICK_EVENTS if args.quick else DEFAULT_EVENTS)
    print(f"machine: {checkinsbench.machine()}")
    print(f"{HOUSEHOLDS} households, {RESPONDERS} responders, a log of {events:,} events")
    tmp = Path(tempfile.mkdtemp(prefix="konenut-bench-rebuild-", dir=args.tmp_dir))
    try:
        seeded = fill_log(tmp / "data", events, args.max_seconds)
        rebuild = measure_rebuild(seeded)
        log = tmp / "serve.log"
        Seeder(tmp / "empty").close()  # a site with an empty log: the start's floor
        empty = measure_start(tmp / "empty", None, log)
        restarts = [
            measure_start(seeded.data_dir, seeded.commander_token, log)
            for _ in range(args.restarts)
        ]
        ok = report(seeded.head, rebuild, empty, restarts)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
