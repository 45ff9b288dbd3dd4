"""Cautions from the field day in real browsers (issue 10 items 2-4): a responder walking to a
house where an intruder is reported is told who is known inside, the caution is told again in
place as the houses around fill up, and the war room sees a caution that could not be sent."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from helpers import SITE
from konenut.domain.events import Event
from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    WebSite,
    desktop_context,
    enrol,
    serve_village,
    squad_member,
)
from .test_caution_browser import ISOLATES, device_of, phone_at, responder_refs, wait_for
from .test_standing_cautions_browser import banner_text, post, quiet_village

pytestmark = pytest.mark.browser


def near(ref: str, north_m: float) -> dict[str, float]:
    """A geolocation `north_m` metres north of a demo building's centre."""
    from konenut.demo import load_site_plan
    from konenut.domain.site_plan import FeatureKind, feature_point, find_feature

    feature = find_feature(load_site_plan(), [FeatureKind.BUILDING], ref)
    assert feature is not None
    lon, lat = feature_point(feature["geometry"])
    return {"latitude": lat + north_m / 111_195, "longitude": lon}


def shown(text: str) -> re.Pattern[str]:
    """`text` as the page shows it, with direction isolates around the parts it filled in."""
    return re.compile("[\u2068\u2069]*".join(map(re.escape, text)))


def written_down(web: WebSite, after: int, type_: str) -> Event:
    """The first `type_` event after `after`, read straight from the log: a flush through the
    writer could share the batch the database refuses."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        found = [e for e in web.store.read(SITE, after) if e.type == type_]
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {type_} in the log")


def check_in(api: Any, web: WebSite, ref: str, status: str, people: int) -> None:
    household = web.household(f"h-{ref}")
    path = f"/api/v1/incidents/{web.incident_id}/households/{household.household_id}/check-ins"
    post(api, path, {"status": status, "people_count": people})


def test_a_responder_walking_to_a_house_with_an_intruder_is_told_who_is_inside(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    incident = f"/api/v1/incidents/{web.incident_id}"
    phone = phone_at(browser, near("31", 60))
    war_room = desktop_context(browser)
    try:
        with web.squad_api(Role.COMMANDER) as api:
            quiet_village(api, incident)
            check_in(api, web, "31", "intruder", 2)
            poster = post(api, "/api/v1/site/guest-posters", {"building_ref": "31"})
            guest = api.post(
                "/api/v1/passes/redeem-guest",
                json={"code": poster["code"], "people_count": 2},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            assert guest.status_code == 201, guest.text
            head = web.head()
            page = enrol(phone, web.url, web.person_code(responder_refs()[7], [Role.RESPONDER]))
            wait_for(web, head, "position.reported", device_of(web, page))
            # "Intruder reported inside house 31; 2 guests and 2 residents checked in there at …"
            banner = page.locator("#caution")
            expect(banner).to_be_visible(timeout=APPEARS_WITHIN_MS)
            words = catalogue(page.evaluate("document.documentElement.lang"))
            house_31 = words["caution.house"].format(ref="31")
            said, _time = words["caution.intruder_inside"].split("{time}")
            who = words["caution.who_both"].format(
                guests=words["caution.who_guests"].format(n=2),
                residents=words["caution.who_residents"].format(n=2),
            )
            assert said.format(place=house_31, who=who) in banner_text(page), banner_text(page)
            [caution] = [
                e
                for e in web.events_after(head, "caution.raised")
                if e.payload["kind"] == "intruder_inside"
            ]
            line = page.locator(f"#caution li[data-caution='{caution.payload['caution_id']}']")
            page.screenshot(path=artifacts / "caution-intruder.png", full_page=True)

            # The house next door fills up: the same caution is told again, in place.
            check_in(api, web, "32", "safe", 3)
            house_32 = words["caution.house"].format(ref="32")
            told = words["caution.civilians"].format(place=house_32, n=3)
            expect(line).to_contain_text(shown(told), timeout=APPEARS_WITHIN_MS)
            assert page.locator("#caution li").count() == 1

        # The squad checks house 31: one tap on the console clears it, and a reload of the
        # responder's page no longer shows the caution.
        operator = squad_member("operator")["person_ref"]
        console = enrol(war_room, web.url, web.person_code(operator, [Role.OPERATOR]), "en")
        household = web.household("h-31")
        row = console.locator(f"#hostage-raise li[data-household='{household.household_id}']")
        expect(row).to_be_visible(timeout=APPEARS_WITHIN_MS)
        head = web.head()
        row.locator("button[data-clear='31']").click()
        cleared = written_down(web, head, "intruder.cleared")
        assert cleared.payload["building_ref"] == "31"
        expect(row).to_have_count(0, timeout=APPEARS_WITHIN_MS)
        page.reload()
        page.wait_for_selector("#caution[data-standing=loaded]", state="attached")
        expect(banner).to_be_hidden()
        assert page.errors == [] and console.errors == []
    finally:
        phone.close()
        war_room.close()


@pytest.fixture
def refusing_village(tmp_path: Path) -> Iterator[WebSite]:
    """A village of this test's own: the failed caution it provokes stays on its console and
    timeline, and would stand as a red bar on every later console of the shared village."""
    with serve_village(tmp_path, "Infiltration") as village:
        yield village


def test_the_war_room_sees_that_a_caution_could_not_be_sent(
    refusing_village: WebSite, browser: Any, artifacts: Path
) -> None:
    web = refusing_village
    incident = f"/api/v1/incidents/{web.incident_id}"
    war_room = desktop_context(browser)
    operator = squad_member("operator")["person_ref"]
    with web.store.writer_engine.begin() as connection:  # the disk refuses cautions only
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_cautions BEFORE INSERT ON events "
            "WHEN NEW.type = 'caution.raised' "
            "BEGIN SELECT RAISE(ABORT, 'disk refused the caution'); END"
        )
    try:
        console = enrol(war_room, web.url, web.person_code(operator, [Role.OPERATOR]), "en")
        alarm = console.locator("#caution-failed")
        expect(alarm).to_be_hidden()
        with web.squad_api(Role.COMMANDER) as api:
            quiet_village(api, incident)
            check_in(api, web, "21", "safe", 2)
            where = near("21", -40)
            location = {"lat": where["latitude"], "lon": where["longitude"]}
            head = web.head()
            post(api, f"{incident}/sightings", {"location": location, "category": "hostile"})
        # The server writes the failure down once the writer has logged the refused write.
        written_down(web, head, "caution.failed")
        words = catalogue("en")
        expect(alarm).to_be_visible(timeout=APPEARS_WITHIN_MS)
        expect(alarm).to_have_text(shown(words["operator.caution_failed"].format(n=1)))
        line = console.locator("#timeline li[data-type='caution.failed']")
        expect(line).to_be_visible(timeout=APPEARS_WITHIN_MS)
        told = (line.text_content() or "").translate(ISOLATES)
        assert words["event.caution.failed"] in told, told
        console.screenshot(path=artifacts / "caution-failed-console.png")
        assert console.errors == []
    finally:
        with web.store.writer_engine.begin() as connection:
            connection.exec_driver_sql("DROP TRIGGER refuse_cautions")
        war_room.close()
