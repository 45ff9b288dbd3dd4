"""The muster board as a squad leader reads it, in a real Chromium (issue 10, items 6, 7 and
18): wounded is its own red count, never "cannot come"; whoever the escalation chain did not
reach is "not reached", in red, with every channel tried, once its last step and grace time are
over; a key they hold is missing in the same words as any other; and "Everyone called" lists
only the people the call went to.

The village has a clock of its own (the real time plus an offset the test moves on), so the
escalation chain's three minutes pass at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from helpers import SITE
from konenut.app import commands as c
from konenut.app import handlers
from konenut.domain.escalation import DEFAULT_POLICY, NOT_REACHED_GRACE_SECS
from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    Clock,
    ClockedVillage,
    WebSite,
    enrol,
    phone_context,
    serve_village,
    squad_member,
)
from .test_muster_browser import add_key, big, commander_page, responders

pytestmark = pytest.mark.browser
EN = catalogue("en")
ISOLATE = "\u2068{}\u2069"  # how a page's text wraps a placeholder's value


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClockedVillage]:
    """The demo village on its own clock, with an open incident, the escalator running, and a
    war-room member who is only an operator."""
    data_dir = tmp_path_factory.mktemp("web-muster-board")
    clock = Clock()
    with serve_village(data_dir, "Infiltration, orchard", clock) as web:
        war_room = c.AddPerson(ref="p-war-room", name="Noa Peretz", roles=[Role.OPERATOR])
        web.store.execute(SITE, handlers.add_person(None, war_room))
        yield ClockedVillage(web, clock)


def answer(web: WebSite, person_id: str, status: str) -> None:
    token = web.token(c.IssueEnrollmentCode(subject_id=person_id))
    with web.api(token) as api:
        response = api.post(
            f"/api/v1/incidents/{web.incident_id}/muster/status",
            json={"status": status},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert response.status_code == 201, response.text


def test_wounded_not_reached_and_everyone_called_on_the_board(
    village: ClockedVillage, browser: Any, artifacts: Path
) -> None:
    web = village.web
    wounded, unreached, cannot = (responders()[i] for i in range(3))
    ids = {r["person_ref"]: web.person_id(r["person_ref"]) for r in (wounded, unreached, cannot)}
    operator_only = web.person_id("p-war-room")
    wounded_key = add_key(web, "test-g5", "Orchard gate key", wounded["person_ref"])
    gate_3_key = add_key(web, "test-g3", "Gate 3 key", unreached["person_ref"])
    context, commander = commander_page(web, browser)
    phone_of_cannot = phone_context(browser)
    try:
        phone = enrol(phone_of_cannot, web.url, web.person_code(cannot["person_ref"], []), "en")
        heading = commander.locator("#muster-list-h")
        listed = commander.locator("#muster-list li")
        # Before any call nobody was called: the list is the squad's members.
        expect(heading).to_have_text(EN["operator.squad_members"], timeout=APPEARS_WITHIN_MS)

        leader_id = web.person_id(squad_member("commander")["person_ref"])
        leader = web.token(c.IssueEnrollmentCode(subject_id=leader_id))
        with web.api(leader) as api:
            called = api.post(
                "/api/v1/squad/activate",
                json={"incident_id": web.incident_id},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            assert called.status_code == 201, called.text
            board = api.get(f"/api/v1/incidents/{web.incident_id}/muster").json()
        expect(heading).to_have_text(EN["operator.everyone"], timeout=APPEARS_WITHIN_MS)
        went_to = sorted(p["person_id"] for p in board["people"])
        assert operator_only not in went_to
        expect(listed).to_have_count(len(went_to), timeout=APPEARS_WITHIN_MS)
        assert sorted(listed.evaluate_all("rows => rows.map((r) => r.dataset.person)")) == went_to

        # Wounded: its own red count and row; "cannot come" counts only who cannot.
        answer(web, ids[wounded["person_ref"]], "wounded")
        answer(web, ids[cannot["person_ref"]], "cannot")
        expect(big(commander, "wounded")).to_have_text("1", timeout=APPEARS_WITHIN_MS)
        expect(commander.locator("#muster-big [data-group=wounded]")).to_have_class("big bad")
        expect(big(commander, "cannot")).to_have_text("1")
        row = commander.locator(f"#muster-list li[data-person='{ids[wounded['person_ref']]}']")
        expect(row).to_have_attribute("data-state", "wounded")
        expect(row).to_have_class("row bad")
        expect(row.locator(".st")).to_have_text(EN["status.wounded"])
        # The squad's phones count the wounded too, apart from who cannot come.
        expect(phone.locator("#muster-squad")).to_contain_text(
            EN["muster.ui.squad_wounded"].format(n=ISOLATE.format("1")), timeout=APPEARS_WITHIN_MS
        )
        keys = commander.locator("#muster-keys")
        orchard = keys.locator(f"li[data-asset='{wounded_key}']")
        expect(orchard).to_have_class("row key bad")
        expect(orchard.locator(".st")).to_have_text(
            key_missing(wounded["callsign"], EN["operator.group.wounded"])
        )
        # Not reached yet: the chain is still running.
        gate_3 = keys.locator(f"li[data-asset='{gate_3_key}']")
        expect(gate_3).to_have_class("row key warn")
        expect(big(commander, "not_reached")).to_have_text("0")

        # The chain's last step and its grace time pass.
        chain_secs = DEFAULT_POLICY.steps[-1].after_secs + NOT_REACHED_GRACE_SECS
        village.clock.offset = timedelta(seconds=chain_secs + 1)
        person = ids[unreached["person_ref"]]
        row = commander.locator(f"#muster-list li[data-person='{person}']")
        expect(row).to_have_attribute("data-state", "not_reached", timeout=APPEARS_WITHIN_MS)
        expect(row).to_have_class("row bad")
        expect(row.locator(".st")).to_have_text(EN["muster.state.not_reached"])
        # With every channel tried on them, and what came of it.
        tried = commander.locator(f"#muster-unseen li[data-person='{person}'] .chip")
        for step in DEFAULT_POLICY.steps:
            expect(tried.filter(has_text=EN[f"operator.channel.{step.channel}"])).to_have_class(
                "chip failed"
            )
        not_reached = commander.locator("#muster-big [data-group=not_reached]")
        expect(not_reached).to_have_class("big bad")
        expect(gate_3).to_have_class("row key bad")
        expect(gate_3.locator(".st")).to_have_text(
            key_missing(unreached["callsign"], EN["operator.group.not_reached"])
        )
        commander.screenshot(path=artifacts / "muster-board-not-reached-en.png")
        assert commander.errors == [] and phone.errors == []
    finally:
        context.close()
        phone_of_cannot.close()


def key_missing(name: str, state: str) -> str:
    """The key's line as the page words it (placeholders isolated for bidi)."""
    return EN["operator.key_missing"].format(name=ISOLATE.format(name), state=ISOLATE.format(state))
