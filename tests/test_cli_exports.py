"""`konenut log export` and `konenut log import` as an operator runs them (docs/exports.md):
the installed console script, real SQLite and PostgreSQL stores, a real server on the copy."""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest

from helpers import SITE, open_store, seed_site
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import hash_secret
from konenut.config import Settings
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id, utcnow
from konenut.domain.roles import Role
from konenut.store.eventstore import event_body
from server import KonenutServer, run_konenut

PHONE = "+972501234567"
SECRET_KEYS = {"token_hash", "code_hash", "radio_code_hash", "endpoint", "p256dh", "auth"}
PLACEHOLDER_PREFIX = "0" * 40  # app/exports.PLACEHOLDER_ZEROS


@dataclass
class Place:
    """A data dir and, for PostgreSQL, the database the CLI is pointed at."""

    data_dir: Path
    database_url: str | None

    @property
    def env(self) -> dict[str, str]:
        return {"KONENUT_DATABASE_URL": self.database_url} if self.database_url else {}

    @property
    def url(self) -> str:
        return self.database_url or Settings(data_dir=self.data_dir).resolved_database_url


def konenut(place: Place, *args: str, ok: bool = True, env: dict[str, str] | None = None) -> Any:
    result = run_konenut(*args, "--data-dir", str(place.data_dir), env={**place.env, **(env or {})})
    assert (result.returncode == 0) == ok, (
        f"konenut {' '.join(args)} exited {result.returncode}\n"
        f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
    )
    return result


def place(tmp_path: Path, name: str, backend: str, request: pytest.FixtureRequest) -> Place:
    url = request.getfixturevalue("fresh_postgres_url") if backend == "postgresql" else None
    return Place(tmp_path / name, url)


@pytest.fixture(params=[("sqlite", "postgresql"), ("postgresql", "sqlite")], ids="->".join)
def source_and_copy(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Place, Place]:
    """Export from one backend, import into the other: each exports and imports once."""
    source, copy = request.param
    return place(tmp_path, "source", source, request), place(tmp_path, "copy", copy, request)


@dataclass
class Seeded:
    admin_token: str
    before: dict[str, Any]  # the source's projection when exported
    bodies: list[dict[str, Any]]  # its events as their senders get them back


def seed(source: Place) -> Seeded:
    """A site with people (one with a phone), devices per role, an incident, a position and a
    sighting."""
    konenut(source, "init")
    store = open_store(source.url)
    try:
        seeded = seed_site(store)
        store.execute(
            SITE,
            handlers.add_person(None, c.AddPerson(ref="p-9", name="Dana Cohen", phone=PHONE)),
        )
        where = {"lat": 31.4, "lon": 34.5, "accuracy_m": 8.0}
        incident = seeded.incident_id
        store.append(
            SITE,
            [
                NewEvent(
                    "casualty.reported",
                    {"casualty_id": new_id(), "tag": "C-01", "name": "Yossi Levi"},
                    utcnow(),
                    incident_id=incident,
                ),
                NewEvent(
                    "position.reported",
                    {"subject_id": seeded.subjects[Role.COMMANDER], "callsign": "commander-1"},
                    utcnow(),
                    incident_id=incident,
                    location=where,
                ),
                NewEvent(
                    "sighting.reported",
                    {"sighting_id": new_id(), "category": "hostile", "count": 3},
                    utcnow(),
                    incident_id=incident,
                    location={"lat": 31.41, "lon": 34.51},
                ),
            ],
        )
        state = store.rebuild(SITE)
        assert state.token_by_hash(hash_secret(seeded.tokens[Role.ADMIN])) is not None
        bodies = [event_body(e) for e in store.read(SITE)]
        return Seeded(seeded.tokens[Role.ADMIN], state.snapshot(), bodies)
    finally:
        store.close()


def masked(value: Any) -> Any:
    """A snapshot with every secret's value replaced by one marker."""
    if isinstance(value, dict):
        return {
            k: "*" if k in SECRET_KEYS and v is not None else masked(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def secrets_in(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [v for k, v in value.items() if k in SECRET_KEYS and isinstance(v, str)]
        return found + [s for v in value.values() for s in secrets_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in secrets_in(v)]
    return []


def lines_of(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def rewritten(path: Path, change: Any, target: Path) -> Path:
    """`path` with `change(lines)` applied and its checksum line made right again."""
    lines = lines_of(path)
    change(lines)
    body = b"".join(orjson.dumps(line) + b"\n" for line in lines[:-1])
    trailer = {"konenut_export_end": {"events": len(lines) - 2, "sha256": _sha(body)}}
    target.write_bytes(body + orjson.dumps(trailer) + b"\n")
    return target


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def stored_events(copy: Place) -> int:
    store = open_store(copy.url)
    try:
        return len(store.read(SITE))
    finally:
        store.close()


@pytest.fixture
def servers() -> Iterator[list[KonenutServer]]:
    started: list[KonenutServer] = []
    yield started
    for server in started:
        server.stop()


# --- the tests ------------------------------------------------------------------------------
def test_an_imported_export_has_the_same_projection_and_lets_no_device_in(
    source_and_copy: tuple[Place, Place], tmp_path: Path, servers: list[KonenutServer]
) -> None:
    source, copy = source_and_copy
    seeded = seed(source)
    export = tmp_path / "site.jsonl"
    konenut(source, "log", "export", "-o", str(export))

    lines = lines_of(export)
    header, trailer = lines[0]["konenut_export"], lines[-1]["konenut_export_end"]
    assert header["site_id"] == SITE and header["kind"] == "full"
    assert (header["first_seq"], header["last_seq"]) == (1, len(seeded.bodies))
    assert trailer == {"events": len(seeded.bodies), "sha256": _sha(b"".join(
        line + b"\n" for line in export.read_bytes().splitlines()[:-1]
    ))}  # fmt: skip
    assert seeded.admin_token not in export.read_text()

    imported = konenut(copy, "log", "import", str(export))
    assert f"Imported {len(seeded.bodies)} events" in imported.stdout

    store = open_store(copy.url)
    try:
        # The same log: seq, ids, times, actors, payloads (but secrets) as exported.
        assert [event_body(e) for e in store.read(SITE)] == seeded.bodies
        after = store.rebuild(SITE).snapshot()
        assert store.state(SITE).snapshot() == after  # the snapshot the import wrote
    finally:
        store.close()
    assert masked(after) == masked(seeded.before)
    placeholders = secrets_in(after)
    assert placeholders and all(s.startswith(PLACEHOLDER_PREFIX) for s in placeholders)
    assert len(set(placeholders)) == len(placeholders)

    server = KonenutServer(copy.data_dir, database_url=copy.database_url)
    servers.append(server)
    server.start()
    with server.client(headers={"Authorization": f"Bearer {seeded.admin_token}"}) as client:
        assert client.get("/api/v1/me").status_code == 401


def test_a_changed_file_is_refused_and_nothing_is_stored(tmp_path: Path) -> None:
    source, copy = Place(tmp_path / "source", None), Place(tmp_path / "copy", None)
    seed(source)
    export = tmp_path / "site.jsonl"
    konenut(source, "log", "export", "-o", str(export))

    tampered = tmp_path / "tampered.jsonl"
    tampered.write_bytes(export.read_bytes().replace(b"Dana Cohen", b"Dana Kohen"))
    refused = konenut(copy, "log", "import", str(tampered), ok=False)
    assert "checksum mismatch: the file was changed" in refused.stderr
    assert "nothing was stored" in refused.stderr

    def newer(lines: list[dict[str, Any]]) -> None:
        lines[0]["konenut_export"]["state_version"] += 1

    refused = konenut(
        copy, "log", "import", str(rewritten(export, newer, tmp_path / "n")), ok=False
    )
    assert "written by a newer Konenut: state_version" in refused.stderr

    def bad_event(lines: list[dict[str, Any]]) -> None:  # the checksum is right again
        lines[-2]["payload"]["count"] = -1

    refused = konenut(
        copy, "log", "import", str(rewritten(export, bad_event, tmp_path / "b")), ok=False
    )
    assert "invalid payload for sighting.reported: payload.count" in refused.stderr

    cut = tmp_path / "cut.jsonl"
    cut.write_bytes(b"".join(export.read_bytes().splitlines(keepends=True)[:-1]))
    refused = konenut(copy, "log", "import", str(cut), ok=False)
    assert "cut short" in refused.stderr

    other = konenut(copy, "log", "import", str(export), ok=False, env={"KONENUT_SITE_ID": "other"})
    assert "the export is of site 'site'" in other.stderr
    assert not copy.data_dir.exists()  # nothing stored, not even an empty database

    konenut(copy, "log", "import", str(export))
    count = stored_events(copy)
    again = konenut(copy, "log", "import", str(export), ok=False)
    assert "the store already holds a log" in again.stderr
    assert stored_events(copy) == count


def test_a_redacted_export_names_roles_not_people_and_holds_no_phone(tmp_path: Path) -> None:
    source = Place(tmp_path / "source", None)
    seed(source)
    export = tmp_path / "public.jsonl"
    konenut(source, "log", "export", "--redacted", "-o", str(export))

    text = export.read_text()
    assert PHONE not in text and "Dana Cohen" not in text and "Commander Person" not in text
    assert "Yossi Levi" not in text  # a casualty's name
    events = lines_of(export)[1:-1]
    names = {
        e["payload"]["ref"]: e["payload"]["name"] for e in events if e["type"] == "person.added"
    }
    assert names["p-commander"] == "commander" and names["p-9"] == "resident"
    households = [e["payload"]["name"] for e in events if e["type"] == "household.added"]
    assert households == ["household", "household"]
    assert lines_of(export)[0]["konenut_export"]["kind"] == "redacted"

    refused = konenut(Place(tmp_path / "copy", None), "log", "import", str(export), ok=False)
    assert "not a redacted" in refused.stderr


def test_positions_and_sightings_as_csv_geojson_and_kml(tmp_path: Path) -> None:
    source = Place(tmp_path / "source", None)
    seed(source)

    table = konenut(source, "log", "export", "--format", "csv").stdout
    rows = list(csv.DictReader(io.StringIO(table.lstrip("\ufeff"))))
    assert [(r["kind"], r["label"], r["lat"], r["lon"]) for r in rows] == [
        ("position", "commander-1", "31.4", "34.5"),
        ("sighting", "hostile", "31.41", "34.51"),
    ]
    assert rows[1]["count"] == "3" and rows[0]["accuracy_m"] == "8.0"

    geojson = orjson.loads(konenut(source, "log", "export", "--format", "geojson").stdout)
    assert [f["geometry"]["coordinates"] for f in geojson["features"]] == [
        [34.5, 31.4],
        [34.51, 31.41],
    ]
    kml = konenut(source, "log", "export", "--format", "kml").stdout
    assert "<coordinates>34.5,31.4</coordinates>" in kml and "sighting hostile" in kml

    public = konenut(source, "log", "export", "--format", "csv", "--redacted").stdout
    assert "commander-1" not in public  # a position says its source, not its callsign

    last = lines_of_log(source)[-1]
    assert last["type"] == "audit.log_exported"
    assert last["payload"] == {"format": "csv", "event_count": 2, "via": "cli", "redacted": True}


def lines_of_log(source: Place) -> list[dict[str, Any]]:
    store = open_store(source.url)
    try:
        return [event_body(e) for e in store.read(SITE)]
    finally:
        store.close()
