"""The operator console's gaps (issue 10 item 18), in a real Chromium: the timeline words every
event (no raw type names), each broadcast says to whom it went, and a commander makes a guest
poster and a liaison pass from the console, whose printed links work."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from konenut.domain.event_types import REGISTRY
from konenut.domain.events import Event
from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    PAGE_READY_MS,
    PAGE_URL,
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
ISOLATE = "\u2068{}\u2069"  # how a page's text wraps a placeholder's value
TEMPLATE = "stay_in_safe_room"
POSTER_BUILDING = "W3"


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    """A demo village of its own: broadcasts to every household here reach no other test."""
    with serve_village(tmp_path_factory.mktemp("web-console"), "Infiltration, west") as village:
        yield village


def wait_for(web: WebSite, after: int, type_: str) -> list[Event]:
    deadline = time.monotonic() + APPEARS_WITHIN_MS / 1000
    while True:
        found = web.events_after(after, type_)
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)


def console(web: WebSite, browser: Any, role: Role) -> tuple[Any, Any, dict[str, str]]:
    """A console enrolled as the demo's `role`, shown in English, and its words."""
    context = desktop_context(browser)
    code = web.person_code(squad_member(role.value)["person_ref"], [role])
    page = enrol(context, web.url, code, "en")
    if not page.url.endswith("/en/operator"):
        page.goto(f"{web.url}/en/operator")
        wait_ready(page)
    return context, page, catalogue("en")


def test_the_timeline_words_every_event_and_no_type_name(
    village: WebSite, browser: Any, artifacts: Path
) -> None:
    web = village
    operator = web.squad_api(Role.OPERATOR)
    context, page, words = console(web, browser, Role.OPERATOR)
    try:
        before = web.head()
        inc = f"/api/v1/incidents/{web.incident_id}"
        post(operator, f"{inc}/broadcasts", {"template": TEMPLATE})
        poster = post(operator, "/api/v1/site/guest-posters", {"building_ref": POSTER_BUILDING})
        with httpx.Client(base_url=web.url, timeout=10.0) as guest:
            post(
                guest,
                "/api/v1/passes/redeem-guest",
                {"code": poster["code"], "building_ref": POSTER_BUILDING, "people_count": 4},
            )
        # The households' copies were settled (no device subscribed: failed), as on the day.
        assert wait_for(web, before, "broadcast.delivery_settled")

        guest_row = words["guest.row"].format(
            ref=ISOLATE.format(POSTER_BUILDING), count=ISOLATE.format(4)
        )
        guests = page.locator("#timeline li[data-type='guest.checked_in']")
        expect(guests).to_contain_text(words["event.guest.checked_in"], timeout=APPEARS_WITHIN_MS)
        expect(guests).to_contain_text(guest_row)
        expect(page.locator("#timeline li[data-type='broadcast.sent']")).to_contain_text(
            catalogue("en")["instruction." + TEMPLATE]
        )
        # One line per household's copy would bury the day: they are on the broadcasts board.
        expect(page.locator("#timeline li[data-type^='broadcast.delivery']")).to_have_count(0)
        expect(page.locator("#timeline li[data-type='broadcast.read']")).to_have_count(0)
        # However full the boards above it, the timeline keeps room to be read.
        board = page.locator("#timeline-board").bounding_box()
        assert board is not None and board["height"] >= 200, board
        rows = page.locator("#timeline li[data-type]")
        for text in rows.all_inner_texts():
            assert not any(name in text for name in REGISTRY), text
        page.screenshot(path=artifacts / "console-timeline-en.png")
        assert page.errors == []
    finally:
        context.close()
        operator.close()


def test_each_broadcast_says_to_whom_it_went(
    village: WebSite, browser: Any, artifacts: Path
) -> None:
    web = village
    operator = web.squad_api(Role.OPERATOR)
    context, page, words = console(web, browser, Role.OPERATOR)
    try:
        inc = f"/api/v1/incidents/{web.incident_id}"
        households = len(web.state.households)
        chosen = [web.household("h-W4").household_id, web.household("h-W3").household_id]
        sent = {
            "all": post(operator, f"{inc}/broadcasts", {"template": TEMPLATE}),
            "households": post(
                operator, f"{inc}/broadcasts", {"template": TEMPLATE, "household_ids": chosen}
            ),
            "group": post(
                operator, f"{inc}/broadcasts", {"template": TEMPLATE, "group": "group_housing"}
            ),
        }
        group_size = len(
            web.state.incidents[web.incident_id]
            .broadcasts[sent["group"]["broadcast_id"]]
            .household_ids
        )
        expected = {
            "all": words["operator.bc.sent_to.all"].format(n=ISOLATE.format(households)),
            "households": words["operator.bc.sent_to.households"].format(n=ISOLATE.format(2)),
            "group": words["operator.bc.sent_to.group"].format(
                group=ISOLATE.format(words["operator.bc.group.group_housing"]),
                n=ISOLATE.format(group_size),
            ),
        }
        for audience, body in sent.items():
            summary = page.locator(f"#bc-list [data-broadcast='{body['broadcast_id']}'] summary")
            expect(summary).to_have_text(expected[audience], timeout=APPEARS_WITHIN_MS)
        page.locator("#bc-status").scroll_into_view_if_needed()
        page.screenshot(path=artifacts / "console-broadcasts-en.png")
        assert page.errors == []
    finally:
        context.close()
        operator.close()


def printed_path(link: str) -> str:
    """The path of a printed link (its host is the site's public address, not this server)."""
    return "/" + link.split("/", 3)[3]


def test_a_commander_makes_a_guest_poster_and_a_liaison_pass_from_the_console(
    village: WebSite, browser: Any, artifacts: Path
) -> None:
    web = village
    context, page, words = console(web, browser, Role.COMMANDER)
    contexts = [context]
    try:
        page.click("#cmd-passes")
        dialog = page.locator("#dlg-passes")
        expect(dialog).to_be_visible()
        dialog.locator("#pass-building").select_option(POSTER_BUILDING)
        dialog.locator("#pass-lang").select_option("th")
        dialog.locator("#pass-guest").click()
        shown = dialog.locator("#pass-shown")
        expect(shown).to_be_visible(timeout=APPEARS_WITHIN_MS)
        expect(shown.locator("[data-pass=qr]")).to_have_attribute(
            "src", re.compile(r"^data:image/png;base64,")
        )
        code = shown.locator("[data-pass=code]").inner_text()
        assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4}){3}", code), code  # read out in fours
        link = shown.locator("[data-pass=link]").inner_text()
        assert link.endswith("/th/p#" + code.replace(" ", "")), link
        expect(shown).to_contain_text(words["guest.here"].format(ref=ISOLATE.format("W3")))
        expect(dialog.locator("#pass-print")).to_be_visible()
        page.screenshot(path=artifacts / "console-guest-poster-en.png")
        page.emulate_media(media="print")
        page.screenshot(path=artifacts / "console-guest-poster-print.png")
        page.emulate_media(media="screen")

        # The poster's link, scanned by a guest's phone: the guest form, in Thai, for W3.
        phone = phone_context(browser)
        contexts.append(phone)
        guest = phone.new_page()
        guest.goto(web.url + printed_path(link))
        expect(guest.locator("#guest")).to_be_visible(timeout=PAGE_READY_MS)
        expect(guest.locator("#guest-building")).to_have_value(POSTER_BUILDING)
        assert guest.evaluate("document.documentElement.lang") == "th"

        # Then a liaison pass for the unit arriving at the gate.
        dialog.locator("#pass-another").click()
        expect(dialog.locator("#pass-liaison-box")).to_be_visible()
        before = web.head()
        dialog.locator("#pass-unit").fill("Police, Sderot station")
        dialog.locator("#pass-liaison").click()
        expect(shown).to_be_visible(timeout=APPEARS_WITHIN_MS)
        expect(shown).to_contain_text(words["operator.pass.liaison_title"])
        expect(shown).to_contain_text("Police, Sderot station")
        expect(shown.locator("#pass-note")).to_contain_text(ISOLATE.format(3))  # devices
        expect(shown.locator("[data-pass=qr]")).to_have_attribute(
            "src", re.compile(r"^data:image/png;base64,")
        )
        expect(shown.locator("[data-pass=radio]")).to_have_text(re.compile(r"^\d{4} \d{4} \d{4}$"))
        link = shown.locator("[data-pass=link]").inner_text()
        assert re.search(r"/en/p#[A-Z2-7]{16}$", link), link
        page.screenshot(path=artifacts / "console-liaison-pass-en.png")
        dialog.locator("button[value=cancel]").click()
        expect(shown.locator("[data-pass=link]")).to_have_text("")  # the code left the page

        # The unit's officer opens it: the incident's picture, read-only, for 12 hours.
        unit = desktop_context(browser)
        contexts.append(unit)
        officer = unit.new_page()
        officer.goto(web.url + printed_path(link))
        officer.wait_for_url(PAGE_URL, timeout=PAGE_READY_MS)
        wait_ready(officer)
        assert officer.url.endswith("/en/operator")
        expect(officer.locator("#incident-title")).to_contain_text("Infiltration, west")
        for command in ("#cmd-passes", "#cmd-broadcast", "#cmd-order", "#cmd-sighting"):
            expect(officer.locator(command)).to_be_hidden()
        enrolled = web.events_after(before, "device.enrolled")
        assert [e.payload["roles"] for e in enrolled] == [["liaison"]]
        assert enrolled[0].payload["incident_id"] == web.incident_id
        access = datetime.fromisoformat(enrolled[0].payload["expires_at"]) - enrolled[0].occurred_at
        assert timedelta(hours=11) < access <= timedelta(hours=12)
        assert page.errors == []
    finally:
        for opened in contexts:
            opened.close()


def test_an_operator_makes_guest_posters_but_no_liaison_pass(
    village: WebSite, browser: Any
) -> None:
    context, page, _ = console(village, browser, Role.OPERATOR)
    try:
        page.click("#cmd-passes")
        expect(page.locator("#pass-guest")).to_be_visible()
        expect(page.locator("#pass-liaison-box")).to_be_hidden()
    finally:
        context.close()
