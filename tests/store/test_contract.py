"""The event store's contract (contracts §2, §3), on SQLite and on a real PostgreSQL.

Every test runs against both backends: a SQLite file in tmp_path and a fresh PostgreSQL
database on the session's server.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from helpers import SITE, open_store, seed_site
from konenut.domain.errors import IdempotencyConflict, InvalidEvent
from konenut.domain.events import Event, NewEvent
from konenut.domain.ids import new_id, utcnow
from konenut.domain.state import SiteState
from konenut.store import migrate, schema
from konenut.store.engines import create_engines, durability_settings
from konenut.store.eventstore import (
    SNAPSHOT_EVERY_EVENTS,
    CommandFailed,
    Decide,
    Decision,
    EventStore,
    IdempotencyKey,
    Outcome,
    StoreUnavailable,
)

OTHER_SITE = "other-site"
RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
HEBREW = "משפחת כהן — בממ״ד, כולם בטוחים"
THAI = "ครอบครัวปลอดภัย อยู่ในห้องนิรภัย"


# --- fixtures -------------------------------------------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL with nothing in it yet: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'konenut.db'}"
    fresh: str = request.getfixturevalue("fresh_postgres_url")
    return fresh


@pytest.fixture
def store(url: str) -> Iterator[EventStore]:
    opened = open_store(url)
    try:
        yield opened
    finally:
        opened.close()


# --- event builders ---------------------------------------------------------------------------
def household(ref: str, name: str = "Cohen", **extra: Any) -> NewEvent:
    payload = {"household_id": new_id(), "ref": ref, "name": name, **extra}
    return NewEvent("household.added", payload, occurred_at=utcnow())


def incident_opened(ref: str = "1", *, drill: bool = False) -> NewEvent:
    incident_id = new_id()
    payload = {"incident_id": incident_id, "ref": ref, "title": "Infiltration"}
    return NewEvent(
        "incident.opened", payload, occurred_at=utcnow(), incident_id=incident_id, drill=drill
    )


def checked_in(incident_id: str, household_id: str, text: str = "", **extra: Any) -> NewEvent:
    payload = {"household_id": household_id, "status": "safe", "text": text}
    fields: dict[str, Any] = {"occurred_at": utcnow(), "incident_id": incident_id, **extra}
    return NewEvent("household.checked_in", payload, **fields)


def appending(events: list[NewEvent]) -> Decide:
    """A command that appends exactly these events."""
    return lambda _state, _now: Decision(events)


def snapshot_of(store: EventStore, site: str = SITE) -> tuple[int, list[Event]]:
    """The site's head and whole log, to show that nothing changed."""
    return store.head(site), store.read(site)


# --- seq ------------------------------------------------------------------------------------
def test_append_returns_consecutive_seq_from_1_per_site(store: EventStore) -> None:
    first = store.append(SITE, [household("1"), household("2"), household("3")])
    assert [e.seq for e in first] == [1, 2, 3]
    assert [e.site_id for e in first] == [SITE] * 3

    other = store.append(OTHER_SITE, [household("1")])
    other += store.append(OTHER_SITE, [household("2")])
    assert [e.seq for e in other] == [1, 2]  # sites are independent: each starts at 1

    more = store.append(SITE, [household("4")])
    assert [e.seq for e in more] == [4]
    assert store.head(SITE) == 4 and store.head(OTHER_SITE) == 2
    assert [e.seq for e in store.read(SITE)] == [1, 2, 3, 4]
    assert [e.seq for e in store.read(OTHER_SITE)] == [1, 2]
    assert {e.payload["ref"] for e in store.read(OTHER_SITE)} == {"1", "2"}
    assert sorted(store.sites()) == sorted([SITE, OTHER_SITE])
    assert store.head("never-used") == 0 and store.read("never-used") == []


def test_read_since_incident_and_limit(store: EventStore) -> None:
    homes = store.append(SITE, [household("1"), household("2")])
    a = store.append(SITE, [incident_opened("1")])[0]
    b = store.append(SITE, [incident_opened("2", drill=True)])[0]
    for home in homes:
        store.append(SITE, [checked_in(a.incident_id or "", home.payload["household_id"])])
        store.append(SITE, [checked_in(b.incident_id or "", home.payload["household_id"])])
    log = store.read(SITE)
    assert [e.seq for e in log] == list(range(1, 9))

    assert [e.seq for e in store.read(SITE, 5)] == [6, 7, 8]
    assert store.read(SITE, 8) == []
    assert store.read(SITE, 2, limit=3) == log[2:5]
    assert store.read(SITE, limit=1) == log[:1]

    in_a = store.read(SITE, incident_id=a.incident_id)
    assert [e.seq for e in in_a] == [3, 5, 7]
    assert {e.incident_id for e in in_a} == {a.incident_id}
    assert [e.seq for e in store.read(SITE, 5, incident_id=b.incident_id)] == [6, 8]
    assert [e.seq for e in store.read(SITE, incident_id=b.incident_id, limit=2)] == [4, 6]
    assert store.read(SITE, incident_id=b.incident_id)[0].drill is True
    assert store.read(SITE, incident_id=new_id()) == []
    assert list(store.iter_all(SITE, 2)) == log[2:]


# --- the envelope ---------------------------------------------------------------------------
def test_every_envelope_field_round_trips(store: EventStore) -> None:
    opened = store.append(SITE, [incident_opened("1", drill=True)])[0]
    home = store.append(SITE, [household("31", HEBREW, languages=["he", "th"])])[0]
    # A device time in another zone, with microseconds: stored as UTC with milliseconds.
    israel = timezone(timedelta(hours=3))
    occurred = (utcnow() - timedelta(hours=23)).astimezone(israel).replace(microsecond=123_456)
    location = {
        "lat": 32.7,
        "lon": 35.5,
        "accuracy_m": 4.5,
        "heading_deg": 359.5,
        "speed_mps": 1.25,
    }
    new = checked_in(
        opened.incident_id or "",
        home.payload["household_id"],
        f"{HEBREW} / {THAI} / 🙂",
        occurred_at=occurred,
        actor=new_id(),
        device=new_id(),
        location=location,
        drill=True,
    )
    before = utcnow()
    appended = store.append(SITE, [new])[0]
    after = utcnow()
    stored = store.read(SITE, 2)[0]

    assert stored == appended  # what the writer returned is exactly what the log holds
    assert stored.id == new.id and stored.seq == 3 and stored.site_id == SITE
    assert (stored.type, stored.version) == ("household.checked_in", 1)
    assert stored.incident_id == opened.incident_id
    assert (stored.actor, stored.device) == (new.actor, new.device)
    assert stored.location == location
    assert stored.payload == {**new.payload, "text": f"{HEBREW} / {THAI} / 🙂"}
    assert stored.drill is True
    assert stored.occurred_at == occurred.replace(microsecond=123_000)
    assert stored.occurred_at.tzinfo == UTC and stored.recorded_at.tzinfo == UTC
    assert before <= stored.recorded_at <= after

    body = stored.to_json()
    assert RFC3339_MS.match(body["occurred_at"]) and RFC3339_MS.match(body["recorded_at"])
    assert body["occurred_at"].endswith(".123Z")
    assert home.payload["name"] == HEBREW
    assert store.read(SITE, 1, limit=1)[0].payload["languages"] == ["he", "th"]

    # The bare minimum: no incident, no actor, no device, no location, not a drill.
    bare = store.read(SITE, 1, limit=1)[0]
    assert (bare.incident_id, bare.actor, bare.device, bare.location, bare.drill) == (
        None,
        None,
        None,
        None,
        False,
    )


# --- refusals: nothing is stored ------------------------------------------------------------
def _bad_events(incident_id: str, household_id: str) -> dict[str, NewEvent]:
    good = checked_in(incident_id, household_id)
    return {
        "unknown type": NewEvent("household.teleported", {"household_id": household_id}, utcnow()),
        "missing field": NewEvent(
            "household.checked_in",
            {"household_id": household_id},
            utcnow(),
            incident_id=incident_id,
        ),
        "unknown field": NewEvent(
            "household.added",
            {"household_id": new_id(), "ref": "9", "name": "X", "pets": 3},
            utcnow(),
        ),
        "bad value": NewEvent(
            "household.checked_in",
            {"household_id": household_id, "status": "fine"},
            utcnow(),
            incident_id=incident_id,
        ),
        "bad location": NewEvent(
            good.type,
            good.payload,
            utcnow(),
            incident_id=incident_id,
            location={"lat": 91.0, "lon": 35.0},
        ),
        "location without lon": NewEvent(
            good.type, good.payload, utcnow(), incident_id=incident_id, location={"lat": 31.0}
        ),
        "25 h old": NewEvent(
            good.type, good.payload, utcnow() - timedelta(hours=25), incident_id=incident_id
        ),
        "10 min ahead": NewEvent(
            good.type, good.payload, utcnow() + timedelta(minutes=10), incident_id=incident_id
        ),
        "naive time": NewEvent(good.type, good.payload, datetime.now(), incident_id=incident_id),
        "needs an incident": NewEvent(good.type, good.payload, utcnow()),
    }


@pytest.mark.parametrize("position", ["alone", "second of two", "last of three"])
def test_invalid_events_are_refused_and_nothing_is_stored(store: EventStore, position: str) -> None:
    home = store.append(SITE, [household("1")])[0]
    opened = store.append(SITE, [incident_opened("1")])[0]
    incident_id, household_id = opened.incident_id or "", home.payload["household_id"]
    before = snapshot_of(store)
    state_seq = store.state(SITE).seq

    for reason, bad in _bad_events(incident_id, household_id).items():
        events = {
            "alone": [bad],
            "second of two": [checked_in(incident_id, household_id), bad],
            "last of three": [household("77"), checked_in(incident_id, household_id), bad],
        }[position]
        key = IdempotencyKey("token-1", f"key-{reason}", "hash-1")
        with pytest.raises(InvalidEvent) as refused:
            store.append(SITE, events, key)
        assert refused.value.detail, reason
        assert snapshot_of(store) == before, reason  # nothing of the command was stored
        assert store.state(SITE).seq == state_seq, reason
        assert "77" not in {h.ref for h in store.state(SITE).households.values()}, reason
        # A refused command does not use up its key: the same key works for a valid command.
        retried = store.execute(SITE, _add(f"ok-{reason}"), key)
        assert not retried.replayed and retried.status == 201, reason
        before = snapshot_of(store)
        state_seq += 1

    # The log stayed gap-free through every refusal.
    assert [e.seq for e in store.read(SITE)] == list(range(1, before[0] + 1))


def test_invalid_payload_lists_its_errors(store: EventStore) -> None:
    bad = NewEvent(
        "household.checked_in",
        {"household_id": "h", "status": "fine"},
        utcnow(),
        incident_id=new_id(),
    )
    with pytest.raises(InvalidEvent) as refused:
        store.append(SITE, [bad])
    assert {e["loc"] for e in refused.value.errors} == {"payload.status"}
    assert store.head(SITE) == 0


def test_a_refused_command_in_a_group_commit_leaves_the_others_stored(store: EventStore) -> None:
    """Commands that arrive together share a transaction; a refused one takes nothing with it."""
    store.append(SITE, [household("0")])
    futures = []
    for i in range(40):
        events = [household(f"r{i}")]
        if i % 5 == 0:
            events.append(NewEvent("nope", {}, utcnow()))  # refused: an unknown type
        futures.append(store.submit(SITE, appending(events)))
    ok, refused = [], []
    for future in futures:
        try:
            ok.append(future.result(timeout=30))
        except InvalidEvent:
            refused.append(future)
    assert len(refused) == 8 and len(ok) == 32
    log = store.read(SITE)
    assert [e.seq for e in log] == list(range(1, 34))
    assert {e.payload["ref"] for e in log[1:]} == {f"r{i}" for i in range(40) if i % 5}
    assert store.state(SITE) == store.rebuild(SITE)


# --- multi-event commands ---------------------------------------------------------------------
def test_a_command_appends_its_events_atomically_with_consecutive_seq(store: EventStore) -> None:
    """Threads race with multi-event commands: each command's events stay together."""
    store.append(SITE, [household("0")])
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def writer(t: int) -> None:
        for i in range(15):
            size = 1 + (t + i) % 4
            events = [household(f"t{t}-{i}-{j}") for j in range(size)]
            outcome = store.execute(SITE, appending(events))
            with lock:
                outcomes.append(outcome)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    total = 1
    for outcome in outcomes:
        seqs = [e.seq for e in outcome.events]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert outcome.status == 201 and [e["seq"] for e in outcome.body["events"]] == seqs
        total += len(seqs)
    log = store.read(SITE)
    assert [e.seq for e in log] == list(range(1, total + 1))
    assert len({e.id for e in log}) == total
    assert store.state(SITE) == store.rebuild(SITE)


def test_a_command_that_appends_nothing_answers_200(store: EventStore) -> None:
    outcome = store.execute(SITE, lambda _s, _n: Decision(extra={"note": "nothing to do"}))
    assert (outcome.status, outcome.events) == (200, ())
    assert outcome.body == {"events": [], "note": "nothing to do"}
    assert store.head(SITE) == 0


# --- idempotency --------------------------------------------------------------------------------
def _add(ref: str) -> Decide:
    """A command that adds a new household each time it runs (a new id each time)."""
    return lambda _state, _now: Decision([household(ref)], extra={"ref": ref})


def test_same_key_same_request_is_answered_from_the_store(store: EventStore) -> None:
    key = IdempotencyKey("token-1", "k-1", "hash-a")
    first = store.execute(SITE, _add("1"), key)
    assert first.status == 201 and not first.replayed and len(first.events) == 1
    before = snapshot_of(store)

    again = store.execute(SITE, _add("1"), key)
    assert again.replayed is True
    assert (again.status, again.body) == (first.status, first.body)
    assert again.events == ()  # nothing appended
    assert snapshot_of(store) == before

    with pytest.raises(IdempotencyConflict):  # same key, another request
        store.execute(SITE, _add("1"), IdempotencyKey("token-1", "k-1", "hash-b"))
    assert snapshot_of(store) == before

    other_scope = store.execute(SITE, _add("2"), IdempotencyKey("token-2", "k-1", "hash-a"))
    assert not other_scope.replayed and other_scope.status == 201
    other_site = store.execute(OTHER_SITE, _add("3"), key)
    assert not other_site.replayed and other_site.events[0].seq == 1
    assert store.head(SITE) == 2


def test_same_key_twice_in_one_group_commit_is_stored_once(store: EventStore) -> None:
    key = IdempotencyKey("token-1", "dup", "hash-a")
    futures = [store.submit(SITE, _add(f"d{i}"), key) for i in range(10)]
    conflict = store.submit(SITE, _add("x"), IdempotencyKey("token-1", "dup", "hash-z"))
    outcomes = [f.result(timeout=30) for f in futures]
    with pytest.raises(IdempotencyConflict):
        conflict.result(timeout=30)
    assert [o.replayed for o in outcomes] == [False] + [True] * 9
    assert all(o.body == outcomes[0].body for o in outcomes)
    assert store.head(SITE) == 1


def test_idempotency_keys_survive_reopening_the_store(url: str) -> None:
    key = IdempotencyKey("token-1", "k-1", "hash-a")
    first_store = open_store(url)
    try:
        first = first_store.execute(SITE, _add("1"), key)
    finally:
        first_store.close()

    reopened = open_store(url)
    try:
        again = reopened.execute(SITE, _add("1"), key)
        assert again.replayed and (again.status, again.body) == (first.status, first.body)
        with pytest.raises(IdempotencyConflict):
            reopened.execute(SITE, _add("1"), IdempotencyKey("token-1", "k-1", "hash-b"))
        assert reopened.head(SITE) == 1
    finally:
        reopened.close()


def test_purge_keeps_keys_for_at_least_seven_days(url: str) -> None:
    now = [utcnow()]
    opened = EventStore(url, clock=lambda: now[0])
    migrate.upgrade(opened.writer_engine)
    opened.start()
    try:
        key = IdempotencyKey("token-1", "k-1", "hash-a")
        opened.execute(SITE, _add("1"), key)
        now[0] += timedelta(days=7)
        assert opened.purge_idempotency() == 0
        assert opened.execute(SITE, _add("1"), key).replayed
        now[0] += timedelta(days=2)
        assert opened.purge_idempotency() == 1
    finally:
        opened.close()


# --- projections ----------------------------------------------------------------------------
def _assert_restores(url: str, expected: SiteState) -> SiteState:
    reopened = open_store(url)
    try:
        restored = reopened.state(SITE)
        assert restored == reopened.rebuild(SITE)
        assert restored == expected
        return restored
    finally:
        reopened.close()


def test_projection_is_restored_on_reopen(url: str) -> None:
    store = open_store(url)
    try:
        seeded = seed_site(store)
        state = store.state(SITE)
        assert state == store.rebuild(SITE)
        expected = state.model_copy(deep=True)
    finally:
        store.close()
    restored = _assert_restores(url, expected)
    assert restored.incidents[seeded.incident_id].is_open
    assert len(restored.tokens) == 9


def test_projection_is_restored_from_snapshot_and_tail(url: str) -> None:
    store = open_store(url)
    try:
        seed_site(store)
        store.write_snapshot(SITE)
        snap_seq = store.head(SITE)
        tail = store.append(SITE, [household("t1"), household("t2")])
        assert [e.seq for e in tail] == [snap_seq + 1, snap_seq + 2]
        expected = store.state(SITE).model_copy(deep=True)
    finally:
        store.close()

    engine = create_engines(url)[0]
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.select(schema.snapshots)).one()
        assert (row.site_id, row.seq) == (SITE, snap_seq)
    finally:
        engine.dispose()
    _assert_restores(url, expected)

    # Show that the restore really starts from the snapshot: mark the snapshot, reopen.
    marked = dict(row.state)
    marked["state"] = {**marked["state"], "site": {"name": "from the snapshot"}}
    _write_snapshot_row(url, snap_seq, marked)
    reopened = open_store(url)
    try:
        state = reopened.state(SITE)
        assert state.site == {"name": "from the snapshot"}
        assert state.seq == snap_seq + 2
        assert {"t1", "t2"} <= {h.ref for h in state.households.values()}
        assert reopened.rebuild(SITE) == expected  # the log itself is untouched
    finally:
        reopened.close()

    # A snapshot of another state version is ignored: the whole log is replayed.
    _write_snapshot_row(url, snap_seq, {**marked, "version": -1})
    _assert_restores(url, expected)


def test_the_writer_snapshots_every_so_many_events(url: str) -> None:
    store = open_store(url)
    try:
        store.append(SITE, [household(f"h{i}") for i in range(SNAPSHOT_EVERY_EVENTS - 1)])
        store.append(SITE, [household("last"), household("one more")])  # crosses the mark
        head = store.head(SITE)
        expected = store.state(SITE).model_copy(deep=True)
    finally:
        store.close()  # waits for a snapshot being written

    engine = create_engines(url)[0]
    try:
        with engine.connect() as connection:
            row = connection.execute(sa.select(schema.snapshots)).one()
    finally:
        engine.dispose()
    assert row.seq == head == SNAPSHOT_EVERY_EVENTS + 1
    assert SiteState.from_snapshot(row.state) == expected
    _assert_restores(url, expected)


def _write_snapshot_row(url: str, seq: int, data: dict[str, Any]) -> None:
    engine = create_engines(url)[0]
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.update(schema.snapshots)
                .where(schema.snapshots.c.site_id == SITE)
                .values(seq=seq, state=data)
            )
    finally:
        engine.dispose()


# --- durability and migrations -----------------------------------------------------------------
def test_durability_settings(store: EventStore) -> None:
    for engine in (store.writer_engine, store.reader_engine):
        settings = durability_settings(engine)
        if store.url.startswith("sqlite"):
            assert settings == {"journal_mode": "wal", "synchronous": "FULL"}
        else:
            assert settings == {"synchronous_commit": "on", "fsync": "on"}


def _alembic(engine: sa.Engine, action: str, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrate.MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def test_head_revision_is_alembics_head() -> None:
    # A start checks HEAD_REVISION without loading Alembic: a new migration must move it too.
    assert migrate.head_revision() == migrate.HEAD_REVISION


def test_migrations_upgrade_and_round_trip(url: str) -> None:
    engine = create_engines(url)[0]
    try:
        assert migrate.head_revision() is not None
        assert migrate.current_revision(engine) is None
        assert not migrate.at_head(engine)

        migrate.upgrade(engine)
        assert migrate.at_head(engine)
        tables = set(sa.inspect(engine).get_table_names())
        assert {"events", "site_heads", "idempotency", "snapshots"} <= tables
        migrate.upgrade(engine)  # again: nothing to do
        assert migrate.at_head(engine)

        _alembic(engine, "downgrade", "base")
        assert migrate.current_revision(engine) is None and not migrate.at_head(engine)
        assert not {"events", "site_heads", "idempotency", "snapshots"} & set(
            sa.inspect(engine).get_table_names()
        )
        migrate.upgrade(engine)
        assert migrate.at_head(engine)
    finally:
        engine.dispose()

    store = open_store(url)  # the schema after the round trip works
    try:
        assert [e.seq for e in store.append(SITE, [household("1"), household("2")])] == [1, 2]
        again = store.execute(SITE, _add("3"), IdempotencyKey("t", "k", "h"))
        assert store.execute(SITE, _add("3"), IdempotencyKey("t", "k", "h")).body == again.body
    finally:
        store.close()


def test_a_failing_command_fails_alone_and_the_writer_survives_a_lost_table(
    store: EventStore, url: str
) -> None:
    """A command that raises an unexpected error fails alone, not its whole group commit.
    When the log's table is gone, the writer refuses commands (StoreUnavailable, 503) instead
    of dying, and works again, with nothing lost, once the table is back."""

    def broken(_state: SiteState, _now: datetime) -> Decision:
        raise RuntimeError("a bug in one command")

    good = [store.submit(SITE, appending([household(f"g{i}")])) for i in range(3)]
    bad = store.submit(SITE, broken)
    more = [store.submit(SITE, appending([household(f"m{i}")])) for i in range(3)]
    with pytest.raises(CommandFailed):
        bad.result()
    assert all(f.result().status == 201 for f in good + more)
    assert store.head(SITE) == 6

    admin = sa.create_engine(url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE events RENAME TO events_away")
        with pytest.raises(sa.exc.DBAPIError):
            store.execute(SITE, appending([household("lost-1")]))
        with pytest.raises(StoreUnavailable):
            store.execute(SITE, appending([household("lost-2")]))
        assert not store.healthy
        with admin.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE events_away RENAME TO events")
    finally:
        admin.dispose()
    assert store.execute(SITE, appending([household("back")])).status == 201
    assert store.healthy
    assert [e.payload["ref"] for e in store.read(SITE)][-1] == "back"
    assert store.head(SITE) == store.state(SITE).seq == 7
