"""Challenge/password and safe word in real browsers: the commander sets them on the console,
a responder sees the words only after unlocking, a resident sees the safe word and never the
challenge (not on the page, not in its WebSocket frames)."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from helpers import SITE
from konenut.app import commands as c
from konenut.domain.roles import Role, SubjectKind

from .conftest import (
    APPEARS_WITHIN_MS,
    WebSite,
    desktop_context,
    enrol,
    household_speaking,
    phone_context,
    squad_member,
)

pytestmark = pytest.mark.browser
SAFE_WORD = "marigold"  # in no generated list: it cannot be one of the pair


def wait_for_pair(web: WebSite, after: int) -> Any:
    """The incident's pair, once a challenge.set after `after` is in the log (5 s)."""
    for _ in range(50):
        if web.events_after(after, "challenge.set"):
            return web.store.state(SITE).incidents[web.incident_id].challenge
        time.sleep(0.1)
    raise AssertionError("no challenge.set within 5 s")


def test_the_commander_sets_the_challenge_the_responder_unlocks_it_the_resident_never_sees_it(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    contexts = [desktop_context(browser), phone_context(browser), phone_context(browser)]
    console_ctx, responder_ctx, resident_ctx = contexts
    try:
        frames: list[Any] = []
        resident_page = resident_ctx.new_page()
        resident_page.on(
            "websocket",
            lambda ws: ws.on("framereceived", lambda data: frames.append(json.loads(data))),
        )
        resident = enrol(
            resident_ctx, web.url, web.household_code(household_speaking("en")), "en", resident_page
        )
        responder_page = responder_ctx.new_page()
        responder_page.clock.install()  # the page's own clock, moved on by the test
        responder = enrol(
            responder_ctx,
            web.url,
            web.person_code(squad_member("responder")["person_ref"], [Role.RESPONDER]),
            "en",
            responder_page,
        )
        commander = enrol(
            console_ctx,
            web.url,
            web.person_code(squad_member("commander")["person_ref"], [Role.COMMANDER]),
            "en",
        )
        # The commander generates a pair and tells residents the safe word.
        commander.click("#cmd-challenge")
        head = web.head()
        commander.click("#challenge-generate")
        pair = wait_for_pair(web, head)
        expect(commander.locator("#challenge-now")).to_contain_text(pair.challenge)
        commander.fill("#safe-word-input", SAFE_WORD)
        commander.click("#safe-word-set")
        expect(commander.locator("#safe-word-input")).to_have_value(SAFE_WORD)
        for _ in range(50):  # stored before the dialog closes
            if web.store.state(SITE).incidents[web.incident_id].safe_word == SAFE_WORD:
                break
            time.sleep(0.1)
        commander.keyboard.press("Escape")
        expect(commander.locator("#challenge-now")).to_have_text("")  # gone from the page

        # The responder: hidden until the tap, then both words.
        box = responder.locator("#challenge")
        expect(box).to_be_visible(timeout=APPEARS_WITHIN_MS)
        expect(responder.locator("#challenge-words")).to_be_hidden()
        assert not shown_words(responder, pair)
        responder.click("#challenge-unlock")
        expect(responder.locator("#challenge-word")).to_have_text(pair.challenge)
        expect(responder.locator("#password-word")).to_have_text(pair.password)
        expect(responder.locator("#challenge-words")).not_to_contain_text("null")
        assert pair.challenge not in responder.title()
        responder.screenshot(path=str(artifacts / "responder-challenge.png"))
        # 30 s later the words are gone again; one more tap brings them back.
        responder.clock.fast_forward("00:31")
        expect(responder.locator("#challenge-words")).to_be_hidden()
        assert not shown_words(responder, pair)
        responder.click("#challenge-unlock")
        expect(responder.locator("#challenge-word")).to_have_text(pair.challenge)
        # Leaving the page (screen off, another app) hides the words again.
        responder.evaluate(
            """() => {
                const hidden = { value: "hidden", configurable: true };
                Object.defineProperty(document, "visibilityState", hidden);
                document.dispatchEvent(new Event("visibilitychange"));
            }"""
        )
        expect(responder.locator("#challenge-words")).to_be_hidden()
        assert not shown_words(responder, pair)
        # A rotation is announced by its time; the new words stay behind the tap.
        ref = squad_member("commander")["person_ref"]
        cmd = c.IssueEnrollmentCode(subject_id=web.person_id(ref), roles=[Role.COMMANDER])
        with web.api(web.token(cmd)) as client:
            rotated = client.post(
                f"/api/v1/incidents/{web.incident_id}/challenge/rotate",
                json={},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
        assert rotated.status_code == 201, rotated.text
        expect(responder.locator("#challenge-changed")).not_to_be_empty(timeout=APPEARS_WITHIN_MS)
        new_pair = web.store.state(SITE).incidents[web.incident_id].challenge
        assert not shown_words(responder, new_pair)

        # The resident: the safe word, never the pair.
        expect(resident.locator("#safe-word-text")).to_contain_text(
            SAFE_WORD, timeout=APPEARS_WITHIN_MS
        )
        resident.screenshot(path=str(artifacts / "resident-safe-word.png"))
        assert not shown_words(resident, pair) and not shown_words(resident, new_pair)
        events = [f for f in frames if isinstance(f, dict) and "payload" in f]
        assert not [f for f in events if f["type"] == "challenge.set"], "never on its stream"
        assert not [f for f in events if {"challenge", "password"} & set(f["payload"])]
        assert any(f["type"] == "safe_word.set" for f in events), "the stream was watched"
        for page in (resident, responder, commander):
            assert page.errors == [], page.errors
    finally:
        for context in contexts:
            context.close()


def shown_words(page: Any, pair: Any) -> set[str]:
    """The words of the pair that the page shows as words (its text, and its title)."""
    text = page.evaluate("document.title + ' ' + document.body.innerText")
    return {pair.challenge, pair.password} & set(re.findall(r"\w+", text))


def acks(n: int, total: int) -> re.Pattern[str]:
    """ "n/total acknowledged" in any language (numbers are isolated inside the sentence)."""
    return re.compile(rf"(^|\D){n}\W{{0,2}}/\W{{0,2}}{total}(\D|$)")


def _responder_in(web: WebSite, team: str) -> str:
    """The ref of a demo responder (no other squad role) in `team`."""
    people = sorted(web.state.persons.values(), key=lambda p: p.ref)
    return next(
        p.ref
        for p in people
        if team in p.teams and set(p.roles) <= {"responder", "resident"} and "responder" in p.roles
    )


def test_an_order_to_a_team_reaches_its_members_and_the_console_counts_the_acks(
    web: WebSite, browser: Any
) -> None:
    contexts = [desktop_context(browser), phone_context(browser), phone_context(browser)]
    console_ctx, north_ctx, south_ctx = contexts
    text = "Hold the north gate until relieved"
    try:
        north = enrol(
            north_ctx, web.url, web.person_code(_responder_in(web, "north"), [Role.RESPONDER])
        )
        south = enrol(
            south_ctx, web.url, web.person_code(_responder_in(web, "south"), [Role.RESPONDER])
        )
        commander = enrol(
            console_ctx,
            web.url,
            web.person_code(squad_member("commander")["person_ref"], [Role.COMMANDER]),
        )
        commander.click("#cmd-order")
        commander.fill("#order-text", text)
        commander.select_option("#order-to", value="team:north")
        commander.click("#dlg-order button[value=ok]")
        members = [p for p in web.state.persons.values() if "north" in p.teams]
        row = commander.locator(".order-row", has_text=text)
        expect(row.locator(".order-acks")).to_contain_text(
            acks(0, len(members)), timeout=APPEARS_WITHIN_MS
        )
        order = north.locator(".order", has_text=text)
        expect(order).to_be_visible(timeout=APPEARS_WITHIN_MS)
        order.locator("button.ack").click()
        expect(row.locator(".order-acks")).to_contain_text(
            acks(1, len(members)), timeout=APPEARS_WITHIN_MS
        )
        # The timeline tells both: the order and its acknowledgement.
        expect(commander.locator("#timeline")).to_contain_text(text)
        assert south.locator(".order", has_text=text).count() == 0
        assert text not in south.content()
        for page in (north, south, commander):
            assert page.errors == [], page.errors
    finally:
        for context in contexts:
            context.close()


def test_the_arriving_units_liaison_reads_the_challenge_and_cannot_change_it(
    web: WebSite, browser: Any
) -> None:
    ref = squad_member("commander")["person_ref"]
    cmd = c.IssueEnrollmentCode(subject_id=web.person_id(ref), roles=[Role.COMMANDER])
    with web.api(web.token(cmd)) as client:
        set_ = client.put(
            f"/api/v1/incidents/{web.incident_id}/challenge",
            json={},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    assert set_.status_code == 201, set_.text
    pair = web.store.state(SITE).incidents[web.incident_id].challenge
    context = desktop_context(browser)
    try:
        code = web.code(
            c.IssueEnrollmentCode(subject_kind=SubjectKind.LIAISON, incident_id=web.incident_id)
        )
        liaison = enrol(context, web.url, code)
        for command in ("#cmd-muster", "#cmd-broadcast", "#cmd-order", "#cmd-sighting"):
            expect(liaison.locator(command)).to_be_hidden()  # read-only: the challenge only
        liaison.click("#cmd-challenge")
        expect(liaison.locator("#challenge-now")).to_contain_text(pair.challenge)
        expect(liaison.locator("#challenge-now")).to_contain_text(pair.password)
        expect(liaison.locator("#challenge-controls")).to_be_hidden()
        expect(liaison.locator("#safe-word-set")).to_be_hidden()
        assert liaison.errors == [], liaison.errors
    finally:
        context.close()
