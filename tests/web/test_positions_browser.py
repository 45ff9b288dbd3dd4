"""Positions in a real browser: the phone's send rule (geo.js, asked directly in the page), the
note that sharing needs the page open, and units on the operator's map labelled with their age
and faded in steps when not heard from (issue 6)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

from konenut.app import commands as c
from konenut.demo import load_residents
from konenut.domain.roles import Role

from .conftest import (
    WebSite,
    desktop_context,
    enrol,
    phone_context,
    serve_village,
    squad_member,
    wait_ready,
)

pytestmark = pytest.mark.browser

NEAR_GATE_2 = {"lat": 30.4302, "lon": 34.9745}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    """A village of these tests' own: on the shared one, units other tests left near gate 2
    gather with these into one cluster marker, and the unit whose age is looked at is not drawn
    on its own (seen in a full run)."""
    with serve_village(tmp_path_factory.mktemp("web-positions"), "Infiltration") as village:
        yield village


def last_responders(n: int) -> list[dict[str, Any]]:
    """Plain responders at the end of the demo squad (the other browser tests use the first)."""
    squad: list[dict[str, Any]] = load_residents()["responders"]
    return [r for r in squad if r["roles"] == ["responder"]][-n:]


def report_position(web: WebSite, ref: str, minutes_ago: float) -> str:
    person_id = web.person_id(ref)
    token = web.token(c.IssueEnrollmentCode(subject_id=person_id, roles=[Role.RESPONDER]))
    when = (datetime.now(UTC) - timedelta(minutes=minutes_ago)).isoformat()
    with web.api(token) as api:
        answer = api.post(
            f"/api/v1/incidents/{web.incident_id}/positions",
            json={"location": NEAR_GATE_2, "occurred_at": when},
            headers={"Idempotency-Key": f"pos-{ref}-{when}"},
        )
    assert answer.status_code == 201, answer.text
    return person_id


# (last sent, new fix, seconds after the last send, battery) -> should it go now?
RULE_CASES: list[tuple[str, dict[str, Any], float, dict[str, Any] | None, bool]] = [
    ("still: jitter inside the accuracy", {"north_m": 3}, 30, None, False),
    ("still: once a minute", {"north_m": 3}, 61, None, True),
    ("moving: not before 3 s", {"north_m": 15}, 2, None, False),
    ("moving: every 3 s", {"north_m": 15}, 3, None, True),
    ("moving by its own speed", {"north_m": 4, "speed_mps": 1.5}, 3, None, True),
    ("a big move goes at once", {"north_m": 30}, 1, None, True),
    ("a turn goes at once", {"north_m": 12, "heading_deg": 90}, 1, None, True),
    ("low battery: half the rate", {"north_m": 15}, 4, {"level": 0.1, "charging": False}, False),
    ("low battery: still sends", {"north_m": 15}, 6, {"level": 0.1, "charging": False}, True),
    ("low but charging: full rate", {"north_m": 15}, 4, {"level": 0.1, "charging": True}, True),
    ("low battery, still: every 2 min", {"north_m": 3}, 90, {"level": 0.1, "charging": False},
     False),
    ("a big move ignores the battery", {"north_m": 30}, 1, {"level": 0.05, "charging": False},
     True),
]  # fmt: skip

RULE_SCRIPT = """async ([cases, base]) => {
  const geo = await import("/static/geo.js");
  const start = Date.parse("2026-01-01T00:00:00Z");
  const last = { lat: base.lat, lon: base.lon, accuracy_m: 8, heading_deg: 0, at: start };
  const answers = cases.map(([_name, move, secs, battery]) => {
    const fix = {
      lat: base.lat + move.north_m / 111195, lon: base.lon, accuracy_m: 8,
      heading_deg: move.heading_deg ?? 0, speed_mps: move.speed_mps ?? null,
      at: start + secs * 1000,
    };
    return geo.shouldSend(last, fix, start + secs * 1000, battery);
  });
  const first = geo.shouldSend(null, last, start, null);
  const north = geo.withHeading(last, { ...last, heading_deg: null, lat: base.lat + 20 / 111195 });
  const east = geo.withHeading(last, { ...last, heading_deg: null, lon: base.lon + 0.0003 });
  const jitter = geo.withHeading(last, { ...last, heading_deg: null, lon: base.lon + 0.00002 });
  return { answers, first, headings: [north.heading_deg, east.heading_deg, jitter.heading_deg] };
}"""


def test_the_phone_sends_often_while_moving_rarely_while_still(web: WebSite, browser: Any) -> None:
    context = phone_context(browser)
    try:
        code = web.person_code(last_responders(1)[0]["person_ref"], [])
        page = enrol(context, web.url, code, "en")
        page.goto(f"{web.url}/en/responder")
        wait_ready(page)
        expect(page.locator("#share-note")).to_have_text("Shared only while this page is open")
        got = page.evaluate(RULE_SCRIPT, [RULE_CASES, NEAR_GATE_2])
        answers = {case[0]: answer for case, answer in zip(RULE_CASES, got["answers"], strict=True)}
        assert answers == {case[0]: case[4] for case in RULE_CASES}
        assert got["first"] is True  # nothing sent yet: the first fix goes
        # No heading from the device: the bearing of the move (north, east), or the last one
        # kept when the move is within the fix's noise.
        assert got["headings"] == [0, 90, 0]
    finally:
        context.close()


def test_units_on_the_map_fade_with_the_time_since_they_were_heard(
    web: WebSite, browser: Any
) -> None:
    fresh_ref, faded_ref, grey_ref = (r["person_ref"] for r in last_responders(3))
    fresh = report_position(web, fresh_ref, 0)
    faded = report_position(web, faded_ref, 5)
    grey = report_position(web, grey_ref, 12)
    context = desktop_context(browser)
    try:
        code = web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR])
        page = enrol(context, web.url, code, "en")
        page.goto(f"{web.url}/en/operator")
        wait_ready(page)

        def unit(person_id: str, step: str) -> Any:
            return page.locator(f".mk-friend.{step} [data-id='{person_id}']")

        expect(unit(fresh, "age-live")).to_be_visible()
        expect(unit(faded, "age-faded")).to_be_visible()
        expect(unit(grey, "age-grey")).to_be_visible()
        labels = page.locator(".pos-label")
        expect(labels.filter(has_text=re.compile(r"^Kinamon 11 · 5 min$"))).to_have_count(1)
        expect(
            labels.filter(has_text=re.compile(r"^Kinamon 12 · \W?12 min\W? ago$"))
        ).to_have_count(1)
        expect(labels.filter(has_text=re.compile(r"^Kinamon 10 · \d+ sec$"))).to_have_count(1)
        expect(page.locator(".pos-label.age-grey")).to_have_text(re.compile("^Kinamon 12"))
        assert page.errors == []
    finally:
        context.close()


def test_ages_move_on_in_place_without_redrawing_the_units(web: WebSite, browser: Any) -> None:
    """Three minutes on (the page's clock fast-forwarded), the same marker element is faded
    and says "3 min": the layer was not drawn again."""
    unit = last_responders(3)[0]  # the fresh one of the test above: both report it now
    person_id = report_position(web, unit["person_ref"], 0)
    callsign = unit["callsign"]
    context = desktop_context(browser)
    try:
        code = web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR])
        page = enrol(context, web.url, code, "en")
        page.clock.install()
        page.goto(f"{web.url}/en/operator")
        wait_ready(page)
        dot = page.locator(f".mk-friend [data-id='{person_id}']")
        expect(dot).to_be_visible()
        dot.evaluate("(el) => { el.closest('.mk-friend').dataset.drawnOnce = 'yes'; }")
        page.clock.fast_forward(3 * 60 * 1000)
        marker = page.locator(
            f".mk-friend.age-faded[data-drawn-once='yes'] [data-id='{person_id}']"
        )
        expect(marker).to_be_visible()
        label = page.locator(".pos-label").filter(has_text=re.compile(f"^{callsign} · 3 min$"))
        expect(label).to_have_count(1)
        assert page.errors == []
    finally:
        context.close()
