"""The web app in a real Chromium: each role in its own browser context, enrolled through its
link; what one page sends appears on another; the offline outbox; need-to-know on the wire;
right-to-left and the five scripts; screenshots of every page in every language."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from konenut.app import commands as c
from konenut.domain.ids import format_time
from konenut.domain.roles import Role
from konenut.i18n import LANGUAGES, catalogue, instructions

from .conftest import (
    APPEARS_WITHIN_MS,
    CHROMIUM,
    CHROMIUM_ARGS,
    HERE,
    PAGE_READY_MS,
    PHONE,
    WebSite,
    desktop_context,
    enrol,
    household_speaking,
    outbox_entries,
    phone_context,
    squad_member,
    wait_ready,
)

pytestmark = pytest.mark.browser

SEND_WITHIN_MS = 20_000  # the outbox retries with backoff; after "online" it sends at once
SCRIPTS = {
    "he": re.compile(r"[\u0590-\u05FF]"),
    "ar": re.compile(r"[\u0600-\u06FF]"),
    "th": re.compile(r"[\u0E00-\u0E7F]"),
    "ne": re.compile(r"[\u0900-\u097F]"),
    "en": re.compile(r"[A-Za-z]"),
}


def responders() -> list[dict[str, Any]]:
    from konenut.demo import load_residents

    squad: list[dict[str, Any]] = load_residents()["responders"]
    return [r for r in squad if r["roles"] == ["responder"]]


def page_lang(page: Any) -> str:
    lang: str = page.evaluate("document.documentElement.lang")
    return lang


def device_of(page: Any) -> str:
    """The token id of the device behind a page (from its cached /me)."""
    me = json.loads(page.evaluate("localStorage.getItem('konenut.me')"))
    token_id: str = me["token_id"]
    return token_id


def report_sighting(page: Any, category: str, count: int = 1) -> None:
    """Three taps (plus the count): report, what, where I am."""
    page.click("#report-sighting")
    page.click(f"#sighting-category [data-value={category}]")
    if count != 1:
        page.click(f"#sighting-count [data-value='{count}']")
    page.click("#send-here")
    expect(page.locator("#dlg-sighting")).to_be_hidden()


def now_stamp() -> str:
    return format_time(datetime.now(UTC))


# --- one page's command on another page, live -------------------------------------------------
def test_a_responder_report_appears_on_the_operator_console(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    operator_ref = squad_member("operator")["person_ref"]
    responder_ref = responders()[0]["person_ref"]
    operator_context = desktop_context(browser)
    responder_context = phone_context(browser)
    try:
        operator = enrol(
            operator_context, web.url, web.person_code(operator_ref, [Role.OPERATOR]), "en"
        )
        responder = enrol(
            responder_context, web.url, web.person_code(responder_ref, [Role.RESPONDER]), "en"
        )
        assert re.search(r"/operator$", operator.url) and re.search(r"/responder$", responder.url)
        expect(operator.locator("#map .leaflet-overlay-pane path").first).to_be_visible()
        expect(responder.locator("#map .leaflet-overlay-pane path").first).to_be_visible()
        device = device_of(responder)
        head = web.head()

        # A hostile sighting in three taps, where the responder stands.
        report_sighting(responder, "hostile", 3)
        reported = wait_for_event(web, head, "sighting.reported", device)
        assert reported.location is not None
        assert abs(reported.location["lat"] - HERE["latitude"]) < 1e-4
        sighting_id = reported.payload["sighting_id"]
        marker = operator.locator(f".mk-sighting [data-id='{sighting_id}']")
        expect(marker).to_be_visible(timeout=APPEARS_WITHIN_MS)
        expect(operator.locator(f"#timeline li[data-seq='{reported.seq}']")).to_be_visible(
            timeout=APPEARS_WITHIN_MS
        )

        # A status in one tap: on the muster board at once.
        responder.click("#status-buttons [data-status=en_route]")
        changed = wait_for_event(web, head, "responder.status_changed", device)
        row = operator.locator(f"#muster-list li[data-person='{changed.payload['person_id']}']")
        expect(row.locator(".st")).to_have_text(
            catalogue(page_lang(operator))["status.en_route"], timeout=APPEARS_WITHIN_MS
        )

        # And back: an order from the war room, acknowledged on the phone.
        operator.click("#cmd-order")
        operator.fill("#order-text", "Hold gate 2 until relieved")
        operator.click("#dlg-order button[value=ok]")
        order = responder.locator(".order", has_text="Hold gate 2 until relieved")
        expect(order).to_be_visible(timeout=APPEARS_WITHIN_MS)
        order.locator("button.ack").click()
        acked = wait_for_event(web, head, "order.acknowledged", device)
        expect(operator.locator(f"#timeline li[data-seq='{acked.seq}']")).to_be_visible(
            timeout=APPEARS_WITHIN_MS
        )
        expect(order.locator(".acked-at")).to_be_visible(timeout=APPEARS_WITHIN_MS)
        operator.screenshot(path=artifacts / "flow-operator.png")
        responder.screenshot(path=artifacts / "flow-responder.png", full_page=True)
        assert operator.errors == [] and responder.errors == []
    finally:
        operator_context.close()
        responder_context.close()


def wait_for_event(web: WebSite, after: int, type_: str, device: str, timeout: float = 10) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in web.events_after(after, type_) if e.device == device]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no {type_} from device {device} within {timeout} s")


# --- the offline outbox -----------------------------------------------------------------------
def test_reports_made_offline_arrive_once_in_order_with_their_time(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    context = phone_context(browser)
    try:
        page = enrol(context, web.url, web.person_code(responders()[1]["person_ref"], []), "en")
        device = device_of(page)
        head = web.head()
        context.set_offline(True)
        expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
        for count in (1, 2, 3):
            report_sighting(page, "unknown", count)
            page.wait_for_timeout(50)  # distinct device times
        pending = page.locator("#outbox .ob-pending")
        expect(pending).to_have_count(3)
        queued = [e for e in outbox_entries(page) if e["kind"] == "sighting"]
        assert [e["state"] for e in queued] == ["pending"] * 3
        assert [e["body"]["count"] for e in queued] == [1, 2, 3]
        times = [e["occurred_at"] for e in queued]
        assert times == sorted(times) and len(set(times)) == 3
        shown = pending.locator("time").evaluate_all("els => els.map(e => e.dateTime)")
        assert shown == times, "each pending report shows its original time"
        page.screenshot(path=artifacts / "outbox-offline-responder.png", full_page=True)
        page.wait_for_timeout(1500)  # a few retries fail meanwhile
        assert [e for e in web.events_after(head, "sighting.reported") if e.device == device] == []

        online_at = now_stamp()
        context.set_offline(False)
        expect(pending).to_have_count(0, timeout=SEND_WITHIN_MS)
        arrived = [e for e in web.events_after(head, "sighting.reported") if e.device == device]
        assert [e.payload["count"] for e in arrived] == [1, 2, 3], "once each, in order"
        assert [format_time(e.occurred_at) for e in arrived] == times, "with the device's time"
        assert all(format_time(e.recorded_at) >= online_at for e in arrived)
        assert [e.seq for e in arrived] == sorted(e.seq for e in arrived)
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
    finally:
        context.close()


def test_the_outbox_survives_a_reload_and_a_browser_restart_offline(
    web: WebSite, playwright_api: Any, tmp_path: Path, artifacts: Path
) -> None:
    profile = tmp_path / "profile"

    def launch() -> Any:
        return playwright_api.chromium.launch_persistent_context(
            str(profile),
            executable_path=CHROMIUM,
            args=CHROMIUM_ARGS,
            viewport=PHONE,
            geolocation=HERE,
            permissions=["geolocation"],
        )

    context = launch()
    try:
        page = enrol(context, web.url, web.person_code(responders()[2]["person_ref"], []), "en")
        page_url = page.url
        device = device_of(page)
        # The service worker has kept the page and its assets for offline starts.
        page.wait_for_selector("html[data-offline=ready]", state="attached", timeout=PAGE_READY_MS)
        head = web.head()
        context.set_offline(True)
        page.click("#status-buttons [data-status=coming]")
        page.click("#status-buttons [data-status=at_rally_point]")
        expect(page.locator("#outbox .ob-pending")).to_have_count(2)
        times = [e["occurred_at"] for e in outbox_entries(page) if e["kind"] == "status"]

        page.reload()  # offline: the service worker serves the page
        expect(page.locator("#outbox .ob-pending")).to_have_count(2, timeout=PAGE_READY_MS)
        expect(page.locator("#conn")).to_have_attribute("data-state", "offline")
        page.screenshot(path=artifacts / "outbox-after-offline-reload.png", full_page=True)
    finally:
        context.close()  # the browser goes away with the reports still unsent

    assert [
        e for e in web.events_after(head, "responder.status_changed") if e.device == device
    ] == []
    context = launch()
    try:
        context.set_offline(True)
        page = context.pages[0] if context.pages else context.new_page()
        page.goto(page_url)
        expect(page.locator("#outbox .ob-pending")).to_have_count(2, timeout=PAGE_READY_MS)
        context.set_offline(False)
        expect(page.locator("#outbox .ob-pending")).to_have_count(0, timeout=SEND_WITHIN_MS)
        wait_ready(page)
    finally:
        context.close()
    arrived = [e for e in web.events_after(head, "responder.status_changed") if e.device == device]
    assert [e.payload["status"] for e in arrived] == ["coming", "at_rally_point"]
    assert [format_time(e.occurred_at) for e in arrived] == times


# --- need to know -----------------------------------------------------------------------------
def test_a_resident_page_never_receives_a_responder_position(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    frames: list[str] = []
    sockets: list[str] = []
    responses: list[Any] = []
    context = phone_context(browser)
    try:
        page = context.new_page()

        def watch(ws: Any) -> None:
            sockets.append(ws.url)
            ws.on("framereceived", lambda payload: frames.append(str(payload)))

        page.on("websocket", watch)
        page.on("response", lambda r: responses.append(r) if "/api/" in r.url else None)
        household = household_speaking("he")
        page = enrol(context, web.url, web.household_code(household), "he", page=page)
        assert page.url.endswith("/he/resident"), "the link's language is kept"

        # Meanwhile the squad moves, reports and talks.
        member = responders()[3]
        person_id = web.person_id(member["person_ref"])
        squad = web.token(c.IssueEnrollmentCode(subject_id=person_id))
        war_room = web.token(
            c.IssueEnrollmentCode(
                subject_id=web.person_id(squad_member("operator")["person_ref"]),
                roles=[Role.OPERATOR],
            )
        )
        base = f"/api/v1/incidents/{web.incident_id}"
        with web.api(squad) as api:
            for step in range(3):
                where = {"lat": 30.4301 + step * 1e-4, "lon": 34.9702}
                answer = api.post(
                    f"{base}/positions",
                    json={"location": where},
                    headers={"Idempotency-Key": f"pos-{step}-{person_id}"},
                )
                assert answer.status_code == 201, answer.text
            api.post(
                f"{base}/muster/status",
                json={"status": "in_position"},
                headers={"Idempotency-Key": f"st-{person_id}"},
            ).raise_for_status()
        instruction = catalogue("he")["instruction.lights_off"]
        with web.api(war_room) as api:
            api.post(
                f"{base}/broadcasts",
                json={"texts": instructions()["instruction.lights_off"], "template": "lights_off"},
                headers={"Idempotency-Key": f"bc-{person_id}"},
            ).raise_for_status()
        # The resident page shows the instruction: its channel works...
        expect(page.locator("#instruction-text")).to_have_text(
            instruction, timeout=APPEARS_WITHIN_MS
        )
        page.screenshot(path=artifacts / "resident-instruction-he.png", full_page=True)
        page.wait_for_timeout(500)
        # ...and nothing of the squad came through it.
        bodies = [readable(r) for r in responses if r.request.method == "GET"]
        wire = "\n".join(frames + bodies)
        assert sockets and any('"type":"hello"' in f.replace(" ", "") for f in frames), (
            "the page should use the live stream"
        )
        for secret in (
            "position.reported",
            "responder.status_changed",
            "muster.called",
            "sighting.reported",
            person_id,
            member["callsign"],
        ):
            assert secret not in wire, f"{secret!r} reached a resident's phone"
    finally:
        context.close()


def test_without_a_websocket_the_page_polls_and_stays_live(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    """A proxy that drops WebSocket upgrades: the page falls back to `/site/events?since=`."""
    context = phone_context(browser)
    try:
        page = context.new_page()
        refused: list[str] = []

        def refuse(ws: Any) -> None:
            refused.append(ws.url)
            ws.close(code=1011, reason="no upgrades here")

        page.route_web_socket(re.compile(r"/api/v1/stream"), refuse)
        polls: list[str] = []
        page.on("request", lambda r: polls.append(r.url) if "/site/events?" in r.url else None)
        page = enrol(context, web.url, web.household_code(household_speaking("ar")), "ar", page)
        assert refused, "the page should have tried the stream first"
        war_room = web.token(
            c.IssueEnrollmentCode(
                subject_id=web.person_id(squad_member("operator")["person_ref"]),
                roles=[Role.OPERATOR],
            )
        )
        texts = instructions()["instruction.help_coming"]
        with web.api(war_room) as api:
            api.post(
                f"/api/v1/incidents/{web.incident_id}/broadcasts",
                json={"texts": texts, "template": "help_coming"},
                headers={"Idempotency-Key": f"poll-{len(refused)}-{time.time()}"},
            ).raise_for_status()
        expect(page.locator("#instruction-text")).to_have_text(
            texts["ar"], timeout=APPEARS_WITHIN_MS
        )
        expect(page.locator("#conn")).to_have_attribute("data-state", "live")
        assert polls and all(re.search(r"since=[1-9][0-9]*", url) for url in polls), polls
    finally:
        context.close()


def readable(response: Any) -> str:
    """A response's body ("" for the enrollment page's, gone with its navigation)."""
    try:
        text: str = response.text()
    except PlaywrightError:
        return ""
    return text


# --- languages --------------------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["ar", "he", "th", "ne"])
def test_the_resident_page_speaks_the_households_language(
    web: WebSite, browser: Any, artifacts: Path, lang: str
) -> None:
    context = phone_context(browser)
    try:
        page = enrol(context, web.url, web.household_code(household_speaking(lang)), lang)
        assert page.url.endswith(f"/{lang}/resident")
        rtl = lang in ("he", "ar")
        assert page.evaluate("document.documentElement.dir") == ("rtl" if rtl else "ltr")
        direction = page.locator("#statuses button").first.evaluate(
            "b => getComputedStyle(b).direction"
        )
        assert direction == ("rtl" if rtl else "ltr")
        # The layout mirrors: the name sits at the start of the line, the menu at its end.
        brand = page.locator(".brand").bounding_box()
        menu = page.locator(".menu summary").bounding_box()
        assert (brand["x"] > menu["x"]) == rtl
        # The colour bar of each status button is on the start side.
        start, end = page.locator("#statuses button").first.evaluate(
            "b => [getComputedStyle(b).borderRightWidth, getComputedStyle(b).borderLeftWidth]"
        )
        assert (float(start[:-2]) > float(end[:-2])) == rtl
        script = SCRIPTS[lang]
        for selector in ("#instruction-text", "#statuses button", "#report-h"):
            text = page.locator(selector).first.inner_text()
            assert script.search(text), f"{selector} is not in {lang}: {text!r}"
        assert page.locator("#statuses button").first.evaluate("b => b.offsetHeight") >= 48
        page.screenshot(path=artifacts / f"resident-{lang}.png", full_page=True)
        # A silent report from the safe room reaches the war room.
        head = web.head()
        page.click("#statuses [data-status=safe]")
        expect(page.locator("#last.sent")).to_be_visible(timeout=SEND_WITHIN_MS)
        (event,) = web.events_after(head, "household.checked_in")
        assert event.payload["status"] == "safe"
    finally:
        context.close()


# --- page weight ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("view", "budget_bytes"), [("resident", 50 * 1024), ("operator", 300 * 1024)]
)
def test_page_weight(
    web: WebSite, browser: Any, artifacts: Path, view: str, budget_bytes: int
) -> None:
    """Everything a cold page load transfers (compressed, headers included) within budget."""
    make = phone_context if view == "resident" else desktop_context
    # No service worker: it would answer from its own cache and hide the transfer.
    context = make(browser, service_workers="block")
    try:
        code = (
            web.household_code(household_speaking("he"))
            if view == "resident"
            else web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR])
        )
        page = enrol(context, web.url, code, "en")
        cdp = context.new_cdp_session(page)
        urls: dict[str, str] = {}
        sizes: dict[str, int] = {}
        cdp.on(
            "Network.requestWillBeSent",
            lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]),
        )
        cdp.on(
            "Network.loadingFinished",
            lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]),
        )
        cdp.send("Network.enable")
        cdp.send("Network.clearBrowserCache")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.reload()
        wait_ready(page)
        page.wait_for_load_state("networkidle")
        by_url = {urls.get(rid, rid): int(size) for rid, size in sizes.items()}
        total = sum(by_url.values())
        report = artifacts / "page-weight.json"
        known = json.loads(report.read_text()) if report.exists() else {}
        known[view] = {"total_bytes": total, "budget_bytes": budget_bytes, "requests": by_url}
        report.write_text(json.dumps(known, indent=1, sort_keys=True))
        assert total <= budget_bytes, f"{view}: {total} bytes > {budget_bytes}"
        if view == "resident":
            assert not [u for u in by_url if "leaflet" in u or u.endswith("/map.js")], (
                "the resident page must not load the map library until asked"
            )
            with page.expect_request(re.compile(r"/leaflet\.js$")):
                page.click("#open-map")
            expect(page.locator("#map.leaflet-container")).to_be_visible()
    finally:
        context.close()


# --- every page, every language ---------------------------------------------------------------
def test_screenshots_of_every_page_in_every_language(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    views = {
        "operator": (
            desktop_context,
            web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR]),
        ),
        "responder": (phone_context, web.person_code(responders()[0]["person_ref"], [])),
        "resident": (phone_context, web.household_code(household_speaking("he"))),
    }
    contexts = []
    try:
        for view, (make, code) in views.items():
            context = make(browser)
            contexts.append(context)
            page = enrol(context, web.url, code, "en")
            for lang in LANGUAGES:
                page.goto(f"{web.url}/{lang}/{view}")
                wait_ready(page)
                if view != "resident":
                    expect(page.locator("#map .leaflet-overlay-pane path").first).to_be_visible()
                page.wait_for_timeout(300)  # let the map settle its tiles of plan
                assert page.evaluate("document.documentElement.lang") == lang
                page.screenshot(path=artifacts / f"{view}-{lang}.png", full_page=view != "operator")
            assert page.errors == [], f"{view}: script errors"
        # A commander on a phone gets the same console, as tabs.
        commander = phone_context(browser)
        contexts.append(commander)
        page = enrol(
            commander,
            web.url,
            web.person_code(squad_member("commander")["person_ref"], [Role.COMMANDER]),
            "en",
        )
        page.goto(f"{web.url}/en/operator")
        wait_ready(page)
        page.screenshot(path=artifacts / "operator-phone-map-en.png")
        page.click(".tabs [data-tab=muster]")
        page.screenshot(path=artifacts / "operator-phone-muster-en.png")
        enroll = contexts[0].new_page()
        for lang in ("he", "en"):
            enroll.goto(f"{web.url}/{lang}/enroll")
            enroll.wait_for_selector("#status.ok")
            enroll.screenshot(path=artifacts / f"enroll-{lang}.png")
    finally:
        for context in contexts:
            context.close()


@pytest.mark.parametrize("view", ["responder", "resident"])
def test_touch_targets_are_at_least_48px(web: WebSite, browser: Any, view: str) -> None:
    context = phone_context(browser)
    try:
        code = (
            web.person_code(responders()[0]["person_ref"], [])
            if view == "responder"
            else web.household_code(household_speaking("en"))
        )
        page = enrol(context, web.url, code, "en")
        assert page.url.endswith(f"/{view}")
        small = page.evaluate(
            """() => [...document.querySelectorAll(
                    'main button, header summary, .leaflet-bar a, main a')]
                .filter(b => b.offsetParent !== null)
                .map(b => [b.textContent.trim() || b.getAttribute('aria-label'),
                           b.offsetWidth, b.offsetHeight])
                .filter(([, w, h]) => w < 48 || h < 48)"""
        )
        assert small == []
    finally:
        context.close()


def test_the_api_docs_page_renders_every_operation_without_a_cdn(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    """A newcomer opening /api/v1/docs sees the operations (Swagger UI that reads OpenAPI
    3.1), with every request staying on this server."""
    context = desktop_context(browser)
    try:
        page = context.new_page()
        hosts: set[str] = set()
        page.on("request", lambda request: hosts.add(request.url.split("/")[2]))
        page.goto(f"{web.url}/api/v1/docs")
        # The first request builds the OpenAPI document (~100 operations) and Swagger UI lays
        # it all out: seconds on a loaded 2-core machine, not a live update.
        page.locator(".opblock").first.wait_for(timeout=20_000)
        assert page.locator(".opblock").count() >= 30
        assert "Unable to render" not in page.content()
        assert hosts == {web.url.split("/")[2]}
        page.screenshot(path=str(artifacts / "api-docs.png"))
    finally:
        context.close()
