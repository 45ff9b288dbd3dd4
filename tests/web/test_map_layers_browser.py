"""The operator map's tools in a real browser: layers switch markers off and on (and stay
switched after a reload), the search flies to house 14 and opens it, the ruler measures what
haversine says, an operator places a unit by hand, and houses with people hiding get a badge."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from konenut.app import commands as c
from konenut.demo import load_site_plan
from konenut.domain.geo import distance_m
from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    WebSite,
    desktop_context,
    enrol,
    squad_member,
    wait_ready,
)

pytestmark = pytest.mark.browser

NEAR_GATE_2 = {"lat": 30.4302, "lon": 34.9745}


def haversine(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Metres between two (lat, lon) points on Leaflet's sphere (geo.py's radius is its)."""
    return distance_m((a[1], a[0]), (b[1], b[0]))


def gate(ref: str) -> tuple[float, float]:
    feature = next(
        f
        for f in load_site_plan()["features"]
        if f["properties"]["kind"] == "gate" and f["properties"]["ref"] == ref
    )
    lon, lat = feature["geometry"]["coordinates"]
    return lat, lon


def operator_page(web: WebSite, browser: Any, lang: str = "en") -> tuple[Any, Any]:
    context = desktop_context(browser)
    code = web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR])
    page = enrol(context, web.url, code, lang)
    page.goto(f"{web.url}/{lang}/operator")
    wait_ready(page)
    page.wait_for_selector(".map-tools")
    return context, page


def squad_token(web: WebSite, ref: str, role: Role = Role.RESPONDER) -> str:
    return web.token(c.IssueEnrollmentCode(subject_id=web.person_id(ref), roles=[role]))


def post(web: WebSite, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    with web.api(token) as api:
        answer = api.post(
            f"/api/v1/incidents/{web.incident_id}{path}",
            json=body,
            headers={"Idempotency-Key": f"{path}-{datetime.now(UTC).timestamp()}"},
        )
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


def layer(page: Any, name: str) -> Any:
    return page.locator(f"#layer-list input[name={name}]")


def open_layers(page: Any) -> None:
    if page.locator("#layer-list").is_hidden():
        page.click("#layers-toggle")


def test_layers_hide_and_show_their_markers_and_are_remembered(web: WebSite, browser: Any) -> None:
    responder = squad_member("responder")
    post(web, squad_token(web, responder["person_ref"]), "/positions", {"location": NEAR_GATE_2})
    commander = squad_token(web, squad_member("commander")["person_ref"], Role.COMMANDER)
    old = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    reported = post(
        web,
        commander,
        "/sightings",
        {"location": NEAR_GATE_2, "category": "unknown", "count": 3, "occurred_at": old},
    )
    sighting_id = reported["events"][0]["payload"]["sighting_id"]
    unit = f".mk-friend [data-id='{web.person_id(responder['person_ref'])}']"
    sighting = f".mk-sighting [data-id='{sighting_id}']"
    context, page = operator_page(web, browser)
    try:
        for selector in (unit, sighting, ".mk-camera", ".mk-gate"):
            expect(page.locator(selector).first).to_be_visible()
        open_layers(page)

        layer(page, "units").uncheck()
        expect(page.locator(unit)).to_have_count(0)
        layer(page, "units").check()
        expect(page.locator(unit)).to_be_visible()

        layer(page, "camera").uncheck()
        expect(page.locator(".mk-camera").first).to_be_hidden()
        expect(page.locator(".mk-gate").first).to_be_visible()

        # Seen 5 minutes ago: within "< 10 min", not within "< 2 min".
        page.select_option("#layer-age", "10m")
        expect(page.locator(sighting)).to_be_visible()
        page.select_option("#layer-age", "2m")
        expect(page.locator(sighting)).to_have_count(0)
        page.select_option("#layer-age", "all")
        expect(page.locator(sighting)).to_be_visible()
        layer(page, "sightings").uncheck()
        expect(page.locator(sighting)).to_have_count(0)

        page.reload()
        wait_ready(page)
        page.wait_for_selector(".map-tools")
        open_layers(page)
        expect(layer(page, "camera")).not_to_be_checked()
        expect(layer(page, "sightings")).not_to_be_checked()
        expect(page.locator(".mk-camera").first).to_be_hidden()
        expect(page.locator(sighting)).to_have_count(0)
        expect(page.locator(unit)).to_be_visible()
        assert page.errors == []
    finally:
        context.close()


def test_search_flies_to_house_14_and_opens_it(web: WebSite, browser: Any) -> None:
    context, page = operator_page(web, browser)
    try:
        label = page.locator(".lbl-building", has_text=re.compile(r"^14$"))
        expect(label).to_be_hidden()  # the whole village is in view: no house numbers yet
        page.fill("#map-search", "14")
        expect(page.locator("#map-search-results li").first).to_contain_text("House 14")
        page.press("#map-search", "Enter")
        popup = page.locator(".leaflet-popup.found")
        expect(popup).to_contain_text("House 14")
        expect(popup).to_contain_text(web.household("h-14").name)
        expect(label).to_be_visible()  # zoomed in to street level, house 14 in view
        box, view = label.bounding_box(), page.locator("#map").bounding_box()
        assert view["x"] <= box["x"] <= view["x"] + view["width"]
        assert view["y"] <= box["y"] <= view["y"] + view["height"]

        page.fill("#map-search", "Rotem")
        page.press("#map-search", "Enter")
        expect(popup).to_contain_text("House 14")
        assert page.errors == []
    finally:
        context.close()


def marker_centre(page: Any, selector: str) -> tuple[float, float]:
    box = page.locator(selector).bounding_box()
    return box["x"] + box["width"] / 2, box["y"] + box["height"] / 2


def test_the_ruler_measures_what_haversine_says(web: WebSite, browser: Any) -> None:
    context, page = operator_page(web, browser)
    try:
        one = marker_centre(page, ".mk-gate:has-text('1')")
        two = marker_centre(page, ".mk-gate:has-text('2')")
        page.click("#measure-toggle")
        page.mouse.click(*one)
        page.mouse.click(*two)
        out = page.locator("#measure-out")
        expect(out).to_have_text(re.compile(r"\d\D* m$"))
        shown = int(re.sub(r"\D", "", out.inner_text()))
        expected = haversine(gate("1"), gate("2"))
        # The clicks land within a pixel or so of the gates (a few metres at this zoom).
        assert abs(shown - expected) <= max(5, expected * 0.01), (shown, expected)
        expect(page.locator(".lbl-measure")).to_have_text(out.inner_text())
        page.click("#measure-toggle")
        expect(out).to_be_hidden()
        expect(page.locator(".lbl-measure")).to_have_count(0)
        assert page.errors == []
    finally:
        context.close()


def test_an_operator_places_a_unit_by_hand(web: WebSite, browser: Any) -> None:
    member = squad_member("medic")  # no position of their own yet: on the radio, no GPS
    person_id = web.person_id(member["person_ref"])
    head = web.head()
    context, page = operator_page(web, browser)
    try:
        page.select_option("#place-who", person_id)
        page.click("#place-unit")
        expect(page.locator("#pick-hint")).to_be_visible()
        page.mouse.click(*marker_centre(page, ".mk-gate:has-text('2')"))
        marker = page.locator(f".mk-friend.manual [data-id='{person_id}']")
        expect(marker).to_be_visible(timeout=APPEARS_WITHIN_MS)
        [event] = web.events_after(head, "position.reported")
        assert event.payload["subject_id"] == person_id
        assert event.payload["source"] == "manual"
        operator = web.person_id(squad_member("operator")["person_ref"])
        assert event.actor == operator
        placed_at = (event.location["lat"], event.location["lon"])
        assert haversine(placed_at, gate("2")) < 10  # where the operator clicked

        marker.click()
        expect(page.locator(".leaflet-popup")).to_contain_text("Placed by hand")
        page.keyboard.press("Escape")

        # The search finds the unit by its callsign.
        page.fill("#map-search", member["callsign"])
        page.press("#map-search", "Enter")
        found = page.locator(".leaflet-popup.found")
        expect(found).to_contain_text(member["callsign"])
        expect(found).to_contain_text("Placed by hand")

        # A responder's page shows the unit there too, and says it was placed by hand.
        responder = squad_member("responder")
        phone = desktop_context(browser)
        try:
            code = web.person_code(responder["person_ref"], [Role.RESPONDER])
            other = enrol(phone, web.url, code, "en")
            expect(other.locator(f".mk-friend.manual [data-id='{person_id}']")).to_have_count(
                1, timeout=APPEARS_WITHIN_MS
            )
        finally:
            phone.close()
        assert page.errors == []
    finally:
        context.close()


def test_houses_with_people_hiding_get_a_badge(web: WebSite, browser: Any) -> None:
    household = web.household("h-14")
    commander = squad_token(web, squad_member("commander")["person_ref"], Role.COMMANDER)
    context, page = operator_page(web, browser)
    try:
        post(
            web,
            commander,
            f"/households/{household.household_id}/check-ins",
            {"status": "safe", "people_count": 2},
        )
        badge = page.locator(".mk-occupied [data-ref='14']")
        expect(badge).to_have_text("2", timeout=APPEARS_WITHIN_MS)
        expect(page.locator(".mk-occupied.intruder [data-ref='14']")).to_have_count(0)
        post(
            web,
            commander,
            f"/households/{household.household_id}/check-ins",
            {"status": "intruder", "people_count": 2},
        )
        expect(page.locator(".mk-occupied.intruder [data-ref='14']")).to_be_visible(
            timeout=APPEARS_WITHIN_MS
        )
        open_layers(page)
        layer(page, "occupancy").uncheck()
        expect(badge).to_have_count(0)
        # Households by state: "danger" off, the intruder marker on house 14 goes with it.
        danger = page.locator(f".mk-household [data-id='{household.household_id}']")
        expect(danger).to_be_visible()
        layer(page, "state-danger").uncheck()
        expect(danger).to_have_count(0)
        layer(page, "state-danger").check()
        expect(danger).to_be_visible()
        assert page.errors == []
    finally:
        context.close()


def test_people_guests_reported_are_marked_on_the_badge_popup(web: WebSite, browser: Any) -> None:
    """Issue 11, item 5: anyone can scan a poster, so the board says which counts are guests'."""
    commander = squad_token(web, squad_member("commander")["person_ref"], Role.COMMANDER)
    context, page = operator_page(web, browser)
    try:
        with web.api(commander) as api:
            poster = api.post(
                "/api/v1/site/guest-posters",
                json={"building_ref": "47"},
                headers={"Idempotency-Key": f"poster-47-{datetime.now(UTC).timestamp()}"},
            ).json()
        with web.api("-") as anyone:
            redeemed = anyone.post(
                "/api/v1/passes/redeem-guest",
                json={"code": poster["code"], "people_count": 3},
                headers={"Idempotency-Key": f"guest-47-{datetime.now(UTC).timestamp()}"},
            )
        assert redeemed.status_code == 201, redeemed.text
        badge = page.locator(".mk-occupied [data-ref='47']")
        expect(badge).to_have_text("3", timeout=APPEARS_WITHIN_MS)
        badge.click()
        said = catalogue("en")["map.guest_reported"].replace("{n}", "\u20683\u2069")
        expect(page.locator(".leaflet-popup .guest-reported")).to_have_text(said)
        assert page.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["he", "en"])
def test_console_screenshot(web: WebSite, browser: Any, artifacts: Path, lang: str) -> None:
    context, page = operator_page(web, browser, lang)
    try:
        open_layers(page)
        page.click("#measure-toggle")
        x, y = marker_centre(page, "#map")
        page.mouse.click(x - 60, y - 150)
        page.mouse.click(x + 60, y + 100)
        expect(page.locator(".lbl-measure")).to_be_visible()
        page.screenshot(path=str(artifacts / f"map-layers-{lang}.png"))
        page.fill("#map-search", "1")
        expect(page.locator("#map-search-results li").first).to_be_visible()
        page.screenshot(path=str(artifacts / f"map-search-{lang}.png"))
        assert page.errors == []
    finally:
        context.close()
