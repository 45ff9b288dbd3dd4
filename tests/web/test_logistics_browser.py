"""Supplies and tasks in a real Chromium, one context per person (issue 14 items 4, 5, 7): a
responder asks for ammunition from their phone, the commander sends a runner from the console,
the runner's phone shows it and marks it delivered, and the console shows it delivered with the
inventory's "low" warning; the commander gives "Open gate 3" to a responder, whose phone shows
it with one-tap Accept and Done, and flags it overdue once its deadline has passed by the
village's clock (the real time plus an offset the test moves on, as the muster board's test)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from konenut.app import commands as c
from konenut.demo import load_residents
from konenut.domain.roles import Role
from konenut.i18n import catalogue

from .conftest import (
    APPEARS_WITHIN_MS,
    HERE,
    Clock,
    ClockedVillage,
    WebSite,
    desktop_context,
    enrol,
    phone_context,
    serve_village,
    squad_member,
)

pytestmark = pytest.mark.browser
EN = catalogue("en")
ISOLATE = "\u2068{}\u2069"  # how a page's text wraps a placeholder's value
POINT = {"lat": HERE["latitude"], "lon": HERE["longitude"]}  # near the secretariat
TASKS_REREAD_SECS = 15  # web/static/logistics.js TASKS_REREAD_MS


@pytest.fixture(scope="module")
def village(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClockedVillage]:
    clock = Clock()
    data_dir = tmp_path_factory.mktemp("web-logistics")
    with serve_village(data_dir, "Infiltration, back gate", clock) as web:
        yield ClockedVillage(web, clock)


def plain_responders() -> list[dict[str, Any]]:
    """Demo squad members who are responders only."""
    return [r for r in load_residents()["responders"] if r["roles"] == ["responder"]]


def phone_of(web: WebSite, browser: Any, member: dict[str, Any]) -> tuple[Any, Any]:
    context = phone_context(browser)
    page = context.new_page()
    page.clock.install()  # the page's own clock, moved on by the test
    code = web.person_code(member["person_ref"], [Role.RESPONDER])
    return context, enrol(context, web.url, code, "en", page)


def console_of(web: WebSite, browser: Any) -> tuple[Any, Any]:
    context = desktop_context(browser)
    page = context.new_page()
    page.clock.install()
    code = web.person_code(squad_member("commander")["person_ref"], [Role.COMMANDER])
    return context, enrol(context, web.url, code, "en", page)


def text(key: str, **values: str) -> str:
    return EN[key].format(**{k: ISOLATE.format(v) for k, v in values.items()})


def test_ammunition_requested_sent_delivered_and_the_stock_runs_low(
    village: ClockedVillage, browser: Any, artifacts: Path
) -> None:
    web = village.web
    asker, runner = plain_responders()[0], plain_responders()[-1]  # not the list's first
    commander = web.token(
        c.IssueEnrollmentCode(
            subject_id=web.person_id(squad_member("commander")["person_ref"]),
            roles=[Role.COMMANDER],
        )
    )
    with web.api(commander) as api:
        counted = api.post(
            "/api/v1/site/inventory",
            json={"kind": "ammunition", "calibre": "5.56", "quantity": 300, "low_below": 200},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        assert counted.status_code == 201, counted.text
    asker_ctx, asker_page = phone_of(web, browser, asker)
    runner_ctx, runner_page = phone_of(web, browser, runner)
    console_ctx, console = console_of(web, browser)
    try:
        # The responder asks: ammunition, 5.56, 120, critical, here.
        asker_page.click("#request-supply")
        asker_page.click("#supply-kind [data-value=ammunition]")
        asker_page.click("#supply-calibre [data-value='5.56']")
        asker_page.click("#supply-quantity [data-value='120']")
        asker_page.click("#supply-urgency [data-value=critical]")
        asker_page.click("#supply-here")
        label = text("supply.item", what=f"{EN['supply.kind.ammunition']} 5.56", n="120")
        mine = asker_page.locator("#my-supplies li")
        expect(mine).to_contain_text(label, timeout=APPEARS_WITHIN_MS)
        expect(mine).to_have_attribute("data-state", "open")

        # The console shows it, critical and open; the commander sends the runner.
        row = console.locator("#supply-board li[data-state=open]")
        expect(row).to_contain_text(label, timeout=APPEARS_WITHIN_MS)
        expect(row).to_contain_text(EN["supply.urgency.critical"])
        expect(console.locator("#inventory-low li")).to_have_count(0)
        row.locator("select.runner").select_option(web.person_id(runner["person_ref"]))
        # The console redraws as the picture moves; the runner chosen stays chosen.
        with web.api(commander) as api:
            seen = api.post(
                f"/api/v1/incidents/{web.incident_id}/sightings",
                json={"location": POINT, "category": "unknown", "text": "movement by the fence"},
                headers={"Idempotency-Key": uuid.uuid4().hex},
            )
            assert seen.status_code == 201, seen.text
        expect(console.locator("#timeline")).to_contain_text(
            "movement by the fence", timeout=APPEARS_WITHIN_MS
        )
        runner_id = web.person_id(runner["person_ref"])
        expect(row.locator("select.runner")).to_have_value(runner_id)
        console.screenshot(path=str(artifacts / "logistics-console-open-en.png"))
        row.locator("button.send").click()

        # The runner's phone: the run, with one tap "Delivered".
        run = runner_page.locator("#runs li[data-state=assigned]")
        expect(run).to_contain_text(label, timeout=APPEARS_WITHIN_MS)
        runner_page.screenshot(path=str(artifacts / "logistics-runner-en.png"))
        run.locator("button.delivered").click()

        # The console: delivered, and the armory's 5.56 under its threshold (180 < 200).
        done = console.locator("#supply-board li[data-state=delivered]")
        expect(done).to_contain_text(label, timeout=APPEARS_WITHIN_MS)
        expect(done).to_contain_text(EN["supply.state.delivered"])
        low = console.locator("#inventory-low li")
        expect(low).to_have_text(
            text("supply.low", item=f"{EN['supply.kind.ammunition']} 5.56", n="180")
        )
        expect(asker_page.locator("#my-supplies li")).to_have_attribute(
            "data-state", "delivered", timeout=APPEARS_WITHIN_MS
        )
        timeline = console.locator("#timeline")
        expect(timeline).to_contain_text(text("event.supply.delivered", what=label))
        console.screenshot(path=str(artifacts / "logistics-console-delivered-en.png"))
        assert asker_page.errors == [] and runner_page.errors == [] and console.errors == []
    finally:
        for context in (asker_ctx, runner_ctx, console_ctx):
            context.close()


def test_a_task_accepted_in_one_tap_then_flagged_overdue(
    village: ClockedVillage, browser: Any, artifacts: Path
) -> None:
    web = village.web
    member = plain_responders()[2]
    phone_ctx, phone = phone_of(web, browser, member)
    console_ctx, console = console_of(web, browser)
    try:
        console.click("#task-new")
        console.fill("#task-title", "Open gate 3")
        console.locator("#task-to").select_option(web.person_id(member["person_ref"]))
        console.fill("#task-house", "12")
        console.fill("#task-minutes", "5")
        console.click("#dlg-task button[value=ok]")

        task = phone.locator("#tasks li")
        expect(task).to_contain_text("Open gate 3", timeout=APPEARS_WITHIN_MS)
        expect(task).to_have_attribute("data-state", "open")
        expect(task.locator("button.accept")).to_have_text(EN["task.accept"])
        expect(task.locator("button.done")).to_have_text(EN["task.done"])
        expect(task.locator(".overdue-mark")).to_have_count(0)
        phone.screenshot(path=str(artifacts / "logistics-task-phone-en.png"))
        task.locator("button.accept").click()
        expect(task).to_have_attribute("data-state", "accepted", timeout=APPEARS_WITHIN_MS)
        board = console.locator("#task-board li")
        expect(board).to_have_attribute("data-state", "accepted", timeout=APPEARS_WITHIN_MS)
        expect(board).to_contain_text(EN["task.state.accepted"])

        # Six minutes later by the village's clock: the deadline has passed.
        village.clock.offset = timedelta(minutes=6)
        for page in (phone, console):
            page.clock.fast_forward(f"00:{TASKS_REREAD_SECS + 1}")
        expect(task.locator(".overdue-mark")).to_have_text(
            EN["task.overdue"], timeout=APPEARS_WITHIN_MS
        )
        expect(task).to_have_class("task accepted overdue")
        expect(board.locator(".overdue")).to_contain_text(
            EN["task.overdue"], timeout=APPEARS_WITHIN_MS
        )
        phone.screenshot(path=str(artifacts / "logistics-task-overdue-en.png"))

        task.locator("button.done").click()
        expect(task).to_have_attribute("data-state", "done", timeout=APPEARS_WITHIN_MS)
        expect(task.locator(".overdue-mark")).to_have_count(0)
        expect(task.locator("button")).to_have_count(0)
        expect(board).to_have_attribute("data-state", "done", timeout=APPEARS_WITHIN_MS)
        assert phone.errors == [] and console.errors == []
    finally:
        village.clock.offset = timedelta(0)
        phone_ctx.close()
        console_ctx.close()
