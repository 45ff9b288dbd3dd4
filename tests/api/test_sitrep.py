"""The SITREP over HTTP (issue 15 item 2): a one-page PDF whose text `pdftotext` reads back, a
printable page in the reader's direction, the map image, the short text within 1,000
characters in every language, who may ask for it, and the text sent through a channel's
Apprise URL to a local receiver; every SITREP on the audit trail."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest.mock import ANY
from urllib.parse import unquote

import pytest

from api.conftest import Site, assert_problem, new_key, serve_site
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.sitrep import SHORT_TEXT_MAX_CHARS
from konenut.domain.roles import Role
from konenut.i18n import LANGUAGES
from notify.receivers import Receiver, receiver_factory  # noqa: F401  (a fixture)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DEPUTY_PHONE = "+972501234567"


def _sitrep(site: Site, what: str, role: Role = Role.COMMANDER, **params: str) -> Any:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return site.get(f"/api/v1/incidents/{site.incident_id}/sitrep{what}?{query}", role)


def _pdf_text(pdf: bytes, tmp_path: Path) -> tuple[int, str]:
    """(pages, text) as poppler's pdfinfo and pdftotext read the file."""
    path = tmp_path / "sitrep.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
    pages = next(
        int(line.split()[-1]) for line in info.stdout.splitlines() if line.startswith("Pages:")
    )
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True
    )
    return pages, text.stdout


def test_a_server_starts_without_the_renderers() -> None:
    """matplotlib and reportlab are loaded by the first SITREP, not by every server's start."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, konenut.server; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'reportlab'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"


def test_the_pdf_is_one_page_with_the_figures(site: Site, tmp_path: Path) -> None:
    answer = _sitrep(site, ".pdf", lang="en")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/pdf"
    pages, text = _pdf_text(answer.content, tmp_path)
    assert pages == 1
    for expected in (
        "SITREP",
        "Infiltration",
        "Tel Kinamon",
        "Forces",
        "Threats",
        "2 Unknown people",  # the seeded sighting
        "Civilians (households)",
        "No answer 2",  # neither household has answered
        "Hostages 0",
        "Casualties",
        "Open requests",
        "Open tasks",
    ):
        assert expected in text, (expected, text)


def test_a_long_day_still_fits_one_page(site: Site, tmp_path: Path) -> None:
    for n in range(25):
        sighting = {"location": {"lat": 30.43 + n / 10_000, "lon": 34.97}, "category": "hostile"}
        reported = site.post(
            f"/api/v1/incidents/{site.incident_id}/sightings", Role.COMMANDER, json=sighting
        )
        assert reported.status_code == 201, reported.text
    pages, text = _pdf_text(_sitrep(site, ".pdf", lang="en").content, tmp_path)
    assert pages == 1
    assert "+16" in text  # 26 threats: the first 10 are listed, and how many more


def test_the_hebrew_pdf_reads_back_in_hebrew(site: Site, tmp_path: Path) -> None:
    answer = _sitrep(site, ".pdf", lang="he")
    assert answer.status_code == 200, answer.text
    pages, text = _pdf_text(answer.content, tmp_path)
    assert pages == 1
    for expected in ("תמונת מצב", "כוחות", "איומים", "נפגעים", "משימות פתוחות"):
        assert expected in text, (expected, text)


def test_the_page_is_printable_in_the_readers_language_and_direction(site: Site) -> None:
    answer = _sitrep(site, ".html", lang="ar")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    page = answer.text
    assert '<html lang="ar" dir="rtl">' in page
    assert "القوات" in page and "التهديدات" in page
    assert '<img alt="خريطة الموقع مع الصورة الحية" src="data:image/png;base64,' in page
    assert "@page { size: A4;" in page


def test_the_map_is_drawn_on_the_server(site: Site) -> None:
    answer = _sitrep(site, ".png")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "image/png"
    assert answer.content.startswith(PNG_MAGIC)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_short_text_fits_an_sms_in_each_language(site: Site, lang: str) -> None:
    for n in range(30):  # a long list of threats, to be cut
        sighting = {"location": {"lat": 30.43 + n / 10_000, "lon": 34.97}, "category": "hostile"}
        reported = site.post(
            f"/api/v1/incidents/{site.incident_id}/sightings", Role.COMMANDER, json=sighting
        )
        assert reported.status_code == 201, reported.text
    answer = _sitrep(site, ".txt", lang=lang)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    assert 0 < len(answer.text) <= SHORT_TEXT_MAX_CHARS
    assert "Infiltration" in answer.text


def test_each_sitrep_is_on_the_audit_trail(site: Site) -> None:
    head = site.head()
    assert _sitrep(site, ".pdf", lang="he").status_code == 200
    assert _sitrep(site, ".txt", Role.OPERATOR, lang="th").status_code == 200
    audited = [e for e in site.events_after(head) if e.type == "audit.sitrep_produced"]
    assert [(e.payload, e.incident_id) for e in audited] == [
        ({"format": "pdf", "lang": "he"}, site.incident_id),
        ({"format": "text", "lang": "th"}, site.incident_id),
    ]
    timeline = site.get(f"/api/v1/incidents/{site.incident_id}/events", Role.ADMIN).json()
    assert "audit.sitrep_produced" in {e["type"] for e in timeline["events"]}
    commander = site.get(f"/api/v1/incidents/{site.incident_id}/events", Role.COMMANDER).json()
    assert "audit.sitrep_produced" not in {e["type"] for e in commander["events"]}


@pytest.mark.parametrize(
    ("role", "status"),
    [
        (Role.ADMIN, 200),
        (Role.COMMANDER, 200),
        (Role.OPERATOR, 200),
        (Role.LIAISON, 200),
        (Role.RESPONDER, 403),
        (Role.MEDIC, 403),
        (Role.RESIDENT, 403),
        (Role.GUEST, 403),
        (Role.VOLUNTEER, 403),
    ],
)
def test_who_may_ask_for_a_sitrep(site: Site, role: Role, status: int) -> None:
    assert _sitrep(site, ".txt", role, lang="en").status_code == status


def _deputy(site: Site, roles: list[Role]) -> str:
    added = site.store.execute(
        "site",
        handlers.add_person(
            None, c.AddPerson(ref="p-deputy", name="Deputy", roles=roles, phone=DEPUTY_PHONE)
        ),
    )
    return str(added.body["person_id"])


@pytest.fixture
def sending(tmp_path: Path, receiver_factory: Callable[..., Receiver]) -> Any:  # noqa: F811
    receiver = receiver_factory()
    base = f"json://127.0.0.1:{receiver.port}"
    with serve_site(
        tmp_path, notify_sms_url=f"{base}/sms/{{phone}}", notify_email_url=f"{base}/desk"
    ) as site:
        yield site, receiver


def test_the_short_text_goes_to_a_commanders_phone_once(sending: Any) -> None:
    site, receiver = sending
    deputy = _deputy(site, [Role.COMMANDER])
    head = site.head()
    path = f"/api/v1/incidents/{site.incident_id}/sitrep/send"
    body = {"channel": "sms", "person_id": deputy, "lang": "en"}
    key = new_key()
    answer = site.post(path, Role.COMMANDER, json=body, key=key)
    assert answer.status_code == 201, answer.text
    assert answer.json() == {"events": ANY, "sent": True, "detail": ANY, "to": ANY}
    (request,) = receiver.requests
    assert unquote(request.path) == f"/sms/{DEPUTY_PHONE}"
    sent = request.json()
    assert sent["title"].startswith("SITREP ")
    assert sent["message"].startswith(sent["title"])
    assert "Forces:" in sent["message"] and "2 Unknown people" in sent["message"]
    assert len(sent["message"]) <= SHORT_TEXT_MAX_CHARS
    # A retry of the same request is answered from its record and sends nothing again.
    again = site.post(path, Role.COMMANDER, json=body, key=key)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert len(receiver.requests) == 1
    audit = [e for e in site.events_after(head) if e.type == "audit.sitrep_sent"]
    assert [e.payload["sent"] for e in audit] == [True]
    assert DEPUTY_PHONE not in str(audit[0].payload)  # the number is masked


def test_the_short_text_goes_to_the_channels_own_target(sending: Any) -> None:
    site, receiver = sending
    body = {"channel": "email", "lang": "he"}
    answer = site.post(
        f"/api/v1/incidents/{site.incident_id}/sitrep/send", Role.OPERATOR, json=body
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["sent"] is True
    (request,) = receiver.requests
    assert request.path == "/desk"
    assert request.json()["message"].startswith("תמונת מצב")


def test_only_those_who_run_the_squad_receive_it(sending: Any) -> None:
    site, receiver = sending
    path = f"/api/v1/incidents/{site.incident_id}/sitrep/send"
    responder = _deputy(site, [Role.RESPONDER])
    refused = site.post(path, Role.COMMANDER, json={"channel": "sms", "person_id": responder})
    assert_problem(refused, 403, "forbidden", "may receive a SITREP")
    assert site.post(path, Role.LIAISON, json={"channel": "email"}).status_code == 403
    assert receiver.requests == []


def test_a_channel_not_configured_is_said_and_recorded(sending: Any) -> None:
    site, receiver = sending
    head = site.head()
    path = f"/api/v1/incidents/{site.incident_id}/sitrep/send"
    answer = site.post(path, Role.COMMANDER, json={"channel": "telegram"})
    assert answer.status_code == 201, answer.text
    assert (answer.json()["sent"], answer.json()["detail"]) == (False, "no Telegram bot configured")
    audit = [e.payload for e in site.events_after(head) if e.type == "audit.sitrep_sent"]
    assert [(a["channel"], a["sent"]) for a in audit] == [("telegram", False)]
    assert receiver.requests == []
