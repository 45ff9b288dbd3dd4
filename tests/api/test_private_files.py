"""The data dir is its owner's only, and code hashes are keyed (issue 11, item 12).

`konenut init` and `konenut serve` make the data dir 0700 and the database with its -wal and
-shm 0600 (and tighten a dir and database an older version left 0755/0644); uploaded photos are
0600 in 0700 folders. Enrollment and pass codes are stored as HMAC-SHA256 under a per-site key
from the `code_key` file (0600) in the data dir, not as unsalted SHA-256: a copy of the database
alone no longer gives a 40-bit code away. A pass printed before keying still opens.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import SITE
from konenut.app.identity import legacy_code_hash, new_code
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id, utcnow
from konenut.domain.roles import Role
from server import KonenutServer, run_konenut

from .conftest import Site
from .test_photos import image_bytes, photo_dir, uploaded

CODE = re.compile(r"\b([A-Z2-7]{4})-([A-Z2-7]{4})\b")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def usual_umask() -> Iterator[None]:
    """The umask most systems give (022): files made without care come out 0644."""
    before = os.umask(0o022)
    yield
    os.umask(before)


@pytest.mark.usefixtures("usual_umask")
def test_init_and_serve_keep_the_data_dir_to_its_owner(tmp_path: Path) -> None:
    data_dir = tmp_path / "kfar"
    init = run_konenut("init", "--data-dir", str(data_dir), "--site-name", "Kfar Test")
    assert init.returncode == 0, init.stderr
    code = "".join(CODE.findall(init.stdout)[0])
    with KonenutServer(data_dir) as server:  # while it runs, SQLite keeps its -wal and -shm
        database = data_dir / "konenut.db"
        files = [database, data_dir / "konenut.db-wal", data_dir / "konenut.db-shm"]
        assert [mode(p) for p in [data_dir, *files, data_dir / "code_key"]] == [
            0o700,
            *[0o600] * 4,
        ]
        with server.client() as client:
            enrolled = client.post(
                "/api/v1/enroll", json={"code": code}, headers={"Idempotency-Key": "first"}
            )
        assert enrolled.status_code == 201, enrolled.text

    os.chmod(data_dir, 0o755)  # as an older version left them
    os.chmod(database, 0o644)
    assert run_konenut("incident", "list", "--data-dir", str(data_dir)).returncode == 0
    assert (mode(data_dir), mode(database)) == (0o700, 0o600)


@pytest.mark.usefixtures("usual_umask")
def test_photos_are_the_owners_only(site: Site) -> None:
    body = uploaded(site, image_bytes("PNG", (64, 48)), media_type="image/png")
    folder = photo_dir(site) / body["photo_id"][:2]
    assert [mode(photo_dir(site)), mode(folder), mode(folder / body["photo_id"][2:])] == [
        0o700,
        0o700,
        0o600,
    ]


def test_codes_are_hashed_with_the_sites_key(site: Site, tmp_path: Path) -> None:
    person_id = site.seeded.subjects[Role.RESPONDER]
    before = site.head()
    issued = site.post("/api/v1/site/enrollment-codes", Role.ADMIN, json={"subject_id": person_id})
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]
    (event,) = [e for e in site.events_after(before) if e.type == "enrollment.code_issued"]
    stored = event.payload["code_hash"]
    assert stored != hashlib.sha256(f"code:{code}".encode()).hexdigest()  # unsalted, before
    key_file = tmp_path / "code_key"  # beside the database: the data dir
    assert mode(key_file) == 0o600
    site_key = hmac.new(
        key_file.read_text().strip().encode(), f"konenut-site-code-key:{SITE}".encode(), "sha256"
    ).digest()
    assert stored == hmac.new(site_key, f"code:{code}".encode(), "sha256").hexdigest()
    enrolled = site.post("/api/v1/enroll", json={"code": code})
    assert enrolled.status_code == 201, enrolled.text


def test_a_pass_printed_before_codes_were_keyed_still_opens(site: Site) -> None:
    code = new_code(16)
    payload = {
        "pass_id": new_id(),
        "purpose": "household_card",
        "role": "resident",
        "household_id": site.seeded.household_id,
        "max_devices": 10,
        "code_hash": legacy_code_hash(code),
    }
    site.store.append(SITE, [NewEvent(type="pass.issued", payload=payload, occurred_at=utcnow())])
    inspected = site.post("/api/v1/passes/inspect", json={"code": code})
    assert inspected.status_code == 200, inspected.text
    assert inspected.json()["purpose"] == "household_card"
