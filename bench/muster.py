"""Muster activation: time from the tap to the last first-channel message, against bare Apprise.

500 responders with phones; the site's policy has 3 steps (SMS through Apprise `json://` at 0 s,
Telegram at 30 s, a voice webhook at 90 s; only the first step is timed). Both sides send to the
same local HTTP sink, which runs in a process of its own and notes the CLOCK_MONOTONIC time each
message arrives (the same clock in every process on Linux). The sink speaks HTTP/1.1 with
persistent connections and accepts a backlog of 1,024 connections, as a provider's API does.

  konenut  the store (SQLite WAL, synchronous=FULL) and the escalator as `konenut serve` runs
           them: the activation command is submitted (t0); the escalator, woken by the
           muster.called event, records 500 notification.sent in one command, sends 500 SMS
           through AppriseChannel (64 at a time) and records 500 outcomes. Figures: t0 -> the
           500th message at the sink, t0 -> every outcome recorded, events appended per second
           over that span, and this process's CPU seconds (user + system) over it.
  bare     the same 500 Apprise notifications (same URL, same body) from a 64-thread pool,
           no Konenut at all: t0 -> the 500th message at the sink, CPU seconds.

Each side runs --rounds times (a new muster call each round), after a warm-up; the median is
reported with the ratio konenut / bare and PASS/MISS against the target (< 2 s to the last
first-channel message, issue 4).

Run from the repository root:
  .venv/bin/python bench/muster.py [--quick] [--responders N] [--rounds R]
(about half a minute on 2 cores). Loopback only, temporary files only, bounded by
--max-seconds per round.
"""

from __future__ import annotations

import argparse
import multiprocessing
import multiprocessing.connection
import os
import platform
import resource
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import apprise
import structlog

from konenut import bootstrap
from konenut.app import commands as c
from konenut.app import handlers, muster
from konenut.app.escalator import Escalator
from konenut.app.identity import Actor
from konenut.app.policies import ESCALATION
from konenut.app.sending import MAX_CONCURRENT_SENDS
from konenut.domain.ids import new_id
from konenut.domain.roles import Role, SubjectKind
from konenut.notify.apprise_channel import AppriseChannel
from konenut.notify.router import Router
from konenut.store.eventstore import EventStore

SITE = "bench-muster"
BASE_URL = "http://127.0.0.1:8000"
DEFAULT_RESPONDERS = 500
DEFAULT_ROUNDS = 3
QUICK = {"responders": 100, "rounds": 1}  # --quick: for `make bench`
WARMUP_SENDS = 20
TARGET_SECS = 2.0  # issue 4: tap -> the last first-channel send
POLICY = [
    {"channel": "sms", "after_secs": 0},
    {"channel": "telegram", "after_secs": 30},
    {"channel": "voice", "after_secs": 90},
]
HEADER = (
    "| side    | round | received | last message s | outcomes recorded s | events | events/s"
    " | CPU s |"
)
BARE_BODY = "Hostile infiltration - come armed to the armory. Rally: R1. Reply 1=coming 2=cannot"


# --- the sink (a process of its own) -------------------------------------------------------
def _sink(conn: multiprocessing.connection.Connection) -> None:
    arrivals: list[float] = []
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with lock:
                arrivals.append(time.monotonic())
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        request_queue_size = 1024  # read when it listens, in the constructor
        daemon_threads = True

    server = Server(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    conn.send(server.server_address[1])
    while True:
        command = conn.recv()
        if command == "stop":
            break
        with lock:  # ("take", n): the arrival times so far, then forget them
            taken, arrivals[:] = list(arrivals), []
        conn.send(taken)
    server.shutdown()


class Sink:
    def __init__(self) -> None:
        self.conn, child = multiprocessing.Pipe()
        self.process = multiprocessing.Process(target=_sink, args=(child,), daemon=True)
        self.process.start()
        self.port: int = self.conn.recv()

    def wait_for(self, count: int, deadline: float) -> list[float]:
        """Arrival times once `count` messages have come (or the deadline passed)."""
        got: list[float] = []
        while len(got) < count and time.monotonic() < deadline:
            time.sleep(0.01)
            self.conn.send("take")
            got.extend(self.conn.recv())
        return got

    def close(self) -> None:
        self.conn.send("stop")
        self.process.join(timeout=5)


def cpu_secs() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Round:
    last_message_secs: float
    received: int
    cpu_secs: float
    recorded_secs: float | None = None
    events: int = 0


# --- bare: Apprise from a thread pool --------------------------------------------------------
def bare_round(sink: Sink, phones: list[str], pool: ThreadPoolExecutor, max_secs: float) -> Round:
    def send(phone: str) -> bool:
        notifier = apprise.Apprise(asset=apprise.AppriseAsset(async_mode=False))
        notifier.add(f"json://127.0.0.1:{sink.port}/sms/{phone}")
        return bool(notifier.notify(body=BARE_BODY, title=""))

    cpu0, t0 = cpu_secs(), time.monotonic()
    futures = [pool.submit(send, phone) for phone in phones]
    arrivals = sink.wait_for(len(phones), t0 + max_secs)
    for future in futures:
        future.result()
    last = max(arrivals) - t0 if arrivals else float("nan")
    return Round(last, len(arrivals), cpu_secs() - cpu0)


# --- Konenut: store + escalator ---------------------------------------------------------------
def open_site(tmp: Path, responders: int) -> tuple[EventStore, Actor, list[str]]:
    store = bootstrap.open_store(f"sqlite:///{tmp / 'konenut.db'}")
    store.execute(SITE, handlers.configure_site(None, c.ConfigureSite(name="Bench")))
    futures, phones = [], []
    for i in range(responders):
        phone = f"+97250{i:07d}"
        phones.append(phone)
        cmd = c.AddPerson(ref=f"r{i}", name=f"Responder {i}", roles=[Role.RESPONDER], phone=phone)
        futures.append(store.submit(SITE, handlers.add_person(None, cmd)))
    commander = handlers.add_person(
        None, c.AddPerson(ref="cmd", name="Commander", roles=[Role.COMMANDER])
    )
    commander_id = str(store.execute(SITE, commander).body["person_id"])
    for future in futures:
        future.result()
    policy = c.SetEscalationPolicy.model_validate({"steps": POLICY})
    store.execute(SITE, muster.set_escalation_policy(None, policy))
    actor = Actor(SITE, new_id(), commander_id, SubjectKind.PERSON, frozenset({Role.COMMANDER}))
    return store, actor, phones


def konenut_round(
    store: EventStore, actor: Actor, sink: Sink, targets: list[str], max_secs: float
) -> Round:
    head0 = store.head(SITE)
    before = len(_outcomes(store))
    cpu0, t0 = cpu_secs(), time.monotonic()
    store.submit(SITE, muster.activate_squad(actor, c.ActivateSquad(person_ids=targets)))
    arrivals = sink.wait_for(len(targets), t0 + max_secs)
    recorded = None
    while time.monotonic() < t0 + max_secs:
        if len(_outcomes(store)) - before >= len(targets):
            recorded = time.monotonic() - t0
            break
        time.sleep(0.005)
    cpu = cpu_secs() - cpu0
    last = max(arrivals) - t0 if arrivals else float("nan")
    while store.head(SITE) < store.state(SITE).seq and time.monotonic() < t0 + max_secs:
        time.sleep(0.005)  # the projection runs a commit ahead of the log
    return Round(last, len(arrivals), cpu, recorded, store.head(SITE) - head0)


def _outcomes(store: EventStore) -> list[str]:
    state = store.state(SITE)
    return [
        n.notification_id
        for incident in list(state.incidents.values())
        for n in list(incident.notifications.values())
        if n.outcome is not None
    ]


def machine() -> str:
    model = "?"
    with open("/proc/cpuinfo", encoding="utf-8") as info:
        for line in info:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}, "
        f"Apprise {apprise.__version__}, load {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help=f"smaller: {QUICK}")
    parser.add_argument("--responders", type=int, default=DEFAULT_RESPONDERS)
    parser.add_argument("--rounds", type=int, default=DEFAULT_ROUNDS)
    parser.add_argument("--max-seconds", type=float, default=30.0, help="per round")
    args = parser.parse_args(argv)
    if args.quick:
        for name, value in QUICK.items():
            if getattr(args, name) == parser.get_default(name):
                setattr(args, name, value)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    print(f"machine: {machine()}")
    sends = MAX_CONCURRENT_SENDS
    print(f"{args.responders} responders, {args.rounds} rounds, {sends} sends at a time")
    sink = Sink()
    with tempfile.TemporaryDirectory(prefix="konenut-bench-muster-") as tmp:
        # The escalator logs every send, as `konenut serve` does: to a file here, not the screen.
        log_file = open(Path(tmp) / "konenut.log", "w", encoding="utf-8")  # noqa: SIM115
        structlog.configure(logger_factory=structlog.PrintLoggerFactory(log_file))
        store, actor, phones = open_site(Path(tmp), args.responders)
        persons = sorted(
            p.person_id for p in store.state(SITE).persons.values() if p.phone in set(phones)
        )
        url = f"json://127.0.0.1:{sink.port}/sms/{{phone}}"
        router = Router(
            {
                "sms": AppriseChannel("sms", url),
                "telegram": AppriseChannel("telegram", url),
                "voice": AppriseChannel("voice", url),
            }
        )
        escalator = Escalator(store, SITE, router, BASE_URL)
        bootstrap.run_sender(store, escalator, ESCALATION)  # woken by each muster call
        bare: list[Round] = []
        ours: list[Round] = []
        try:
            with ThreadPoolExecutor(MAX_CONCURRENT_SENDS) as pool:
                bare_round(sink, phones[:WARMUP_SENDS], pool, args.max_seconds)  # warm-up
                konenut_round(store, actor, sink, persons[:WARMUP_SENDS], args.max_seconds)
                for _ in range(args.rounds):
                    bare.append(bare_round(sink, phones, pool, args.max_seconds))
                    ours.append(konenut_round(store, actor, sink, persons, args.max_seconds))
        finally:
            bootstrap.stop_sender(store, escalator, ESCALATION)
            store.close()
            sink.close()
            log_file.close()
    report(args.responders, bare, ours)
    return 0 if statistics.median(r.last_message_secs for r in ours) < TARGET_SECS else 1


def report(n: int, bare: list[Round], ours: list[Round]) -> None:
    print()
    print(HEADER)
    print(
        "|---------|-------|----------|----------------|---------------------|--------|----------|-------|"
    )
    for name, rounds in (("bare", bare), ("konenut", ours)):
        for i, r in enumerate(rounds, 1):
            recorded = f"{r.recorded_secs:.3f}" if r.recorded_secs is not None else "-"
            rate = f"{r.events / r.recorded_secs:.0f}" if r.recorded_secs else "-"
            print(
                f"| {name:<7} | {i:>5} | {r.received:>8} | {r.last_message_secs:>14.3f} |"
                f" {recorded:>19} | {r.events:>6} | {rate:>8} | {r.cpu_secs:>5.2f} |"
            )
    bare_last = statistics.median(r.last_message_secs for r in bare)
    ours_last = statistics.median(r.last_message_secs for r in ours)
    bare_cpu = statistics.median(r.cpu_secs for r in bare)
    ours_cpu = statistics.median(r.cpu_secs for r in ours)
    print()
    print(
        f"median time to the {n}th message: konenut {ours_last:.3f} s, bare {bare_last:.3f} s,"
        f" ratio {ours_last / bare_last:.2f}x"
    )
    print(
        f"median CPU seconds: konenut {ours_cpu:.2f}, bare {bare_cpu:.2f},"
        f" ratio {ours_cpu / bare_cpu:.2f}x"
    )
    verdict = "PASS" if ours_last < TARGET_SECS else "MISS"
    print(f"target: last first-channel message < {TARGET_SECS:g} s: {verdict} ({ours_last:.3f} s)")


if __name__ == "__main__":
    sys.exit(main())
