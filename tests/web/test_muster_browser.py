"""The muster in real browsers, one context per person: the commander calls the squad with
one tap, the phones get the call without a reload, answers (and an undo) reach the board;
the service worker shows a pushed call and answers from its "Coming" button."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import expect

from helpers import SITE
from konenut.app import commands as c
from konenut.app import handlers, muster
from konenut.domain.events import Event
from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    DESKTOP,
    PAGE_READY_MS,
    PHONE,
    WebSite,
    desktop_context,
    enrol,
    phone_context,
    squad_member,
    wait_ready,
)

pytestmark = pytest.mark.browser

TEMPLATE = "muster.template.hostile_infiltration"
# A phone in a pocket: the page runs, but its screen is not visible.
SCREEN_OFF = "Object.defineProperty(document, 'visibilityState', {get: () => 'hidden'});"


def responders() -> list[dict[str, Any]]:
    from konenut.demo import load_residents

    squad: list[dict[str, Any]] = load_residents()["responders"]
    return [r for r in squad if r["roles"] == ["responder"]]


def wait_for_event(web: WebSite, after: int, type_: str, **payload: Any) -> Event:
    """The first event of `type_` after `after` whose payload has these fields (5 s)."""
    for _ in range(50):
        for event in web.events_after(after, type_):
            if all(event.payload.get(k) == v for k, v in payload.items()):
                return event
        time.sleep(0.1)
    raise AssertionError(f"no {type_} with {payload}")


def add_key(web: WebSite, ref: str, name: str, holder_ref: str) -> str:
    cmd = c.AddAsset(
        ref=ref, kind="gate_key", name=name, holder_person_id=web.person_id(holder_ref)
    )
    web.store.execute(SITE, muster.add_asset(None, cmd))
    asset = next(a for a in web.state.assets.values() if a.ref == ref)
    return str(asset.asset_id)


def commander_page(web: WebSite, browser: Any, lang: str = "en") -> tuple[Any, Any]:
    context = desktop_context(browser)
    code = web.person_code(squad_member("commander")["person_ref"], [Role.COMMANDER])
    page = enrol(context, web.url, code, lang)
    page.goto(f"{web.url}/{lang}/operator")
    wait_ready(page)
    return context, page


def big(page: Any, group: str) -> Any:
    return page.locator(f"#muster-big [data-group={group}] b")


def test_one_tap_call_answers_undo_and_keys_on_the_board(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    team = responders()[:3]
    ids = [web.person_id(r["person_ref"]) for r in team]
    # Keys needed at the muster: one with a member who will come, one with one who will not.
    near_key = add_key(web, "test-g3", "Orchard gate key", team[0]["person_ref"])
    far_key = add_key(web, "test-g7", "Fence gate key", responders()[4]["person_ref"])
    contexts = []
    try:
        context, commander = commander_page(web, browser)
        contexts.append(context)
        phones = []
        for i, member in enumerate(team):
            context = phone_context(browser)
            contexts.append(context)
            if i == 2:
                context.add_init_script(SCREEN_OFF)
            code = web.person_code(member["person_ref"], [])
            phones.append(enrol(context, web.url, code, "en"))
        head = web.head()

        # One tap arms the button (it says what it will send), the second sends.
        button = commander.locator("#cmd-muster")
        expect(commander.locator("#activate-what")).to_contain_text(
            catalogue("en")[TEMPLATE], timeout=APPEARS_WITHIN_MS
        )
        button.click()
        expect(button).to_have_class("primary activate armed")
        expect(commander.locator("#activate-label")).to_have_text(
            catalogue("en")["operator.activate_confirm"]
        )
        button.click()
        called = wait_for_event(web, head, "muster.called", template="hostile_infiltration")
        assert called.incident_id == web.incident_id
        assert called.payload["targets"] == []  # the whole squad

        # Every phone shows the call, in its own language, without a reload.
        for phone in phones:
            lang = phone.evaluate("document.documentElement.lang")
            expect(phone.locator("#muster")).to_be_visible(timeout=APPEARS_WITHIN_MS)
            expect(phone.locator("#muster-what")).to_have_text(catalogue(lang)[TEMPLATE])
        # The screens that are on say so; the phone in a pocket does not.
        for person_id in ids[:2]:
            wait_for_event(web, head, "muster.seen", person_id=person_id, via="app")
        assert not [
            e for e in web.events_after(head, "muster.seen") if e.payload["person_id"] == ids[2]
        ]

        phones[0].click("#muster-answer [data-answer=coming]")
        phones[1].click("#muster-answer [data-answer=coming]")
        expect(big(commander, "coming")).to_have_text("2", timeout=APPEARS_WITHIN_MS)
        expect(big(commander, "seen")).to_have_text("0")
        unseen = commander.locator(f"#muster-unseen li[data-person='{ids[2]}']")
        expect(unseen).to_be_visible()
        board = web.api(web.token(c.IssueEnrollmentCode(subject_id=ids[0]))).get(
            f"/api/v1/incidents/{web.incident_id}/muster"
        )
        waiting = sum(
            board.json()["counts"].get(s, 0) for s in ("not_notified", "notified", "delivered")
        )
        expect(big(commander, "unseen")).to_have_text(str(waiting))
        assert waiting == len(board.json()["people"]) - 2

        # The squad sees who answered (so a member knows whether to wait or go).
        expect(phones[2].locator("#muster-coming")).to_contain_text(team[0]["callsign"])
        expect(phones[2].locator("#muster-coming")).to_contain_text(team[1]["callsign"])
        # After "coming": the next steps.
        expect(phones[0].locator("#muster-next")).to_be_visible()
        expect(phones[0].locator("#muster-answer")).to_be_hidden()

        # Keys: one coming with its holder, one missing — ask its holder to bring it.
        keys = commander.locator("#muster-keys")
        expect(keys.locator(f"li[data-asset='{near_key}']")).to_contain_text(team[0]["callsign"])
        far = keys.locator(f"li[data-asset='{far_key}']")
        expect(far).to_have_class("row key warn")  # not answered yet: not lost yet
        far.locator("button.ask").click()
        wait_for_event(web, head, "asset.requested", asset_id=far_key)
        expect(far.locator("small")).to_be_visible(timeout=APPEARS_WITHIN_MS)

        # A wrong tap, undone in one tap: back to "coming".
        phones[1].click("#status-buttons [data-status=cannot]")
        row = commander.locator(f"#muster-list li[data-person='{ids[1]}']")
        expect(row).to_have_attribute("data-state", "cannot", timeout=APPEARS_WITHIN_MS)
        expect(big(commander, "coming")).to_have_text("1")
        phones[1].click("#undo")
        expect(row).to_have_attribute("data-state", "coming", timeout=APPEARS_WITHIN_MS)
        expect(big(commander, "coming")).to_have_text("2")
        expect(phones[1].locator("#muster-undo")).to_be_hidden()
        statuses = [
            e.payload["status"]
            for e in web.events_after(head, "responder.status_changed")
            if e.payload["person_id"] == ids[1]
        ]
        assert statuses == ["coming", "cannot", "coming"]

        # What a squad leader and a member see at 06:30, in Hebrew and in Thai.
        for lang in ("he", "th"):
            commander.goto(f"{web.url}/{lang}/operator")
            wait_ready(commander)
            expect(big(commander, "coming")).to_have_text(
                commander.evaluate(
                    "n => new Intl.NumberFormat(document.documentElement.lang).format(n)", 2
                ),
                timeout=APPEARS_WITHIN_MS,
            )
            commander.screenshot(path=artifacts / f"muster-board-{lang}.png")
            commander.set_viewport_size(PHONE)  # the squad leader on the move: boards as tabs
            commander.click(".tabs [data-tab=muster]")
            commander.screenshot(path=artifacts / f"muster-board-phone-{lang}.png")
            commander.set_viewport_size(DESKTOP)
            phones[0].goto(f"{web.url}/{lang}/responder")
            wait_ready(phones[0])
            expect(phones[0].locator("#muster-what")).to_have_text(catalogue(lang)[TEMPLATE])
            phones[0].screenshot(path=artifacts / f"muster-call-{lang}.png")
            phones[2].goto(f"{web.url}/{lang}/responder")
            wait_ready(phones[2])
            expect(phones[2].locator("#muster-answer")).to_be_visible()
            phones[2].screenshot(path=artifacts / f"muster-call-unanswered-{lang}.png")
        assert commander.errors == [] and all(p.errors == [] for p in phones)
    finally:
        for context in contexts:
            context.close()


def test_the_service_worker_shows_a_pushed_call_and_answers_from_its_button(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    member = responders()[3]
    person_id = web.person_id(member["person_ref"])
    leader = web.token(
        c.IssueEnrollmentCode(
            subject_id=web.person_id(squad_member("commander")["person_ref"]),
            roles=[Role.COMMANDER],
        )
    )
    contexts = []
    try:
        context, commander = commander_page(web, browser)
        contexts.append(context)
        context = phone_context(browser)
        contexts.append(context)
        context.grant_permissions(["geolocation", "notifications"])
        context.add_init_script(SCREEN_OFF)  # the phone is locked: only the push can reach it
        phone = enrol(context, web.url, web.person_code(member["person_ref"], []), "he")
        phone.wait_for_selector("html[data-offline=ready]", state="attached", timeout=PAGE_READY_MS)
        worker = context.service_workers[0]
        head = web.head()
        with web.api(leader) as api:
            answer = api.post(
                "/api/v1/squad/activate",
                json={"incident_id": web.incident_id, "text": "Back gate"},
                headers={"Idempotency-Key": f"push-test-{person_id}"},
            )
            assert answer.status_code == 201, answer.text
            muster_id = answer.json()["muster_id"]
        row = commander.locator(f"#muster-list li[data-person='{person_id}']")
        expect(row).to_be_visible(timeout=APPEARS_WITHIN_MS)

        payload = {
            "title": "קריאה לכיתה",
            "body": "חדירת מחבלים — הגיעו חמושים לנשקייה",
            "lang": "he",
            "ack_url": "/he/responder",
            "tag": f"muster-{muster_id}",
            "data": {"kind": "muster", "incident_id": web.incident_id, "muster_id": muster_id},
        }
        worker.evaluate(
            "payload => self.dispatchEvent(new PushEvent('push', {data: payload}))",
            json.dumps(payload, ensure_ascii=False),
        )
        shown = worker.evaluate(
            """async () => {
                for (let i = 0; i < 50; i++) {
                    const list = await self.registration.getNotifications();
                    if (list.length) return list.map((n) => ({
                        title: n.title, body: n.body, dir: n.dir, lang: n.lang, tag: n.tag,
                        requireInteraction: n.requireInteraction,
                        actions: n.actions.map((a) => [a.action, a.title]), data: n.data,
                    }));
                    await new Promise((r) => setTimeout(r, 100));
                }
                return [];
            }"""
        )
        assert len(shown) == 1
        he = catalogue("he")
        assert shown[0]["title"] == payload["title"] and shown[0]["body"] == payload["body"]
        assert shown[0]["dir"] == "rtl" and shown[0]["requireInteraction"] is True
        assert shown[0]["actions"] == [
            ["coming", he["status.coming"]],
            ["cannot", he["status.cannot"]],
        ]

        # The "Coming" button on the notification: the answer reaches the board.
        worker.evaluate(
            """async () => {
                const [notification] = await self.registration.getNotifications();
                const init = {notification, action: 'coming'};
                self.dispatchEvent(new NotificationEvent('notificationclick', init));
            }"""
        )
        changed = wait_for_event(web, head, "responder.status_changed", person_id=person_id)
        assert changed.payload["status"] == "coming" and changed.payload["via"] == "push"
        seen = wait_for_event(web, head, "muster.seen", person_id=person_id)
        assert seen.payload["via"] == "notification" and seen.payload["muster_id"] == muster_id
        expect(row).to_have_attribute("data-state", "coming", timeout=APPEARS_WITHIN_MS)
        commander.screenshot(path=artifacts / "muster-board-after-push-en.png")
        assert commander.errors == [] and phone.errors == []
    finally:
        for context in contexts:
            context.close()


def test_a_volunteer_joins_by_the_commanders_code_and_is_approved_in_one_tap(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    leader = web.token(
        c.IssueEnrollmentCode(
            subject_id=web.person_id(squad_member("commander")["person_ref"]),
            roles=[Role.COMMANDER],
        )
    )
    with web.api(leader) as api:
        api.post(
            "/api/v1/squad/activate",
            json={"incident_id": web.incident_id},
            headers={"Idempotency-Key": "volunteer-test-call"},
        ).raise_for_status()
    context, commander = commander_page(web, browser)
    try:
        commander.click("#volunteer-qr")
        expect(commander.locator("#volunteer-qr-img")).to_have_attribute(
            "src", re.compile(r"^data:image/"), timeout=APPEARS_WITHIN_MS
        )
        shown = commander.locator("#volunteer-code").inner_text()
        assert re.fullmatch(r"[A-Z2-7]{4}( [A-Z2-7]{4}){3}", shown), shown  # read out in fours
        assert (
            commander.locator("#volunteer-link")
            .inner_text()
            .endswith("/en/p#" + shown.replace(" ", ""))
        )
        commander.screenshot(path=artifacts / "muster-volunteer-pass-en.png")

        # Someone who is not on the roster joins with the code they were read out.
        with httpx.Client(base_url=web.url, timeout=10.0) as stranger:
            joined = stranger.post(
                "/api/v1/passes/redeem",
                json={
                    "code": shown,
                    "name": "Off-duty officer Levi",
                    "affiliation": "police",
                    "armed": True,
                },
                headers={"Idempotency-Key": "volunteer-levi"},
            )
            assert joined.status_code == 201, joined.text
        pending = commander.locator("#volunteer-list li", has_text="Off-duty officer Levi")
        expect(pending).to_be_visible(timeout=APPEARS_WITHIN_MS)
        head = web.head()
        pending.locator("button.approve").click()
        approved = wait_for_event(web, head, "volunteer.approved")
        expect(pending).to_be_hidden(timeout=APPEARS_WITHIN_MS)
        row = commander.locator(
            f"#muster-list li[data-person='{approved.payload['volunteer_id']}']"
        )
        expect(row.locator(".volunteer-mark")).to_contain_text(
            catalogue("en")["operator.affiliation.police"], timeout=APPEARS_WITHIN_MS
        )
        assert commander.errors == []
    finally:
        context.close()


def test_a_key_whose_holder_is_not_registered_yet_says_holder_unknown(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    """A site set up in any order (issue 10, item 17): a key names its holder's ref before that
    person is registered; the board says "holder unknown" until they are, then names them."""
    cmd = c.AddAsset(ref="test-g11", kind="gate_key", name="Vineyard gate key", holder_ref="late")
    web.store.execute(SITE, muster.add_asset(None, cmd))
    asset = web.state.asset_by_ref("test-g11")
    assert asset is not None and asset.holder_person_id is None
    leader = web.token(
        c.IssueEnrollmentCode(
            subject_id=web.person_id(squad_member("commander")["person_ref"]),
            roles=[Role.COMMANDER],
        )
    )
    called = [web.person_id(responders()[5]["person_ref"])]
    with web.api(leader) as api:
        answer = api.post(
            "/api/v1/squad/activate",
            json={"incident_id": web.incident_id, "person_ids": called},
            headers={"Idempotency-Key": "holder-unknown-call"},
        )
        assert answer.status_code == 201, answer.text
    context, commander = commander_page(web, browser)
    try:
        row = commander.locator(f"#muster-keys li[data-asset='{asset.asset_id}']")
        unknown = catalogue("en")["operator.key_holder_unknown"].format(ref="\u2068late\u2069")
        expect(row.locator(".st")).to_have_text(unknown, timeout=APPEARS_WITHIN_MS)
        expect(row).to_have_class("row key unknown")
        expect(row.locator("button.ask")).to_have_count(0)  # nobody to ask yet
        commander.screenshot(path=artifacts / "muster-key-holder-unknown-en.png")

        # The holder is registered later: the key is theirs, without touching it again.
        late = c.AddPerson(ref="late", name="Yoav Late")
        web.store.execute(SITE, handlers.add_person(None, late))
        expect(row.locator(".st")).to_contain_text("Yoav Late", timeout=APPEARS_WITHIN_MS)
        assert commander.errors == []
    finally:
        context.close()
