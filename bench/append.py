"""Durable appends per second through the event store, against bare database loops.

Every figure is for DURABLE appends: SQLite in WAL mode with synchronous=FULL, PostgreSQL with
fsync=on and synchronous_commit=on (contracts §2). An append counts once its call returned (or
its future resolved), i.e. once the commit that holds it was fsync'd.

Scenarios, each on a fresh SQLite file / a fresh site in PostgreSQL, after a warm-up:

  bare  1 thread    one INSERT + COMMIT per event on one connection (the baseline)
  bare  8 threads   the same, 8 threads each with its own connection, contending for the lock
  store seq         one caller: store.append(site, [event]), waiting for each
  store 8 clients   8 threads each calling store.append and waiting (group commit helps)
  store burst       submit N commands without waiting, then wait for all of them

Run from the repository root:  .venv/bin/python bench/append.py [--quick] [--no-pg]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import itertools
import os
import platform
import sqlite3
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import orjson
import psycopg
import sqlalchemy as sa

from konenut import bootstrap
from konenut.domain.events import NewEvent
from konenut.domain.ids import format_time, new_id, utcnow
from konenut.domain.state import SiteState
from konenut.store import migrate
from konenut.store.engines import durability_settings
from konenut.store.eventstore import Decision, EventStore, Outcome

REPO = Path(__file__).resolve().parents[1]
THREADS = 8
DEFAULT_COUNT = 3_000
QUICK_COUNT = 500
WARMUP_FRACTION = 0.05  # warm-up appends per scenario, as a share of the measured count
MIN_WARMUP = 40
SQLITE_BUSY_TIMEOUT_MS = 120_000  # bare 8-thread loop: wait for the lock, never fail
LOOPBACK_HOSTS = frozenset({"", "127.0.0.1", "localhost", "::1"})
BENCH_SITE_PREFIX = "bench-"

# Targets for the store on SQLite (the issue): a share of the bare 1-thread loop, and a floor.
TARGET_SHARE_OF_BARE = 0.50
TARGET_RATE = 2_000.0

STATUSES = ("safe", "need_medic", "intruder", "smoke", "not_home")
TEXTS = (
    "Two adults and one child in the safe room, door locked. Phone battery at 30 percent.",
    "Grandmother needs her oxygen concentrator; power is out on our street since 06:40.",
    "We heard shots near the north fence, everyone inside the shelter, lights off, quiet.",
    "Smell of smoke from the house behind us (number 33); we are fine, staying inside.",
    "Not at home: we are at my sister's in the next town, the house should be empty.",
)

EVENT_COLUMNS = (
    "site_id, seq, id, type, version, incident_id, occurred_at, recorded_at, "
    "actor, device, location, payload, drill"
)
SQLITE_INSERT = f"INSERT INTO events ({EVENT_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)"
PG_INSERT = (
    f"INSERT INTO events ({EVENT_COLUMNS}) "
    "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s::jsonb,%s::jsonb,%s)"
)

Op = Callable[[int], None]  # append event number i, return once it is durable


# --- events ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Site:
    """A site with an incident, its households and the phones that check them in."""

    site_id: str
    incident_id: str = field(default_factory=new_id)
    households: tuple[str, ...] = field(default_factory=lambda: tuple(new_id() for _ in range(300)))
    devices: tuple[str, ...] = field(default_factory=lambda: tuple(new_id() for _ in range(300)))


def new_site(label: str) -> Site:
    return Site(site_id=f"{BENCH_SITE_PREFIX}{label}-{new_id()[-12:]}")


def incident_opened(site: Site) -> NewEvent:
    return NewEvent(
        type="incident.opened",
        payload={
            "incident_id": site.incident_id,
            "ref": "2024-031",
            "title": "Infiltration alert at the north fence",
            "kind": "hostile_infiltration",
        },
        occurred_at=utcnow(),
        actor=site.devices[0],
        device=site.devices[0],
        incident_id=site.incident_id,
    )


def check_ins(site: Site, count: int) -> list[NewEvent]:
    """Valid `household.checked_in` events of the site's incident (payload ~200 bytes)."""
    now = utcnow()
    events = []
    for i in range(count):
        h = i % len(site.households)
        events.append(
            NewEvent(
                type="household.checked_in",
                payload={
                    "household_id": site.households[h],
                    "status": STATUSES[i % len(STATUSES)],
                    "people_count": 1 + i % 6,
                    "text": TEXTS[i % len(TEXTS)],
                },
                occurred_at=now,
                actor=site.households[h],
                device=site.devices[h],
                incident_id=site.incident_id,
                location={"lat": 31.3442 + h * 1e-5, "lon": 34.3916 + h * 1e-5, "accuracy_m": 12.0},
            )
        )
    return events


def bare_row(site_id: str, event: NewEvent) -> tuple[Any, ...]:
    """The event as a row of the events table, without seq (the loop assigns it)."""
    return (
        site_id,
        event.id,
        event.type,
        1,
        event.incident_id,
        format_time(event.occurred_at),
        format_time(utcnow()),
        event.actor,
        event.device,
        None if event.location is None else orjson.dumps(event.location).decode(),
        orjson.dumps(event.payload).decode(),
        event.drill,
    )


def with_seq(row: tuple[Any, ...], seq: int) -> tuple[Any, ...]:
    return (row[0], seq, *row[1:])


def decide_append(event: NewEvent) -> Callable[[SiteState, datetime], Decision]:
    return lambda _state, _now: Decision((event,))


# --- measuring ------------------------------------------------------------------------------


@dataclass
class Result:
    backend: str
    scenario: str
    latencies_ms: list[float]
    seconds: float
    planned: int
    note: str = ""
    commits: int | None = None  # transactions (fsyncs) during the measured part

    @property
    def per_commit(self) -> float:
        """Appends per fsync'd transaction: 1 for the bare loops, more with group commit."""
        return 1.0 if self.commits is None else self.count / max(1, self.commits)

    @property
    def count(self) -> int:
        return len(self.latencies_ms)

    @property
    def rate(self) -> float:
        return self.count / self.seconds if self.seconds > 0 else 0.0

    def quantile(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        if not ordered:
            return float("nan")
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


@dataclass
class Budget:
    """A per-scenario time limit: loops stop early rather than run past it."""

    seconds: float
    deadline: float = 0.0

    def start(self) -> None:
        self.deadline = time.perf_counter() + self.seconds

    def left(self) -> float:
        return self.deadline - time.perf_counter()


def run_ops(
    ops: Sequence[Op],
    count: int,
    warmup: int,
    budget: Budget,
    on_start: Callable[[], None] | None = None,
) -> tuple[list[float], float]:
    """Each op on its own thread (one op: no extra thread), events interleaved between them.

    Events 0..warmup-1 warm every op up first; the measured part runs events warmup.. and
    returns (latencies in ms, wall seconds). Each thread stops early at the budget's deadline.
    """
    n = len(ops)
    for t, op in enumerate(ops):
        for i in range(t, warmup, n):
            op(i)
    latencies: list[list[float]] = [[] for _ in ops]
    errors: list[BaseException] = []
    barrier = threading.Barrier(n + 1) if n > 1 else None

    def work(t: int) -> None:
        op, mine = ops[t], latencies[t]
        if barrier is not None:
            barrier.wait()
        try:
            for i in range(warmup + t, warmup + count, n):
                began = time.perf_counter()
                op(i)
                mine.append((time.perf_counter() - began) * 1e3)
                if time.perf_counter() > budget.deadline:
                    return
        except BaseException as exc:
            errors.append(exc)

    gc.collect()
    if on_start is not None:
        on_start()
    budget.start()
    if barrier is None:
        began = time.perf_counter()
        work(0)
    else:
        threads = [threading.Thread(target=work, args=(t,), daemon=True) for t in range(n)]
        for thread in threads:
            thread.start()
        barrier.wait()
        began = time.perf_counter()
        for thread in threads:
            thread.join(max(1.0, budget.left() + 30))
    seconds = time.perf_counter() - began
    if errors:
        raise errors[0]
    return [x for mine in latencies for x in mine], seconds


def run_burst(
    store: EventStore, site_id: str, events: Sequence[NewEvent], budget: Budget
) -> tuple[list[float], float]:
    """Submit every command without waiting, then wait for all; latency = submit -> durable."""
    n = len(events)
    submitted = [0.0] * n
    done = [0.0] * n

    def finished(i: int) -> Callable[[Future[Outcome]], None]:
        def record(_future: Future[Outcome]) -> None:
            done[i] = time.perf_counter()

        return record

    gc.collect()
    budget.start()
    futures: list[Future[Outcome]] = []
    began = time.perf_counter()
    for i, event in enumerate(events):
        submitted[i] = time.perf_counter()
        future = store.submit(site_id, decide_append(event))
        future.add_done_callback(finished(i))
        futures.append(future)
    for future in futures:
        outcome = future.result(timeout=max(1.0, budget.left()))
        if outcome.status != 201:
            raise RuntimeError(f"append refused: {outcome.status} {outcome.body}")
    seconds = max(done) - began
    return [(d - s) * 1e3 for s, d in zip(submitted, done, strict=True)], seconds


def result_note(count: int, planned: int) -> str:
    return "" if count >= planned else f"stopped at the time limit after {count}"


# --- bare baselines -------------------------------------------------------------------------


def sqlite_connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(
        path,
        isolation_level=None,
        check_same_thread=False,
        timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
    )
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
    sync = connection.execute("PRAGMA synchronous").fetchone()[0]
    if (str(mode).lower(), int(sync)) != ("wal", 2):
        raise RuntimeError(f"SQLite is not durable here: journal_mode={mode} synchronous={sync}")
    return connection


def migrated_sqlite(path: Path) -> str:
    """A new SQLite file with the store's schema (so the bare rows hit the same indexes)."""
    url = f"sqlite:///{path}"
    engine = sa.create_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    return url


def bare_sqlite(tmp: Path, threads: int, count: int, warmup: int, budget: Budget) -> Result:
    path = tmp / f"bare-{threads}.db"
    migrated_sqlite(path)
    site = new_site("bare")
    rows = [bare_row(site.site_id, e) for e in check_ins(site, warmup + count)]
    seqs = itertools.count(1)  # next() on a count is atomic under the GIL
    connections = [sqlite_connect(path) for _ in range(threads)]

    def op_for(connection: sqlite3.Connection) -> Op:
        def op(i: int) -> None:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute(SQLITE_INSERT, with_seq(rows[i], next(seqs)))
            connection.execute("COMMIT")

        return op

    try:
        latencies, seconds = run_ops([op_for(c) for c in connections], count, warmup, budget)
        stored = (
            connections[0]
            .execute("SELECT count(*) FROM events WHERE site_id = ?", (site.site_id,))
            .fetchone()[0]
        )
    finally:
        for connection in connections:
            connection.close()
    if stored != warmup + len(latencies):
        raise RuntimeError(f"bare sqlite: {stored} rows stored, {warmup + len(latencies)} appended")
    label = "bare  1 thread" if threads == 1 else f"bare  {threads} threads"
    return Result("sqlite", label, latencies, seconds, count, result_note(len(latencies), count))


def pg_connect(url: str) -> psycopg.Connection[Any]:
    connection = psycopg.connect(libpq(url), autocommit=False)
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit = on")
        cursor.execute("SHOW fsync")
        fsync = cursor.fetchone()
    connection.commit()
    if fsync is None or fsync[0] != "on":
        raise RuntimeError("PostgreSQL runs with fsync=off: its figures would not be durable")
    return connection


def libpq(url: str) -> str:
    """The SQLAlchemy URL for libpq (`postgresql+psycopg://` -> `postgresql://`)."""
    scheme, rest = url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def bare_pg(url: str, threads: int, count: int, warmup: int, budget: Budget) -> Result:
    site = new_site("bare")
    rows = [bare_row(site.site_id, e) for e in check_ins(site, warmup + count)]
    seqs = itertools.count(1)
    connections = [pg_connect(url) for _ in range(threads)]

    def op_for(connection: psycopg.Connection[Any]) -> Op:
        cursor = connection.cursor()

        def op(i: int) -> None:
            cursor.execute(PG_INSERT, with_seq(rows[i], next(seqs)), prepare=True)
            connection.commit()

        return op

    try:
        latencies, seconds = run_ops([op_for(c) for c in connections], count, warmup, budget)
        with connections[0].cursor() as cursor:
            cursor.execute("SELECT count(*) FROM events WHERE site_id = %s", (site.site_id,))
            row = cursor.fetchone()
        stored = -1 if row is None else int(row[0])
    finally:
        for connection in connections:
            connection.close()
    if stored != warmup + len(latencies):
        raise RuntimeError(f"bare pg: {stored} rows stored, {warmup + len(latencies)} appended")
    label = "bare  1 thread" if threads == 1 else f"bare  {threads} connections"
    return Result("postgres", label, latencies, seconds, count, result_note(len(latencies), count))


# --- the store ------------------------------------------------------------------------------


@contextlib.contextmanager
def opened_store(url: str, label: str) -> Iterator[tuple[EventStore, Site]]:
    """A started store on a migrated database, with a site whose incident is open."""
    store = bootstrap.open_store(url)  # with its policies, as every entry point builds it
    try:
        site = new_site(label)
        store.append(site.site_id, [incident_opened(site)])
        yield store, site
    finally:
        store.close()


def check_durable(store: EventStore) -> str:
    settings = durability_settings(store.writer_engine)
    durable = settings in (
        {"journal_mode": "wal", "synchronous": "FULL"},
        {"synchronous_commit": "on", "fsync": "on"},
    )
    if not durable:
        raise RuntimeError(f"the store is not durable here: {settings}")
    return ", ".join(f"{k}={v}" for k, v in settings.items())


class CommitCounter:
    """Counts the store's transactions (fsyncs) through SQLAlchemy's public `commit` event."""

    def __init__(self, engine: sa.Engine) -> None:
        self.commits = 0
        sa.event.listen(engine, "commit", self._count)

    def _count(self, _connection: sa.Connection) -> None:
        self.commits += 1  # only the writer thread commits

    def reset(self) -> None:
        self.commits = 0


def store_scenarios(
    backend: str, fresh_url: Callable[[str], str], count: int, warmup: int, seconds: float
) -> list[Result]:
    results = []
    for scenario, clients in (("store seq", 1), (f"store {THREADS} clients", THREADS)):
        # (a) one caller appending and waiting for each; (b) 8 threads doing the same at once
        label = "seq" if clients == 1 else "clients"
        with opened_store(fresh_url(label), label) as (store, site):
            if clients == 1:
                print(f"  {backend} store durability: {check_durable(store)}", flush=True)
            events = check_ins(site, warmup + count)
            counter = CommitCounter(store.writer_engine)

            def append(
                i: int,
                store: EventStore = store,
                site: Site = site,
                events: list[NewEvent] = events,
            ) -> None:
                store.append(site.site_id, [events[i]])

            latencies, wall = run_ops(
                [append] * clients, count, warmup, Budget(seconds), on_start=counter.reset
            )
            commits = counter.commits
            expect_head(store, site, warmup + len(latencies))
        note = result_note(len(latencies), count)
        results.append(Result(backend, scenario, latencies, wall, count, note, commits))
        print_progress(results[-1])
    # (c) burst: submit every command without waiting, then wait for all of them
    with opened_store(fresh_url("burst"), "burst") as (store, site):
        events = check_ins(site, warmup + count)
        for event in events[:warmup]:
            store.append(site.site_id, [event])
        counter = CommitCounter(store.writer_engine)
        latencies, wall = run_burst(store, site.site_id, events[warmup:], Budget(seconds))
        commits = counter.commits
        expect_head(store, site, warmup + len(latencies))
    results.append(Result(backend, "store burst", latencies, wall, count, "", commits))
    print_progress(results[-1])
    return results


def expect_head(store: EventStore, site: Site, appended: int) -> None:
    """Every append is in the log once; beside them only the policies' follow-ups (a casualty
    for each household that called for a medic, app/policies.py)."""
    types = Counter(event.type for event in store.iter_all(site.site_id))
    if types["household.checked_in"] != appended or types["incident.opened"] != 1:
        raise RuntimeError(f"the log holds {dict(types)}, expected {appended} check-ins")
    if set(types) - {"household.checked_in", "incident.opened", "casualty.reported"}:
        raise RuntimeError(f"the log holds {dict(types)}: more than the appends and casualties")


# --- output ---------------------------------------------------------------------------------


def print_progress(result: Result) -> None:
    print(f"  done: {result.backend:8} {result.scenario:22} {result.rate:8.0f}/s", flush=True)


def ratio(value: float, base: float | None) -> str:
    return "-" if not base else f"{value / base:5.2f}x"


def print_table(results: Sequence[Result]) -> None:
    bases: dict[tuple[str, bool], float] = {}
    for r in results:
        if r.scenario.startswith("bare"):
            bases[(r.backend, r.scenario == "bare  1 thread")] = r.rate
    header = (
        f"| {'backend':8} | {'scenario':20} | {'n':>5} | {'appends/s':>9} | {'p50 ms':>7} | "
        f"{'p99 ms':>7} | {'max ms':>8} | {'ev/fsync':>8} | {'vs bare 1':>9} | {'vs bare 8':>9} |"
    )
    print(header)
    print("|" + "|".join("-" * (len(cell)) for cell in header.split("|")[1:-1]) + "|")
    for r in results:
        line = (
            f"| {r.backend:8} | {r.scenario:20} | {r.count:5d} | {r.rate:9.0f} | "
            f"{r.quantile(0.50):7.2f} | {r.quantile(0.99):7.2f} | {max(r.latencies_ms):8.2f} | "
            f"{r.per_commit:8.1f} | {ratio(r.rate, bases.get((r.backend, True))):>9} | "
            f"{ratio(r.rate, bases.get((r.backend, False))):>9} |"
        )
        print(line + (f"  ({r.note})" if r.note else ""))


def print_targets(results: Sequence[Result]) -> None:
    base = next(
        (r.rate for r in results if r.backend == "sqlite" and r.scenario == "bare  1 thread"), None
    )
    print("\nTargets (store on SQLite: >= 50 % of the bare 1-thread loop, >= 2,000 appends/s):")
    for r in results:
        if r.backend != "sqlite" or not r.scenario.startswith("store") or base is None:
            continue
        share = r.rate / base
        verdict = [
            f"{'PASS' if share >= TARGET_SHARE_OF_BARE else 'MISS'} {share:6.0%} of bare",
            f"{'PASS' if r.rate >= TARGET_RATE else 'MISS'} {r.rate:6.0f}/s >= {TARGET_RATE:.0f}/s",
        ]
        print(f"  {r.scenario:20} " + "   ".join(verdict))
    print(
        "  (one writer thread with group commit turns N waiting commands into one fsync, so the "
        "concurrent and burst cases can beat a bare loop that pays one fsync per event)"
    )


def machine() -> str:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}, psycopg {psycopg.__version__}"
    )


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


# --- PostgreSQL -----------------------------------------------------------------------------


def check_loopback(url: str) -> None:
    host = urlsplit(libpq(url)).hostname or ""
    if host not in LOOPBACK_HOSTS and not host.startswith("/"):
        raise SystemExit(f"--pg-url must point at this machine (127.0.0.1, ::1), not {host!r}")


def check_scratch(url: str) -> None:
    """Refuse a database that holds real sites: the bench appends junk events."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("site_heads"):
                return
            sites = connection.execute(sa.text("SELECT site_id FROM site_heads")).scalars().all()
    finally:
        engine.dispose()
    real = [s for s in sites if not str(s).startswith(BENCH_SITE_PREFIX)]
    if real:
        raise SystemExit(
            f"--pg-url database holds {len(real)} non-bench site(s), e.g. {real[0]!r}; "
            "point it at a throwaway database"
        )


def run_pg(url: str, count: int, warmup: int, seconds: float) -> list[Result]:
    engine = sa.create_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()
    results = [bare_pg(url, 1, count, warmup, Budget(seconds))]
    print_progress(results[-1])
    results.append(bare_pg(url, THREADS, count, warmup, Budget(seconds)))
    print_progress(results[-1])
    results += store_scenarios("postgres", lambda _label: url, count, warmup, seconds)
    return results


@contextlib.contextmanager
def postgres(args: argparse.Namespace) -> Iterator[str | None]:
    """The PostgreSQL URL to use, or None (with a message) when PostgreSQL is skipped."""
    if args.no_pg:
        print("PostgreSQL: skipped (--no-pg)")
        yield None
        return
    if args.pg_url:
        yield args.pg_url
        return
    sys.path.insert(0, str(REPO / "tests"))
    from services import PostgresServer, ServiceError

    try:
        server = PostgresServer()
        server.start()
    except ServiceError as exc:
        print(f"PostgreSQL: skipped, cannot start a server: {exc}")
        yield None
        return
    try:
        print(
            f"PostgreSQL: throwaway server on 127.0.0.1:{server.port} "
            f"(started in {server.startup_seconds:.1f} s)",
            flush=True,
        )
        yield server.url()
    finally:
        server.stop()


# --- main -----------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Durable appends/s and latency of the event store vs bare SQLite/PostgreSQL."
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK_COUNT} events per scenario instead of {DEFAULT_COUNT}",
    )
    parser.add_argument(
        "--count",
        type=int,
        default=None,
        help="measured events per scenario (overrides --quick; max 100000)",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=20.0,
        help="time limit per scenario; a loop stops early past it (default 20)",
    )
    parser.add_argument("--no-pg", action="store_true", help="SQLite only")
    parser.add_argument(
        "--pg-url",
        default=None,
        help="a THROWAWAY loopback database (postgresql+psycopg://...) instead "
        "of starting one; the bench appends to sites named bench-*",
    )
    parser.add_argument(
        "--tmp-dir",
        type=Path,
        default=None,
        help="where the SQLite files go (default: the system temp dir); "
        "the disk under it is what is measured",
    )
    args = parser.parse_args(argv)
    args.count = args.count or (QUICK_COUNT if args.quick else DEFAULT_COUNT)
    if not 1 <= args.count <= 100_000:
        parser.error("--count must be between 1 and 100000")
    if not 1 <= args.max_seconds <= 600:
        parser.error("--max-seconds must be between 1 and 600")
    if args.pg_url:
        check_loopback(args.pg_url)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    count: int = args.count
    warmup = max(MIN_WARMUP, int(count * WARMUP_FRACTION))
    began = time.perf_counter()
    print(f"Machine: {machine()}")
    print(f"Load average at start: {load()}")
    print(
        f"Events per scenario: {count} (+{warmup} warm-up), {THREADS} threads where concurrent, "
        f"time limit {args.max_seconds:.0f} s per scenario",
        flush=True,
    )
    sample = check_ins(new_site("sample"), 5)
    size = sum(len(orjson.dumps(e.payload)) for e in sample) / len(sample)
    print(f"Event: household.checked_in, payload ~{size:.0f} bytes of JSON, plus location\n")

    if args.pg_url and not args.no_pg:
        check_scratch(args.pg_url)  # before spending a minute on SQLite
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="konenut-bench-", dir=args.tmp_dir) as tmp_name:
        tmp = Path(tmp_name)
        print(f"SQLite files in {tmp} (journal_mode=WAL, synchronous=FULL)", flush=True)
        for threads in (1, THREADS):
            results.append(bare_sqlite(tmp, threads, count, warmup, Budget(args.max_seconds)))
            print_progress(results[-1])

        def fresh_sqlite(label: str) -> str:
            return migrated_sqlite(tmp / f"store-{label}.db")

        results += store_scenarios("sqlite", fresh_sqlite, count, warmup, args.max_seconds)

    with postgres(args) as pg_url:
        if pg_url is not None:
            results += run_pg(pg_url, count, warmup, args.max_seconds)

    print()
    print_table(results)
    print_targets(results)
    print(f"\nLoad average at end: {load()} (other processes on the box skew the figures)")
    print(f"Total time {time.perf_counter() - began:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
