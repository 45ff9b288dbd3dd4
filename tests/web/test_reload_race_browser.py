"""A page that re-reads its picture when an incident opens loses nothing sent meanwhile.

Found by leaving the war-room console open before the day began: the incident opened, a house
reported "someone in the house" in the same second, and the console's households board still
said "No household has reported danger" (the accountability board, read separately, had it).
The check-in came over the stream while the console re-read the new incident, was folded into
the old picture, and the snapshot that then replaced it had been read just before it. The same
race would drop the first instruction from a resident's phone.

Each test makes the race certain: the page's read of the new incident reaches the server at
once, but its answer is held back until the test has appended the next event and given the
stream time to bring it to the page.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from helpers import SITE, open_store
from konenut.app import commands as c
from konenut.config import Settings
from konenut.demo import seed as demo
from konenut.domain.roles import Role, SubjectKind
from konenut.i18n import catalogue
from konenut.server import create_app

from .conftest import (
    APPEARS_WITHIN_MS,
    ThreadServer,
    WebSite,
    desktop_context,
    enrol,
    household_speaking,
    phone_context,
    squad_member,
)

pytestmark = pytest.mark.browser
INCIDENT_READ = re.compile(r"/api/v1/incidents/[0-9a-f-]{36}$")
STREAM_CATCHES_UP_SECS = 1.5  # the appended event reaches the page before the snapshot does


@pytest.fixture
def quiet_village(tmp_path: Path) -> Iterator[WebSite]:
    """The demo village before the day begins: no incident open."""
    store = open_store(f"sqlite:///{tmp_path / 'konenut.db'}")
    try:
        demo.seed(store, SITE)
        with ThreadServer(create_app(Settings(data_dir=tmp_path), store)) as url:
            yield WebSite(url, store, incident_id="")
    finally:
        store.close()


def post(web: WebSite, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with web.api(token) as api:
        answer = api.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def answer_late(page: Any, meanwhile: Callable[[str], None]) -> None:
    """The page's first read of an incident is answered with what the server said then, but
    only after `meanwhile(incident_id)` has appended an event and the stream has carried it."""
    done: list[bool] = []

    def handle(route: Any) -> None:
        if done:
            route.continue_()
            return
        done.append(True)
        response = route.fetch()
        meanwhile(route.request.url.rsplit("/", 1)[-1])
        time.sleep(STREAM_CATCHES_UP_SECS)
        route.fulfill(response=response)

    page.route(INCIDENT_READ, handle)


def test_a_check_in_made_as_the_incident_opens_reaches_the_console(
    quiet_village: WebSite, browser: Any
) -> None:
    web = quiet_village
    ref = household_speaking("he")
    household_id = web.household(ref).household_id
    commander = web.token(
        c.IssueEnrollmentCode(
            subject_id=web.person_id(squad_member("commander")["person_ref"]),
            roles=[Role.COMMANDER],
        )
    )
    resident = web.token(
        c.IssueEnrollmentCode(subject_id=household_id, subject_kind=SubjectKind.HOUSEHOLD)
    )
    context = desktop_context(browser)
    try:
        console = enrol(
            context,
            web.url,
            web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR]),
        )
        words = catalogue("en")
        expect(console.locator("#household-list")).to_contain_text(
            words["operator.no_households_in_danger"], timeout=APPEARS_WITHIN_MS
        )

        def someone_in_the_house(incident_id: str) -> None:
            post(
                web,
                resident,
                f"/api/v1/incidents/{incident_id}/households/{household_id}/check-ins",
                {"status": "intruder", "people_count": 3},
            )

        answer_late(console, someone_in_the_house)
        post(web, commander, "/api/v1/incidents", {"title": "Infiltration, east fence"})

        danger = console.locator(f"#household-list li.bad[data-household='{household_id}']")
        expect(danger).to_contain_text(words["household.intruder"], timeout=APPEARS_WITHIN_MS * 2)
        assert not console.errors
    finally:
        context.close()


def test_the_first_instruction_reaches_a_resident_phone_as_the_incident_opens(
    quiet_village: WebSite, browser: Any
) -> None:
    web = quiet_village
    ref = household_speaking("en")
    commander = web.token(
        c.IssueEnrollmentCode(
            subject_id=web.person_id(squad_member("commander")["person_ref"]),
            roles=[Role.COMMANDER],
        )
    )
    context = phone_context(browser)
    try:
        phone = enrol(context, web.url, web.household_code(ref), "en")
        words = catalogue("en")

        def stay_inside(incident_id: str) -> None:
            post(
                web,
                commander,
                f"/api/v1/incidents/{incident_id}/broadcasts",
                {"template": "stay_in_shelter"},
            )

        answer_late(phone, stay_inside)
        post(web, commander, "/api/v1/incidents", {"title": "Infiltration, east fence"})

        expect(phone.locator("#instruction-text")).to_have_text(
            words["instruction.stay_in_shelter"], timeout=APPEARS_WITHIN_MS * 2
        )
        assert not phone.errors
    finally:
        context.close()
