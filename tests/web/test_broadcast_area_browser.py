"""A broadcast to an area drawn on the operator's map, in a real browser: the dialog counts the
households inside before sending, as the API counts them, and after sending the status board
shows each household's delivery (SMS through Apprise to a local receiver), live."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from konenut.domain import broadcasts
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

TEMPLATE = "instruction.stay_in_safe_room"


class SmsSink:
    """Apprise's json:// posts, one per text message, counted."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                sink.received.append({"path": self.path, "body": json.loads(body or b"{}")})
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def sms_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[WebSite, SmsSink]]:
    """The demo village with an open incident and SMS sent through Apprise to a local sink."""
    sink = SmsSink()
    sms_url = f"json://127.0.0.1:{sink.port}/sms/{{phone}}"
    try:
        with serve_village(
            tmp_path_factory.mktemp("web-sms"), "Infiltration, north", notify_sms_url=sms_url
        ) as web:
            yield web, sink
    finally:
        sink.close()


def test_an_area_drawn_on_the_map_counts_and_reaches_its_households(
    sms_site: tuple[WebSite, SmsSink], browser: Any, artifacts: Path
) -> None:
    web, sink = sms_site
    context = desktop_context(browser)
    try:
        code = web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR])
        page = enrol(context, web.url, code, "en")
        page_lang = page.evaluate("document.documentElement.lang")
        page.click("#cmd-broadcast")
        dialog = page.locator("#dlg-broadcast")
        dialog.locator("#broadcast-template").select_option(TEMPLATE)
        dialog.locator("#bc-preview-box summary").click()
        expect(dialog.locator("#bc-preview dd[data-lang=th]")).to_have_text(
            catalogue("th")[TEMPLATE]
        )
        dialog.locator("#bc-draw").click()
        expect(page.locator("#bc-draw-hint")).to_be_visible()

        # A rectangle in the middle of the village, corner by corner.
        box = page.locator("#map").bounding_box()
        assert box is not None
        for fx, fy in ((0.4, 0.35), (0.65, 0.35), (0.65, 0.6), (0.4, 0.6)):
            page.mouse.click(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
        page.click("#bc-draw-close")
        expect(dialog).to_be_visible()
        count = dialog.locator("#bc-count[data-households]")
        expect(count).to_be_attached(timeout=APPEARS_WITHIN_MS)
        shown = int(str(count.get_attribute("data-households")))
        assert shown > 0
        page.screenshot(path=str(artifacts / "broadcast-area-dialog.png"))

        before = web.head()
        dialog.locator("#bc-send").click()
        expect(page.locator("#bc-list .bc-row").first).to_be_visible(timeout=APPEARS_WITHIN_MS)
        sent = [e for e in web.events_after(before) if e.type == "broadcast.sent"]
        assert len(sent) == 1 and sent[0].payload["audience"] == "area"
        reached = sent[0].payload["household_ids"]
        area = broadcasts.Area.model_validate(sent[0].payload["area"])
        assert len(reached) == shown == len(broadcasts.households_in_area(web.state, area))

        # Each household's SMS delivery shows on the status board, without a reload.
        delivered = page.locator("#bc-list .bc-household[data-state=delivered]")
        expect(delivered.first).to_be_attached(timeout=APPEARS_WITHIN_MS)
        rows = page.locator("#bc-list .bc-row").first
        rows.locator("details summary").click()
        expect(rows.locator(".bc-household")).to_have_count(shown)
        expect(rows.locator(".bc-counts")).to_contain_text(str(shown))
        assert sink.received, "the SMS went out through Apprise"
        page.screenshot(path=str(artifacts / f"broadcast-status-{page_lang}.png"))
        assert page.errors == []

        # The same board and dialog in English.
        page.goto(f"{web.url}/en/operator")
        expect(page.locator("#bc-list .bc-row").first).to_contain_text(
            catalogue("en")[TEMPLATE], timeout=APPEARS_WITHIN_MS
        )
        page.click("#cmd-broadcast")
        page.locator("#dlg-broadcast [name=bc-target][value=group]").check()
        expect(page.locator("#bc-count[data-households]")).to_be_attached()
        page.screenshot(path=str(artifacts / "broadcast-dialog-en.png"))
    finally:
        context.close()
