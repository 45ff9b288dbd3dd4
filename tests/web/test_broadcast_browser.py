"""A broadcast on the resident's phone: custom words from the war room shown as written and
marked "not translated" in the household's language, and the war room learns it was read."""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from konenut.app import commands as c
from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import APPEARS_WITHIN_MS, WebSite, enrol, phone_context, squad_member

WORDS = "Armed men at the back gate. Stay inside."


def test_custom_words_reach_a_thai_home_marked_not_translated_and_are_read(
    web: WebSite, browser: Any
) -> None:
    household = web.household("h-W4")  # Thai and Nepali workers; no other test talks to them
    context = phone_context(browser)
    try:
        page = enrol(context, web.url, web.household_code("h-W4"), "th")  # as its card prints
        assert page.url.endswith("/th/resident"), "the link's language is kept"
        operator = web.token(
            c.IssueEnrollmentCode(
                subject_id=web.person_id(squad_member("operator")["person_ref"]),
                roles=[Role.OPERATOR],
            )
        )
        before = web.head()
        with web.api(operator) as api:
            sent = api.post(
                f"/api/v1/incidents/{web.incident_id}/broadcasts",
                json={"texts": {"en": WORDS}, "household_ids": [household.household_id]},
                headers={"Idempotency-Key": f"bb-{time.time()}"},
            )
            assert sent.status_code == 201, sent.text
        broadcast_id = sent.json()["broadcast_id"]
        expect(page.locator("#instruction-text")).to_have_text(WORDS, timeout=APPEARS_WITHIN_MS)
        expect(page.locator("#instruction-title")).to_contain_text(
            catalogue("th")["resident.not_translated"]
        )
        deadline = time.monotonic() + APPEARS_WITHIN_MS / 1000
        read: list[Any] = []
        while not read and time.monotonic() < deadline:
            read = [
                e
                for e in web.events_after(before, "broadcast.read")
                if e.payload["broadcast_id"] == broadcast_id
            ]
            time.sleep(0.1)
        assert [e.payload["household_id"] for e in read] == [household.household_id]
        assert page.errors == []
    finally:
        context.close()
