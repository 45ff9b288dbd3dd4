"""The SITREP in one tap on the commander's phone (issue 15 item 2): the console's SITREP
button shows the short text, downloads the one-page PDF and sends the text through the
deployment's channel to a local Apprise receiver."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from konenut.app.sitrep import SHORT_TEXT_MAX_CHARS
from konenut.domain.roles import Role
from notify.receivers import Receiver, receiver_factory  # noqa: F401  (a fixture)

from .conftest import APPEARS_WITHIN_MS, WebSite, enrol, phone_context, serve_village, squad_member

pytestmark = pytest.mark.browser


@pytest.fixture
def duty_desk(receiver_factory: Callable[..., Receiver]) -> Receiver:  # noqa: F811
    return receiver_factory()


@pytest.fixture
def village(tmp_path: Path, duty_desk: Receiver) -> Iterator[WebSite]:
    desk_url = f"json://127.0.0.1:{duty_desk.port}/desk"
    with serve_village(tmp_path, "Infiltration at the back gate", notify_email_url=desk_url) as web:
        yield web


def test_the_commander_takes_and_sends_a_sitrep_from_the_phone(
    village: WebSite, browser: Any, duty_desk: Receiver, tmp_path: Path
) -> None:
    context = phone_context(browser, accept_downloads=True)
    try:
        code = village.person_code(squad_member("commander")["person_ref"], [Role.COMMANDER])
        phone = enrol(context, village.url, code, "he")
        phone.click("#cmd-sitrep")
        text = phone.locator("#sitrep-text")
        expect(text).to_contain_text("תמונת מצב", timeout=APPEARS_WITHIN_MS)
        expect(text).to_contain_text("Infiltration at the back gate")
        expect(text).to_contain_text("כוחות:")
        assert len(text.inner_text()) <= SHORT_TEXT_MAX_CHARS
        with phone.expect_download() as download:
            phone.click("#sitrep-pdf")
        saved = tmp_path / "sitrep.pdf"
        download.value.save_as(saved)
        assert saved.read_bytes().startswith(b"%PDF")
        phone.select_option("#sitrep-channel", "email")
        phone.select_option("#sitrep-to", "")  # the channel's own address: the duty desk
        phone.click("#sitrep-send")
        expect(phone.locator("#sitrep-result")).to_contain_text("נשלח", timeout=APPEARS_WITHIN_MS)
        (request,) = duty_desk.requests
        assert request.json()["message"].startswith("תמונת מצב")
        assert phone.errors == []
    finally:
        context.close()
