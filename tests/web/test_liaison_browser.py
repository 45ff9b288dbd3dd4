"""A liaison pass in one tap (issue 15 item 1), in a real Chromium: the commander makes it from
the console for the arriving unit; the unit's phones type the code read out over the radio on
the start page and see the incident's picture read-only, one in Hebrew (right to left), one in
English; a device past the pass's cap is refused in its own language."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    PAGE_READY_MS,
    WebSite,
    desktop_context,
    enrol,
    phone_context,
    post,
    serve_village,
    squad_member,
    wait_ready,
)

pytestmark = pytest.mark.browser
UNIT = "צנחנים 890"  # the unit's name as the commander types it
TASK = "Open the north gate for the unit"
NEAR_THE_GATE = {"lat": 30.4301, "lon": 34.9702}
COMMANDS = ("#cmd-passes", "#cmd-broadcast", "#cmd-order", "#cmd-sighting", "#cmd-muster")


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    with serve_village(tmp_path_factory.mktemp("web-liaison"), "Infiltration, north") as village:
        yield village


def _make_pass(web: WebSite, browser: Any) -> tuple[Any, str]:
    """The commander's console makes a pass for UNIT for two devices: (its context, radio code)."""
    context = desktop_context(browser)
    code = web.person_code(squad_member("commander")["person_ref"], [Role.COMMANDER])
    page = enrol(context, web.url, code, "en")
    page.click("#cmd-passes")
    dialog = page.locator("#dlg-passes")
    dialog.locator("#pass-unit").fill(UNIT)
    dialog.locator("#pass-devices").fill("2")
    dialog.locator("#pass-liaison").click()
    radio = dialog.locator("[data-pass=radio]")
    expect(radio).to_have_text(re.compile(r"^\d{4} \d{4} \d{4}$"), timeout=APPEARS_WITHIN_MS)
    expect(dialog.locator("#pass-what")).to_contain_text(UNIT)
    said = radio.inner_text()
    # The dialog lists the pass, ready to be withdrawn.
    dialog.locator("#pass-another").click()
    expect(dialog.locator("#liaison-passes")).to_contain_text(UNIT, timeout=APPEARS_WITHIN_MS)
    assert page.errors == []
    return context, said


def _type_the_code(context: Any, url: str, lang: str, said: str) -> Any:
    """On the start page, type the code as heard over the radio."""
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{url}/{lang}/")
    page.fill("#code", said)
    page.click("#code-submit")
    return page


def _reads_the_picture(page: Any, lang: str) -> None:
    words = catalogue(lang)
    page.wait_for_url(re.compile(f"/{lang}/operator$"), timeout=PAGE_READY_MS)
    wait_ready(page)
    expect(page.locator("#liaison-unit")).to_contain_text(UNIT, timeout=APPEARS_WITHIN_MS)
    board = page.locator("#liaison-board")
    expect(board).to_contain_text(words["liaison.title"])
    threats = page.locator("#liaison-threats-box")
    expect(threats).to_contain_text(words["sighting.hostile"], timeout=APPEARS_WITHIN_MS)
    expect(threats).to_contain_text(words["sighting.armed"])
    expect(page.locator("#liaison-occupied-box li").first).to_contain_text(
        words["household.need_medic"], timeout=APPEARS_WITHIN_MS
    )
    casualties = page.locator("#liaison-casualties-box")
    expect(casualties).to_contain_text(words["casualty.state.reported"])
    expect(casualties).to_be_attached()
    assert casualties.get_attribute("hidden") is None  # the slot shows once the server has them
    expect(page.locator("#liaison-tasks-box")).to_contain_text(TASK)
    for command in COMMANDS:
        expect(page.locator(command)).to_be_hidden()
    assert page.errors == []


def test_the_arriving_unit_types_the_radio_code_and_reads_the_picture(
    village: WebSite, browser: Any, artifacts: Path
) -> None:
    web = village
    operator = web.squad_api(Role.OPERATOR)
    inc = f"/api/v1/incidents/{web.incident_id}"
    post(
        operator,
        f"{inc}/sightings",
        {"location": NEAR_THE_GATE, "category": "hostile", "count": 3, "armed": True},
    )
    home = next(iter(web.state.households.values()))
    post(operator, f"{inc}/households/{home.household_id}/check-ins", {"status": "need_medic"})
    post(operator, f"{inc}/casualties", {"location": NEAR_THE_GATE, "count": 2})
    responder = web.person_id(squad_member("responder")["person_ref"])
    post(operator, f"{inc}/tasks", {"title": TASK, "assignee_ids": [responder]})
    commander, said = _make_pass(web, browser)
    contexts = [commander]
    try:
        # The unit's commander, in Hebrew: the console right to left, read-only.
        hebrew = phone_context(browser)
        contexts.append(hebrew)
        page = _type_the_code(hebrew, web.url, "he", said)
        _reads_the_picture(page, "he")
        assert page.evaluate("document.documentElement.dir") == "rtl"
        page.screenshot(path=artifacts / "liaison-he.png")

        # Their radio operator, in English.
        english = phone_context(browser)
        contexts.append(english)
        page = _type_the_code(english, web.url, "en", said.replace(" ", "-"))
        _reads_the_picture(page, "en")
        assert page.evaluate("document.documentElement.dir") == "ltr"
        page.click("nav.tabs [data-tab=muster]")  # on a phone the boards are tabs
        expect(page.locator("#liaison-board")).to_be_visible()
        page.screenshot(path=artifacts / "liaison-en.png")

        # A third device: the pass was for two.
        third = phone_context(browser)
        contexts.append(third)
        page = _type_the_code(third, web.url, "en", said)
        expect(page.locator("#status")).to_have_text(
            catalogue("en")["liaison.used_up"], timeout=APPEARS_WITHIN_MS
        )
    finally:
        for opened in contexts:
            opened.close()
