"""Every file of the hostile-input corpus, replayed against a real server on every run.

tests/security/corpus/ holds inputs that broke, or could break, a server like this one; the
subfolder says where each goes:

- `images/*`: uploaded as a sighting photo (pixel bombs);
- `sheets/*`: imported as the household registry (zip and grid bombs, giant cells);
- `json/<route>/*`: sent as the body of that command (deep nesting, numbers no double holds,
  NaN, invalid UTF-8, lone surrogates, NUL, duplicate keys, ...); two of the routes are the
  hot routes' (check-in, position: api/fastpath.py), two ordinary ones (sighting, hostages);
- `headers/*`: raw header lines sent with a valid check-in and a valid sighting (overlong,
  invalid UTF-8 or doubled tokens and keys); `{token}` stands for the caller's own token and
  `{other_token}` for another device's.

Each must be refused with a 4xx problem+json — never a 5xx, never a dropped connection — and
leave nothing in the log or the photo store. Files the server takes on purpose are listed in
ACCEPTED with the reason. A new file needs no new code: drop it in its folder.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import SITE
from konenut.api.problems import PROBLEM_JSON
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import hash_secret
from konenut.app.registry import XLSX_TYPE
from konenut.demo import load_site_plan
from konenut.domain.roles import Role
from stream.test_websocket import Server, serving

CORPUS = Path(__file__).parent / "corpus"
# Taken on purpose, and defused where they could do harm (the test that shows it).
ACCEPTED = {
    "sheets/formula_injection.csv": "imported as data, exported as text "
    "(tests/api/test_registry_hostile.py)",
}
MEDIA_TYPES = {
    ".jpg": "image/jpeg",
    ".png": "image/png",
    ".webp": "image/webp",
    ".csv": "text/csv",
    ".xlsx": XLSX_TYPE,
}


@dataclass(frozen=True)
class Target:
    """A route as one role calls it, and a body it takes."""

    path: str  # {incident_id} and {household_id} filled from the seeded site
    role: Role
    valid: str = ""


JSON_TARGETS = {
    "check_in": Target(
        "/api/v1/incidents/{incident_id}/households/{household_id}/check-ins",
        Role.RESIDENT,
        '{"status": "safe", "people_count": 3, "text": "ok"}',
    ),
    "position": Target(
        "/api/v1/incidents/{incident_id}/positions",
        Role.RESPONDER,
        '{"location": {"lat": 30.4301, "lon": 34.9702}, "callsign": "ok"}',
    ),
    "sighting": Target(
        "/api/v1/incidents/{incident_id}/sightings",
        Role.RESPONDER,
        '{"location": {"lat": 30.4301, "lon": 34.9702}, "category": "hostile", "count": 2}',
    ),
    "hostages": Target(
        "/api/v1/incidents/{incident_id}/hostage-situations",
        Role.OPERATOR,
        '{"building_ref": "12", "people_inside": 2, "text": "ok"}',
    ),
}
PHOTO = Target("/api/v1/incidents/{incident_id}/photos", Role.RESPONDER)
SHEET = Target("/api/v1/site/households/import", Role.ADMIN)
HEADER_TARGETS = ("check_in", "sighting")


def _files(folder: str) -> list[str]:
    return sorted(str(p.relative_to(CORPUS)) for p in (CORPUS / folder).rglob("*") if p.is_file())


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("corpus")) as running:
        plan = c.ConfigureSite(name="Tel Kinamon", plan=load_site_plan())  # buildings 12, 31
        running.store.execute(SITE, handlers.configure_site(None, plan))
        yield running


def _path(server: Server, target: Target) -> str:
    seeded = server.seeded
    return target.path.format(incident_id=seeded.incident_id, household_id=seeded.household_id)


def _send(
    server: Server, target: Target, body: bytes, headers: list[tuple[bytes, bytes]]
) -> httpx.Response:
    return server.http.post(_path(server, target), content=body, headers=headers)


def _headers(server: Server, role: Role, media_type: str) -> list[tuple[bytes, bytes]]:
    return [
        (b"Authorization", f"Bearer {server.seeded.tokens[role]}".encode()),
        (b"Idempotency-Key", uuid.uuid4().hex.encode()),
        (b"Content-Type", media_type.encode()),
    ]


def _stored_photos(server: Server) -> list[Path]:
    root = Path(server.store.url.removeprefix("sqlite:///")).parent / "photos"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _token_id(server: Server, role: Role) -> str:
    view = server.store.state(SITE).token_by_hash(hash_secret(server.seeded.tokens[role]))
    assert view is not None
    return view.token_id


def _refused(server: Server, name: str, role: Role, send: Any) -> None:
    """`send()` is answered 4xx problem+json, and the caller's device stored nothing (the
    squad's own rules may append on their own meanwhile: cautions about earlier sightings)."""
    head, photos = server.head(), _stored_photos(server)
    answer = send()
    assert 400 <= answer.status_code < 500, f"{name}: {answer.status_code} {answer.text[:300]}"
    assert answer.headers["content-type"].startswith(PROBLEM_JSON), (name, answer.headers)
    problem = answer.json()
    assert problem["status"] == answer.status_code and problem["detail"], (name, problem)
    assert problem["type"].startswith("urn:konenut:problem:"), (name, problem)
    device = _token_id(server, role)
    stored = [(e.type, e.payload) for e in server.store.read(SITE, head) if e.device == device]
    assert not stored, f"{name} stored {stored}"
    assert _stored_photos(server) == photos, f"{name} stored a photo"


# --- the targets take what is valid (so a refusal below is the hostile part's doing) ---------
@pytest.mark.parametrize("route", sorted(JSON_TARGETS))
def test_each_json_target_takes_its_valid_body(server: Server, route: str) -> None:
    target = JSON_TARGETS[route]
    headers = _headers(server, target.role, "application/json")
    answer = _send(server, target, target.valid.encode(), headers)
    assert answer.status_code == 201, answer.text


# --- the replay -------------------------------------------------------------------------------
@pytest.mark.parametrize("name", _files("json"))
def test_hostile_json_bodies_are_refused(server: Server, name: str) -> None:
    route = Path(name).parent.name
    target = JSON_TARGETS[route]
    body = (CORPUS / name).read_bytes()
    headers = _headers(server, target.role, "application/json")
    _refused(server, name, target.role, lambda: _send(server, target, body, headers))


@pytest.mark.parametrize("name", _files("images"))
def test_hostile_images_are_refused(server: Server, name: str) -> None:
    body = (CORPUS / name).read_bytes()
    headers = _headers(server, PHOTO.role, MEDIA_TYPES[Path(name).suffix])
    _refused(server, name, PHOTO.role, lambda: _send(server, PHOTO, body, headers))


@pytest.mark.parametrize("name", _files("sheets"))
def test_hostile_sheets_are_refused(server: Server, name: str) -> None:
    body = (CORPUS / name).read_bytes()
    headers = _headers(server, SHEET.role, MEDIA_TYPES[Path(name).suffix])
    if name in ACCEPTED:
        answer = _send(server, SHEET, body, headers)
        assert answer.status_code in (200, 201), answer.text
        return
    _refused(server, name, SHEET.role, lambda: _send(server, SHEET, body, headers))


def _hostile_headers(server: Server, role: Role, name: str) -> list[tuple[bytes, bytes]]:
    """A valid request's headers with the file's lines in place of those of the same names."""
    other = Role.COMMANDER if role is not Role.COMMANDER else Role.OPERATOR
    text = (CORPUS / name).read_bytes()
    text = text.replace(b"{token}", server.seeded.tokens[role].encode())
    text = text.replace(b"{other_token}", server.seeded.tokens[other].encode())
    lines = [line.split(b":", 1) for line in text.splitlines() if line.strip()]
    given = [(key.strip(), value.strip()) for key, value in lines]
    names = {key.lower() for key, _ in given}
    kept = [h for h in _headers(server, role, "application/json") if h[0].lower() not in names]
    return kept + given


@pytest.mark.parametrize("route", HEADER_TARGETS)
@pytest.mark.parametrize("name", _files("headers"))
def test_hostile_headers_are_refused(server: Server, name: str, route: str) -> None:
    target = JSON_TARGETS[route]
    headers = _hostile_headers(server, target.role, name)
    _refused(
        server, name, target.role, lambda: _send(server, target, target.valid.encode(), headers)
    )


def test_the_corpus_is_all_replayed() -> None:
    """Every file sits in a folder this test replays (a misplaced one would never run)."""
    known = {"images", "sheets", "json", "headers"}
    stray = [p for p in _files("") if Path(p).parts[0] not in known]
    assert not stray, f"corpus files no test replays: {stray}"
    unknown = {Path(p).parent.name for p in _files("json")} - set(JSON_TARGETS)
    assert not unknown, f"json/<route> folders with no target: {unknown}"
    assert set(ACCEPTED) <= set(_files("")), "ACCEPTED names a file that is not in the corpus"
    assert _files("images") and _files("sheets") and _files("json") and _files("headers")
