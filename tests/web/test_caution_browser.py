"""Don't shoot our own, in real browsers: a hostile reported near a house where a family hides
warns the responder near it live, and tells the family's own phone nothing."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from konenut.app import commands as c
from konenut.demo import load_site_plan
from konenut.domain.roles import Role
from konenut.domain.site_plan import FeatureKind, feature_point, find_feature
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    PHONE,
    WebSite,
    desktop_context,
    enrol,
    squad_member,
)

pytestmark = pytest.mark.browser

ISOLATES = str.maketrans("", "", "\u2068\u2069")


def near_house_14(south_m: float) -> dict[str, float]:
    """A geolocation `south_m` metres south of house 14's centre."""
    feature = find_feature(load_site_plan(), [FeatureKind.BUILDING], "14")
    assert feature is not None
    lon, lat = feature_point(feature["geometry"])
    return {"latitude": lat - south_m / 111_195, "longitude": lon}


def phone_at(browser: Any, where: dict[str, float]) -> Any:
    return browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        geolocation=where,
        permissions=["geolocation"],
    )


def responder_refs() -> list[str]:
    from konenut.demo import load_residents

    squad: list[dict[str, Any]] = load_residents()["responders"]
    return [r["person_ref"] for r in squad if r["roles"] == ["responder"]]


def wait_for(web: WebSite, after: int, type_: str, device: str) -> Any:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = [e for e in web.events_after(after, type_) if e.device == device]
        if found:
            return found[-1]
        time.sleep(0.1)
    raise AssertionError(f"no {type_} from device {device}")


def device_of(web: WebSite, page: Any) -> str:
    token_id: str = page.evaluate("JSON.parse(localStorage.getItem('konenut.me')).token_id")
    return token_id


def test_a_caution_reaches_the_responder_near_a_hiding_family_and_never_the_family(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    household = web.household("h-14")
    commander = web.token(
        c.IssueEnrollmentCode(
            subject_id=web.person_id(squad_member("commander")["person_ref"]),
            roles=[Role.COMMANDER],
        )
    )
    a_ref, b_ref = responder_refs()[4:6]
    frames: list[str] = []
    family = phone_at(browser, near_house_14(0))
    phone_a = phone_at(browser, near_house_14(40))
    phone_b = phone_at(browser, near_house_14(60))
    war_room = desktop_context(browser)
    try:
        home = family.new_page()
        home.on("websocket", lambda ws: ws.on("framereceived", lambda f: frames.append(str(f))))
        home = enrol(family, web.url, web.household_code("h-14"), "en", page=home)
        with web.api(commander) as api:
            answer = api.post(
                f"/api/v1/incidents/{web.incident_id}/households/{household.household_id}/check-ins",
                json={"status": "safe", "people_count": 2},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            assert answer.status_code == 201, answer.text
        head = web.head()
        b = enrol(phone_b, web.url, web.person_code(b_ref, [Role.RESPONDER]), "en")
        wait_for(web, head, "position.reported", device_of(web, b))  # B is 60 m from house 14
        a = enrol(phone_a, web.url, web.person_code(a_ref, [Role.RESPONDER]), "en")
        operator_ref = squad_member("operator")["person_ref"]
        console = enrol(war_room, web.url, web.person_code(operator_ref, [Role.OPERATOR]), "en")
        expect(b.locator("#caution")).to_be_hidden()

        # A reports a hostile group where A stands, 40 m from house 14: three taps.
        a.click("#report-sighting")
        a.click("#sighting-category [data-value=hostile]")
        a.click("#sighting-count [data-value='3']")
        expect(a.locator("#send-here")).to_be_enabled(timeout=APPEARS_WITHIN_MS)
        a.click("#send-here")
        reported = wait_for(web, head, "sighting.reported", device_of(web, a))

        # B's page shows the caution without a reload: red, and it stays.
        banner = b.locator("#caution")
        expect(banner).to_be_visible(timeout=APPEARS_WITHIN_MS)
        text = (banner.text_content() or "").translate(ISOLATES)
        words = catalogue(b.evaluate("document.documentElement.lang"))
        house = words["caution.house"].format(ref="14")
        assert words["caution.civilians"].format(place=house, n=2) in text, text
        assert words["caution.threat"].format(what=words["sighting.hostile"], n=3) in text, text
        caution = web.events_after(reported.seq, "caution.raised")[0]
        assert web.person_id(b_ref) in caution.payload["to_person_ids"]
        b.screenshot(path=artifacts / "caution-responder.png", full_page=True)
        # The war room sees it on the timeline, with whom it warned.
        line = console.locator(f"#timeline li[data-seq='{caution.seq}']")
        expect(line).to_be_visible(timeout=APPEARS_WITHIN_MS)
        console_words = catalogue(console.evaluate("document.documentElement.lang"))
        told = (line.text_content() or "").translate(ISOLATES)
        assert console_words["caution.house"].format(ref="14") in told, told

        # About to go in: who is known inside.
        b.fill("#entering-house", "14")
        b.click("#entering button[type=submit]")
        inside = b.locator("#entering-answer")
        expect(inside).to_have_class(re.compile(r"\boccupied\b"), timeout=APPEARS_WITHIN_MS)
        said = (inside.text_content() or "").translate(ISOLATES)
        assert words["caution.people"].format(n=2) in said, said
        assert words["household.safe"] in said, said
        b.click("#caution-dismiss")
        expect(banner).to_be_hidden()

        # The family's phone got nothing of it: no sighting, caution or position on its stream.
        home.wait_for_timeout(500)
        wire = "\n".join(frames)
        assert '"type":"hello"' in wire.replace(" ", ""), "the resident page should be live"
        for secret in ("caution", "sighting", "position.reported", reported.payload["sighting_id"]):
            assert secret not in wire, f"{secret!r} reached the hiding family's phone"
        assert a.errors == [] and b.errors == [] and home.errors == [] and console.errors == []
    finally:
        for context in (family, phone_a, phone_b, war_room):
            context.close()
