"""Town: 10,000 households and 200 squad devices act at once, with three hostile sightings live.

  site     a town (bench/checkins.py's plan: a square of buildings 25 m apart, four households
           in each), 10,000 households with one enrolled resident device each, 200 squad
           members with one device each (a commander, 100 units, 50 viewers, the rest idle),
           an open incident; seeded through the store's writer (bench/seeding.py), before the
           server starts. SQLite in a temporary data dir by default; `--postgres` puts the log
           in a throwaway PostgreSQL server (tests/services.py, as bench/append.py does).
  konenut  `konenut serve` (bench/checkins.py's subprocess, escalation off; `--workers N` passed
           on when N > 1). The commander reports three hostile sightings at three buildings;
           5,000 resident pages (bench/fanout.py's sans-I/O WebSocket clients, two processes)
           and 50 squad viewers (bench/positions.py's viewer process) hold the live stream.
  the minute
           100 units report a position every second (bench/positions.py's device process,
           keep-alive, `occurred_at` = the wall-clock send time), starting LEAD_SECS before
           t0; at t0 the commander POSTs a broadcast to all; from t0, 10,000 check-ins over 60 s
           (bench/checkins.py's load process: a new connection each, open-loop: check-in i
           leaves at t0 + i x 60 s / 10,000 whatever the answers so far).
  baseline in the same run: the bare 1-thread INSERT + COMMIT loop and the store's writer
           alone (a burst, group commit, no HTTP) on the same database kind (bench/append.py's
           code), and a bare `websockets.broadcast` of one message to as many clients as there
           are resident pages (bench/fanout.py's bare server and clients).

Figures: the broadcast POST's answer time; the broadcast's arrival on every connected resident
page (from the POST leaving, p50 / p99 / max); check-in p50 / p99 / max (from when it was due
to the 201, which comes once the event is durable); position report to viewers p50 / p99 / max
(viewer arrival - the device's `occurred_at`, same machine clock: HTTP, the durable commit,
the stream's coalescing window, the fan-out); the server's RSS (all its processes) after start,
with everyone connected, at its peak during the minute and at the end; its CPU and the time its
threads were runnable with no CPU free (schedstat); the load generators' own CPU (all their
processes, from getrusage(RUSAGE_CHILDREN)). Nothing lost: every check-in answered 2xx and in
the log (read after the server stopped); every connected page got the broadcast; every viewer
got every position, or was told it was replaced by a newer one of the same unit (the stream's
`coalesced` frame counts them), and ends holding every unit's newest.
PASS/MISS per target (issue 13): POST < 200 ms; on every connected page < 2 s; check-in p99 <
300 ms; position to viewers p99 < 500 ms; RSS growth during the minute <= 128 MiB; nothing lost.

Run from the repository root:  .venv/bin/python bench/town.py [--quick] [--postgres]
[--households N] [--pages N] [--seconds S] [--workers N] [--profile FILE]  (about 4 minutes on
an idle 2-core box; `--quick`: 2,000 households, 1,000 pages, 20 s). Loopback only, temporary
files only, bounded: every phase has a deadline.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import append as appendbench  # bench/append.py: the bare loops, the store burst, PostgreSQL
import checkins as cb  # bench/checkins.py: the server, the check-in load, the town plan
import fanout as fb  # bench/fanout.py: the page clients, the bare broadcast server
import positions as pb  # bench/positions.py: the units' devices, the viewers

HOST = cb.HOST
DEFAULTS = {"households": 10_000, "pages": 5_000, "seconds": 60.0}
QUICK = {"households": 2_000, "pages": 1_000, "seconds": 20.0}  # --quick: for `make bench`
UNITS = 100  # squad devices reporting a position every second
VIEWERS = 50  # squad devices holding the stream
SQUAD = 200  # squad devices enrolled: a commander, the units, the viewers, the rest idle
SIGHTINGS = 3  # live hostile sightings, reported before the minute
WARMUP = 50  # extra households that check in before the minute (the route warmed, not measured)
LEAD_SECS = 5.0  # the units report this long before the broadcast: the stream is busy at t0
SETTLE_SECS = 2.0  # after the warm-up broadcast, before the minute
PAGE_PROCESSES = 2  # client processes holding the resident pages
BROADCAST_TIMEOUT_SECS = 30.0  # a page without the broadcast by then counts as lost
REQUEST_TIMEOUT_SECS = 30.0  # a check-in unanswered by then counts as lost
BASELINE_COUNT = 3_000  # appends per bare baseline (bench/append.py's default)
BASELINE_MAX_SECS = 20.0
RSS_SAMPLE_SECS = 0.2
READ_TIMEOUT_SECS = 120.0  # the positions read after the load, behind whatever the server owes
FD_MARGIN = 1_000  # beyond one per page and per check-in in flight
BROADCAST_ROUND = 1  # the measured broadcast's text is fanout's round_text(1); the warm-up's 0
# Targets (issue 13, "Benchmark"); "bounded" RSS: what the minute adds, with everyone connected
# before it, may not grow with the work (the log itself is on disk).
TARGET_POST_MS = 200.0
TARGET_PAGES_MS = 2_000.0
TARGET_CHECKIN_P99_MS = 300.0
TARGET_POSITION_P99_MS = 500.0
TARGET_RSS_GROWTH_MIB = 128.0


# --- the town --------------------------------------------------------------------------------
@dataclass
class Town:
    data_dir: Path
    database_url: str
    incident_id: str
    commander: str
    households: list[str]  # the measured ones, then the warm-up ones
    residents: list[str]  # one resident device per household, same order
    units: list[str]
    viewers: list[str]
    hostiles: list[dict[str, float]]
    centre: tuple[float, float]  # (lat, lon): the units walk around it


def seed_town(data_dir: Path, database_url: str | None, households: int) -> Town:
    """The plan, an open incident, the households and the squad, a device each."""
    from seeding import Seeder

    from konenut.app import commands as c
    from konenut.app import handlers
    from konenut.domain.roles import Role, SubjectKind

    seeder = Seeder(data_dir, database_url)
    store, site = seeder.store, seeder.site
    buildings = -(-(households + WARMUP) // cb.HOUSEHOLDS_PER_BUILDING)
    side = math.isqrt(buildings) + 1
    plan = cb.town_plan(buildings)
    refs = [f"{row}-{col}" for row, col in (divmod(b, side) for b in range(buildings))]
    try:
        store.execute(site, handlers.configure_site(None, c.ConfigureSite(name="Town", plan=plan)))
        incident = store.execute(site, handlers.open_incident(None, c.OpenIncident(title="Town")))
        ids = [
            str(body["household_id"])
            for body in seeder.all_done(
                [
                    handlers.add_household(
                        None,
                        c.AddHousehold(
                            ref=f"h{i}",
                            name=f"House {i}",
                            building_ref=refs[i // cb.HOUSEHOLDS_PER_BUILDING],
                        ),
                    )
                    for i in range(households + WARMUP)
                ]
            )
        ]
        people = seeder.all_done(
            [
                handlers.add_person(
                    None,
                    c.AddPerson(
                        ref=f"s{i}",
                        name=f"Squad {i}",
                        roles=[Role.COMMANDER if i == 0 else Role.RESPONDER],
                    ),
                )
                for i in range(SQUAD)
            ]
        )
        commander, *squad = seeder.enrol(
            [(str(body["person_id"]), SubjectKind.PERSON) for body in people]
        )
        residents = seeder.enrol([(h, SubjectKind.HOUSEHOLD) for h in ids])
        hostiles = []
        for k in range(1, SIGHTINGS + 1):  # along the diagonal: a quarter, half, three quarters
            lon, lat = cb.town_point(*divmod(buildings * k // (SIGHTINGS + 1), side))
            hostiles.append({"lat": lat, "lon": lon})
        lon, lat = cb.town_point(buildings // side // 2, side // 2)
        return Town(
            data_dir,
            database_url or f"sqlite:///{data_dir / 'konenut.db'}",
            str(incident.body["incident_id"]),
            commander,
            ids,
            residents,
            squad[:UNITS],
            squad[UNITS : UNITS + VIEWERS],
            hostiles,
            (lat, lon),
        )
    finally:
        seeder.close()


# --- the server's processes (one, or a supervisor and its workers) ----------------------------
def tree_pids(root: int) -> list[int]:
    """`root` and every process below it."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # ended meanwhile
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += parents.get(pid, [])
    return pids


def tree_cpu_secs(root: int) -> float:
    """User + system CPU time of the server's processes, all their threads."""
    ticks = 0
    for pid in tree_pids(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_rss_kib(root: int) -> int:
    total = 0
    for pid in tree_pids(root):
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            continue
        total += sum(int(line.split()[1]) for line in lines if line.startswith("VmRSS:"))
    return total


def tree_wait_secs(root: int) -> float:
    """Seconds the server's threads were runnable with no CPU free (schedstat)."""
    return sum(pb.runnable_wait_secs(pid) for pid in tree_pids(root))


@dataclass
class RssWatch:
    """The server's RSS (all its processes) every RSS_SAMPLE_SECS from start() to stop()."""

    root: int
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic, KiB)
    done: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.is_set():
            self.samples.append((time.monotonic(), tree_rss_kib(self.root)))
            self.done.wait(RSS_SAMPLE_SECS)

    def stop(self) -> None:
        self.done.set()
        if self.thread is not None:
            self.thread.join()

    def peak(self, since: float) -> int:
        return max((kib for at, kib in self.samples if at >= since), default=0)


# --- the measured run ----------------------------------------------------------------------------
@dataclass
class Run:
    post_ms: float
    pages: int
    connected: int
    page_ms: list[float]  # arrival of the broadcast at each page, from the POST leaving
    resyncs: int
    check_ins: list[cb.Answer]
    positions: list[tuple[int, float, float]]  # the units' answers (bench/positions.py)
    position_ms: list[float]  # viewer arrival - occurred_at
    seen: list[pb.Seen]
    stale_viewers: int
    stored: int = 0  # measured households whose check-in is in the log
    answered_missing: int = 0  # check-ins answered 2xx whose household has none in the log
    logged_positions: int = 0  # position reports in the log (one whose answer the unit gave
    # up waiting for may be there too: it was not lost)
    elapsed_secs: float = 0.0  # from the units' first report to the last answer
    server_cpu_secs: float = 0.0
    server_wait_secs: float = 0.0
    generator_cpu_secs: float = 0.0
    rss_kib: dict[str, int] = field(default_factory=dict)

    @property
    def check_in_errors(self) -> int:
        return sum(1 for status, _, _ in self.check_ins if not 200 <= status < 300)

    @property
    def position_errors(self) -> int:
        return sum(1 for status, _, _ in self.positions if status != 201)

    def positions_accounted(self) -> bool:
        """Each viewer got every position in the log, or was told a newer one of its unit
        replaced it."""
        return all(s.positions + s.dropped == self.logged_positions for s in self.seen)


def ms_quantile(values: Sequence[float], q: float) -> float:
    return pb.quantile(sorted(values), q)


def post(http: httpx.Client, path: str, token: str, body: dict[str, Any]) -> httpx.Response:
    answer = http.post(
        path,
        json=body,
        headers={"Authorization": f"Bearer {token}", "Idempotency-Key": f"town-{time.time_ns()}"},
    )
    if answer.status_code != 201:
        raise RuntimeError(f"POST {path} answered {answer.status_code}: {answer.text}")
    return answer


def broadcast(http: httpx.Client, town: Town, round_no: int) -> float:
    """The commander's broadcast to all; returns when it left (monotonic)."""
    started = time.monotonic()
    body = {"texts": {"en": fb.round_text(round_no)}}
    post(http, f"/api/v1/incidents/{town.incident_id}/broadcasts", town.commander, body)
    return started


def check_in_requests(town: Town, port: int, indices: range) -> list[bytes]:
    return [
        cb.encode_request(
            port,
            f"/api/v1/incidents/{town.incident_id}/households/{town.households[i]}/check-ins",
            town.residents[i],
            cb.check_in_body(i, hostile=True),  # nobody reports an intruder: three threats stay
        )
        for i in indices
    ]


def warm_up(server: cb.Server, town: Town, n: int, pool: fb.ClientPool) -> None:
    """The warm-up households check in, and a broadcast every page gets: every route warm."""
    load = cb.Load()
    load.run(server.port, check_in_requests(town, server.port, range(n, n + WARMUP)), 0.5, 30.0)
    statuses = sorted({a[0] for a in load.answers(60.0)})
    if statuses != [201]:
        raise RuntimeError(f"warm-up check-ins answered {statuses} (0: no answer), not 201")
    with httpx.Client(base_url=server.url, timeout=30.0) as http:
        pool.collect([0], broadcast(http, town, 0) + BROADCAST_TIMEOUT_SECS)
    time.sleep(SETTLE_SECS)


def measure(town: Town, args: argparse.Namespace, tmp: Path) -> Run:
    n, pages, seconds = args.households, args.pages, args.seconds
    extra_env = {"KONENUT_DATABASE_URL": town.database_url} if args.postgres else {}
    extra_argv = ["--workers", str(args.workers)] if args.workers > 1 else []
    server = cb.start_server(town.data_dir, tmp / "serve.log", args.profile, 0.1, extra_env,
                             extra_argv)  # fmt: skip
    watch = RssWatch(server.process.pid)
    watch.start()
    rss: dict[str, int] = {"started": tree_rss_kib(server.process.pid)}
    generators0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    url = f"ws://{HOST}:{server.port}/api/v1/stream?since={fb.readyz_seq(server.port)}"
    pool = fb.ClientPool(url, PAGE_PROCESSES)
    viewers, viewer_process = pb.spawn(pb.viewer_process)
    devices, device_process = pb.spawn(pb.device_process)
    load = cb.Load()
    try:
        viewers.send((server.port, town.viewers))
        connected = pool.connect(town.residents[:pages])
        pb.expect(viewers, "live viewers")
        print(f"{connected} of {pages} resident pages and {VIEWERS} squad viewers live",
              flush=True)  # fmt: skip
        with httpx.Client(base_url=server.url, timeout=30.0) as http:
            for spot in town.hostiles:
                body = {"category": "hostile", "count": 3, "armed": True, "location": spot}
                post(http, f"/api/v1/incidents/{town.incident_id}/sightings", town.commander, body)
        warm_up(server, town, n, pool)
        rss["connected"] = tree_rss_kib(server.process.pid)
        requests = check_in_requests(town, server.port, range(n))
        units = (town.incident_id, town.units, LEAD_SECS + seconds, 1.0, town.centre)
        devices.send((server.port, *units))
        pb.expect(devices, "the units' device process")
        began = time.monotonic()
        cpu0, wait0 = tree_cpu_secs(server.process.pid), tree_wait_secs(server.process.pid)
        units_t0 = time.time() + 0.2
        devices.send(units_t0)
        viewers.send((units_t0, units_t0 + LEAD_SECS + seconds + 3_600))  # count every frame
        time.sleep(max(0.0, units_t0 + LEAD_SECS - time.time()))
        load.run(server.port, requests, seconds, REQUEST_TIMEOUT_SECS)  # first one due now+0.1
        with httpx.Client(base_url=server.url, timeout=30.0) as http:
            http.get("/healthz")  # the connection open before the POST leaves
            posted = broadcast(http, town, BROADCAST_ROUND)
            post_ms = (time.monotonic() - posted) * 1e3
        arrivals, resyncs = pool.collect([BROADCAST_ROUND], posted + BROADCAST_TIMEOUT_SECS)
        print(f"broadcast: POST answered in {post_ms:.0f} ms, on"
              f" {len(arrivals[BROADCAST_ROUND])} pages", flush=True)  # fmt: skip
        check_ins = load.answers(seconds + REQUEST_TIMEOUT_SECS + 30)
        positions = pb.expect(devices, "the units' answers")
        print(f"check-ins and positions answered, {time.monotonic() - began:.1f} s", flush=True)
        elapsed = time.monotonic() - began
        cpu = tree_cpu_secs(server.process.pid) - cpu0
        wait = tree_wait_secs(server.process.pid) - wait0
        rss["peak"] = watch.peak(began)
        newest = newest_positions(server, town)
        viewers.send(newest)
        seen, position_ms, last = pb.expect(viewers, "the viewers' figures")
        rss["end"] = tree_rss_kib(server.process.pid)
        pool.close()
        for process in (viewer_process, device_process):
            process.join(timeout=10)
        generators1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        watch.stop()
        server.stop()
    page_ms = [(t - posted) * 1e3 for t in arrivals[BROADCAST_ROUND]]
    run = Run(post_ms, pages, connected, page_ms, resyncs, check_ins, positions,
              list(position_ms), seen, sum(1 for mine in last if mine != newest))  # fmt: skip
    in_log, run.logged_positions = read_log(town)
    run.stored = sum(1 for household in town.households[:n] if in_log.get(household) == 1)
    run.answered_missing = sum(
        1
        for household, (status, _, _) in zip(town.households, check_ins, strict=False)
        if 200 <= status < 300 and in_log.get(household) != 1
    )
    run.elapsed_secs, run.server_cpu_secs, run.server_wait_secs = elapsed, cpu, wait
    run.generator_cpu_secs = (
        generators1.ru_utime + generators1.ru_stime - generators0.ru_utime - generators0.ru_stime
    )
    run.rss_kib = rss
    if args.profile is not None:
        cb.print_profile(args.profile)
    return run


def newest_positions(server: cb.Server, town: Town) -> dict[str, int]:
    """Each unit's newest position seq as the server holds it; empty (every viewer counts as
    stale) when the server cannot say within READ_TIMEOUT_SECS."""
    try:
        held = httpx.get(
            f"{server.url}/api/v1/incidents/{town.incident_id}/positions",
            headers={"Authorization": f"Bearer {town.commander}"},
            timeout=READ_TIMEOUT_SECS,
        ).json()
    except httpx.TimeoutException:
        print(f"GET /positions unanswered within {READ_TIMEOUT_SECS:g} s", flush=True)
        return {}
    return {p["subject_id"]: p["seq"] for p in held}


def read_log(town: Town) -> tuple[dict[str, int], int]:
    """Read after the server stopped: check-ins in the log per household, and the position
    reports in it."""
    engine = sa.create_engine(town.database_url)
    counts: dict[str, int] = {}
    try:
        with engine.connect() as db:
            payloads = db.execute(
                sa.text("SELECT payload FROM events WHERE type = 'household.checked_in'")
            ).scalars()
            for payload in payloads:
                data = orjson.loads(payload) if isinstance(payload, str | bytes) else payload
                counts[data["household_id"]] = counts.get(data["household_id"], 0) + 1
            positions = db.execute(
                sa.text("SELECT count(*) FROM events WHERE type = 'position.reported'")
            ).scalar_one()
    finally:
        engine.dispose()
    return counts, int(positions)


# --- the baselines ---------------------------------------------------------------------------
@dataclass
class Baselines:
    bare: appendbench.Result  # 1-thread INSERT + COMMIT
    burst: appendbench.Result  # the store's writer alone
    fanout: fb.Result  # websockets.broadcast to as many clients as pages


def measure_baselines(tmp: Path, pg_url: str | None, pages: int) -> Baselines:
    n, budget = BASELINE_COUNT, BASELINE_MAX_SECS
    if pg_url is None:
        bare, burst = cb.measure_baselines(tmp, n, budget)
    else:
        from konenut.store import migrate

        engine = sa.create_engine(pg_url)  # the store's schema first: the bare rows need it
        try:
            migrate.upgrade(engine)
        finally:
            engine.dispose()
        warmup = max(appendbench.MIN_WARMUP, round(n * appendbench.WARMUP_FRACTION))
        bare = appendbench.bare_pg(pg_url, 1, n, warmup, appendbench.Budget(budget))
        with appendbench.opened_store(pg_url, "town") as (store, site):
            events = appendbench.check_ins(site, warmup + n)
            for event in events[:warmup]:
                store.append(site.site_id, [event])
            latencies, secs = appendbench.run_burst(
                store, site.site_id, events[warmup:], appendbench.Budget(budget)
            )
        burst = appendbench.Result("postgres", "store burst", latencies, secs, n)
    options = argparse.Namespace(
        rounds=1,
        event=fb.BROADCAST,
        burst=1,
        bare_loop="uvloop" if fb.has_uvloop() else "asyncio",
        client_processes=PAGE_PROCESSES,
    )
    bare_site = fb.Site(tmp, "", "", [])
    return Baselines(bare, burst, fb.measure(fb.BARE, pages, bare_site, options))


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str | None]:
    """A throwaway PostgreSQL server's URL under --postgres (bench/append.py's), else None."""
    if not args.postgres:
        yield None
        return
    with appendbench.postgres(argparse.Namespace(no_pg=False, pg_url=None)) as url:
        if url is None:
            raise SystemExit("--postgres: no PostgreSQL server could be started")
        yield url


# --- the report ------------------------------------------------------------------------------
def report(args: argparse.Namespace, base: Baselines, run: Run) -> bool:
    mib = 1 / 1024
    q = ms_quantile
    checkin_ms = [a[1] * 1e3 for a in run.check_ins]
    got = len(run.page_ms)
    page_max = max(run.page_ms, default=math.inf)
    print("\n| figure | konenut | bare baseline, same run |")
    print("|---|---|---|")
    print(
        f"| broadcast POST answered | {run.post_ms:.0f} ms | — |\n"
        f"| broadcast on the pages, from the POST: p50 / p99 / max | {q(run.page_ms, 0.5):.0f} /"
        f" {q(run.page_ms, 0.99):.0f} / {page_max:.0f} ms ({got} of {run.connected} pages) |"
        f" websockets.broadcast to {base.fanout.connected} clients: {base.fanout.quantile(0.5):.0f}"
        f" / {base.fanout.quantile(0.99):.0f} / {max(base.fanout.latencies_ms):.0f} ms |\n"
        f"| check-ins: p50 / p99 / max | {q(checkin_ms, 0.5):.0f} / {q(checkin_ms, 0.99):.0f} /"
        f" {max(checkin_ms):.0f} ms ({len(run.check_ins):,} over {args.seconds:g} s, new"
        f" connections) | appends of {BASELINE_COUNT:,} check-ins: bare 1 thread"
        f" {base.bare.rate:,.0f}/s, p99 {base.bare.quantile(0.99):.1f} ms; the store's writer"
        f" alone (burst) {base.burst.rate:,.0f}/s |\n"
        f"| position to viewers: p50 / p99 / max | {q(run.position_ms, 0.5):.0f} /"
        f" {q(run.position_ms, 0.99):.0f} / {max(run.position_ms, default=math.nan):.0f} ms"
        f" ({len(run.positions):,} reports, {VIEWERS} viewers) | — |"
    )
    rss = {name: kib * mib for name, kib in run.rss_kib.items()}
    growth = rss["peak"] - rss["connected"]
    cores = run.elapsed_secs
    print(
        f"\nserver RSS: {rss['started']:.0f} MiB after start, {rss['connected']:.0f} MiB with"
        f" everyone connected, peak {rss['peak']:.0f} MiB during the minute"
        f" (+{growth:.0f}), {rss['end']:.0f} MiB at the end"
    )
    print(
        f"over the {run.elapsed_secs:.1f} s of load: server CPU {run.server_cpu_secs:.1f} s"
        f" ({run.server_cpu_secs / cores:.0%} of one core; {args.workers} HTTP process(es)),"
        f" runnable with no CPU free {run.server_wait_secs:.1f} s; the load generators"
        f" (check-ins, units, viewers, {PAGE_PROCESSES} page processes)"
        f" {run.generator_cpu_secs:.1f} s ({run.generator_cpu_secs / cores:.0%} of one core,"
        " their start-up included)"
    )
    accounted = run.positions_accounted()
    statuses = Counter(status for status, _, _ in (*run.check_ins, *run.positions))
    received = sum(s.positions for s in run.seen) / max(1, len(run.seen))
    dropped = sum(s.dropped for s in run.seen) / max(1, len(run.seen))
    print(
        f"nothing lost: check-ins {len(run.check_ins) - run.check_in_errors:,} of"
        f" {len(run.check_ins):,} answered 2xx, {run.stored:,} in the log (answered but not in"
        f" it: {run.answered_missing}); broadcast on {got} of"
        f" {run.pages} pages ({run.connected} connected, {run.resyncs} resyncs); positions"
        f" {len(run.positions) - run.position_errors:,} of {len(run.positions):,} answered 201,"
        f" {run.logged_positions:,} in the log, per viewer {received:,.0f} received +"
        f" {dropped:,.0f} replaced by a newer one (coalesced), {run.stale_viewers} of"
        f" {VIEWERS} viewers stale; HTTP statuses {dict(sorted(statuses.items()))} (0: no answer)"
    )
    lost = not (
        run.check_in_errors == 0
        and run.stored == len(run.check_ins)
        and run.answered_missing == 0
        and run.connected == run.pages
        and got == run.connected
        and run.position_errors == 0
        and accounted
        and run.stale_viewers == 0
    )
    verdicts = [
        (run.post_ms < TARGET_POST_MS, f"broadcast POST answered < {TARGET_POST_MS:g} ms"),
        (
            page_max < TARGET_PAGES_MS and got == run.connected,
            f"broadcast on every connected page < {TARGET_PAGES_MS:,.0f} ms",
        ),
        (
            q(checkin_ms, 0.99) < TARGET_CHECKIN_P99_MS,
            f"check-in p99 < {TARGET_CHECKIN_P99_MS:g} ms",
        ),
        (
            q(run.position_ms, 0.99) < TARGET_POSITION_P99_MS,
            f"position to viewers p99 < {TARGET_POSITION_P99_MS:g} ms",
        ),
        (growth <= TARGET_RSS_GROWTH_MIB, f"server RSS growth <= {TARGET_RSS_GROWTH_MIB:g} MiB"),
        (not lost, "nothing lost"),
    ]
    print()
    for ok, text in verdicts:
        print(f"{cb.verdict(ok)}: {text}")
    return all(ok for ok, _ in verdicts)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=f"smaller and shorter: {QUICK}")
    parser.add_argument("--households", type=int, default=DEFAULTS["households"])
    parser.add_argument("--pages", type=int, default=DEFAULTS["pages"], help="resident pages")
    parser.add_argument("--seconds", type=float, default=DEFAULTS["seconds"], help="check-ins")
    parser.add_argument("--postgres", action="store_true", help="a throwaway PostgreSQL server")
    parser.add_argument("--workers", type=int, default=1, help="`konenut serve --workers N`")
    parser.add_argument(
        "--profile", type=Path, default=None, help="cProfile the server's main thread into FILE"
    )
    parser.add_argument("--tmp-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    if not 1 <= args.pages <= args.households:
        parser.error("--pages must be between 1 and --households")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    fb.raise_fd_limit(args.pages + args.households // 4 + FD_MARGIN)
    print(f"machine: {cb.machine()}")
    print(
        f"{args.households:,} households, {SQUAD} squad devices, {SIGHTINGS} hostile sightings;"
        f" {args.pages:,} resident pages and {VIEWERS} squad viewers on the stream; a broadcast,"
        f" then {args.households:,} check-ins over {args.seconds:g} s while {UNITS} units report"
        f" every second; {'PostgreSQL' if args.postgres else 'SQLite'},"
        f" {args.workers} HTTP process(es)"
    )
    tmp = Path(tempfile.mkdtemp(prefix="konenut-bench-town-", dir=args.tmp_dir))
    try:
        with database(args) as pg_url:
            baselines = measure_baselines(tmp, pg_url, args.pages)
            began = time.monotonic()
            town = seed_town(tmp / "data", pg_url, args.households)
            homes = args.households + WARMUP
            print(
                f"seeded {homes:,} households and {homes + SQUAD:,} devices in"
                f" {time.monotonic() - began:.1f} s",
                flush=True,
            )
            ok = report(args, baselines, measure(town, args, tmp))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
