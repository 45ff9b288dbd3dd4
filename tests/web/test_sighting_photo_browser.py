"""Sighting photos and triage in real browsers: a responder attaches a photo (taken with the
phone's GPS in its EXIF) to a sighting, the operator sees it in the marker's popup, the stored
file has no EXIF; the operator marks the group moved (a track appears) and markers show age."""

from __future__ import annotations

import re
import uuid
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import expect

from konenut.app import commands as c
from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    WebSite,
    desktop_context,
    enrol,
    phone_context,
    squad_member,
)
from .test_browser import device_of, responders, wait_for_event

pytestmark = pytest.mark.browser

GPS_IFD = 0x8825
EN = catalogue("en")


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (640, 480), (120, 90, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (31.0, 25.0, 48.0), 3: "E", 4: (34.0, 58.0, 12.0)})
    out = BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes())
    return out.getvalue()


def stored_photo(web: WebSite, photo_id: str) -> Path:
    data_dir = Path(str(web.store.writer_engine.url.database)).parent
    return data_dir / "photos" / photo_id[:2] / photo_id[2:]


def test_photo_reaches_the_operator_popup_without_exif_and_a_move_draws_a_track(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    operator_context = desktop_context(browser)
    responder_context = phone_context(browser)
    try:
        operator = enrol(
            operator_context,
            web.url,
            web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR]),
        )
        responder = enrol(
            responder_context,
            web.url,
            web.person_code(responders()[1]["person_ref"], [Role.RESPONDER]),
        )
        device = device_of(responder)
        head = web.head()

        # Report, what, photo (optional), where I am.
        responder.click("#report-sighting")
        responder.click("#sighting-category [data-value=hostile]")
        responder.set_input_files(
            "#sighting-photo",
            {"name": "gate.jpg", "mimeType": "image/jpeg", "buffer": jpeg_with_gps()},
        )
        expect(responder.locator("#photo-state")).to_have_text(
            EN["sighting.photo_attached"], timeout=APPEARS_WITHIN_MS
        )
        responder.click("#send-here")
        reported = wait_for_event(web, head, "sighting.reported", device)
        (photo_id,) = reported.payload["photo_ids"]
        kept = stored_photo(web, photo_id).read_bytes()
        image = Image.open(BytesIO(kept))
        assert not image.getexif() and b"PhoneMaker" not in kept and b"Exif" not in kept

        # The operator opens the marker: the photo is there, and the marker says its age.
        sighting_id = reported.payload["sighting_id"]
        marker = operator.locator(f".mk-sighting:has([data-id='{sighting_id}'])")
        expect(marker).to_be_visible(timeout=APPEARS_WITHIN_MS)
        expect(marker).to_have_class(re.compile(r"\bage-fresh\b"))
        marker.click()
        popup = operator.locator(".leaflet-popup")
        photo = popup.locator(f"img.photo[data-photo='{photo_id}']")
        expect(photo).to_have_attribute("src", re.compile(r"^blob:"), timeout=APPEARS_WITHIN_MS)
        shown = operator.wait_for_function(
            "id => { const img = document.querySelector(`img.photo[data-photo='${id}']`);"
            " return img && img.complete && img.naturalWidth; }",
            arg=photo_id,
            timeout=APPEARS_WITHIN_MS,
        )
        assert shown.json_value() == 640
        operator.screenshot(path=artifacts / "sighting-photo-operator.png")

        # "Moved": the operator taps the new place; the group's track is drawn.
        popup.locator("button.act-moved").click()
        box = operator.locator("#map").bounding_box()
        assert box is not None
        operator.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.6)
        operator_device = device_of(operator)
        moved = wait_for_event(web, head, "sighting.updated", operator_device)
        assert moved.payload["status"] == "moved" and moved.location is not None
        for page in (operator, responder):  # a line from the first place, a dot where it was
            expect(page.locator("path.track.track-hostile")).to_have_count(
                1, timeout=APPEARS_WITHIN_MS
            )
            expect(page.locator("path.track-dot.track-hostile")).to_have_count(1)

        # A second report of the same group: the operator merges it; one marker, count 3.
        after_move = web.head()
        responder.click("#report-sighting")
        responder.click("#sighting-category [data-value=unknown]")
        responder.click("#sighting-count [data-value='3']")
        responder.click("#send-here")
        duplicate = wait_for_event(web, after_move, "sighting.reported", device)
        duplicate_id = duplicate.payload["sighting_id"]
        second = operator.locator(f".mk-sighting:has([data-id='{duplicate_id}'])")
        expect(second).to_be_visible(timeout=APPEARS_WITHIN_MS)
        second.click()
        popup.locator("select.merge-into").select_option(sighting_id)
        popup.locator("button.act-merged").click()
        expect(second).to_have_count(0, timeout=APPEARS_WITHIN_MS)
        expect(marker.locator("b")).to_have_text("3", timeout=APPEARS_WITHIN_MS)
        assert operator.errors == [] and responder.errors == []
    finally:
        operator_context.close()
        responder_context.close()


def test_sighting_markers_age_without_a_reload(web: WebSite, browser: Any) -> None:
    """Fresh for 2 minutes, then recent, then faded after 10; the label counts the minutes."""
    context = desktop_context(browser)
    try:
        page = context.new_page()
        page.clock.install()  # the page's own clock, moved on by the test
        code = web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR])
        enrol(context, web.url, code, page=page)
        token = web.token(
            c.IssueEnrollmentCode(
                subject_id=web.person_id(responders()[2]["person_ref"]), roles=[Role.RESPONDER]
            )
        )
        with web.api(token) as api:
            made = api.post(
                f"/api/v1/incidents/{web.incident_id}/sightings",
                json={"location": {"lat": 30.4296, "lon": 34.9689}, "category": "unknown"},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
        assert made.status_code == 201, made.text
        marker = page.locator(f".mk-sighting:has([data-id='{made.json()['sighting_id']}'])")
        expect(marker).to_have_class(re.compile(r"\bage-fresh\b"), timeout=APPEARS_WITHIN_MS)
        label = page.locator(".lbl-age").filter(has_text=re.compile(r"\d"))
        expect(label.first).to_be_visible()
        page.clock.fast_forward("03:00")
        expect(marker).to_have_class(re.compile(r"\bage-recent\b"), timeout=APPEARS_WITHIN_MS)
        # "seen 3 min ago" in the operator's language: the number, isolated (i18n.js).
        expect(page.locator(".lbl-age", has_text="\u20683")).not_to_have_count(0)
        page.clock.fast_forward("08:00")
        expect(marker).to_have_class(re.compile(r"\bage-old\b"), timeout=APPEARS_WITHIN_MS)
        assert marker.evaluate("e => getComputedStyle(e).opacity") == "0.5"
        assert page.errors == []
    finally:
        context.close()
