"""The web app in a real browser: the demo village served by the real app (uvicorn, in a
thread, on a free port, over a SQLite store) and Debian's Chromium driven by Playwright.

Devices enrol as users do: each browser context opens `/{lang}/enroll#CODE` with a fresh
one-time code and follows the redirect to its page. Screenshots go to `test-artifacts/`.
"""

from __future__ import annotations

import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from helpers import SITE, open_store
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import new_code, new_token
from konenut.config import Settings
from konenut.demo import load_residents
from konenut.demo import seed as demo
from konenut.domain.events import Event
from konenut.domain.ids import utcnow
from konenut.domain.roles import Role, SubjectKind
from konenut.server import create_app
from konenut.store.eventstore import Decision, EventStore
from services import free_port

CHROMIUM = os.environ.get("KONENUT_TEST_CHROMIUM", "/usr/bin/chromium")
SKIP_BROWSER_VARIABLE = "KONENUT_TEST_SKIP_BROWSER"
INSTALL_BROWSER = "sudo apt-get install chromium fonts-noto-core"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
APPEARS_WITHIN_MS = 5_000  # contracts §8: "appears on the other page" waits up to 5 s
PAGE_READY_MS = 15_000
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1440, "height": 900}
# A point inside the demo village, near the secretariat (WGS84).
HERE = {"latitude": 30.4301, "longitude": 34.9702}
PAGE_URL = re.compile(r"/(he|ar|en|th|ne)/(operator|responder|resident)$")


@dataclass
class WebSite:
    """The demo village behind a live server, with helpers to enrol devices and read the log."""

    url: str
    store: EventStore
    incident_id: str

    @property
    def state(self) -> Any:
        return self.store.state(SITE)

    def person_id(self, ref: str) -> str:
        person = self.state.person_by_ref(ref)
        assert person is not None, ref
        return str(person.person_id)

    def household(self, ref: str) -> Any:
        household = self.state.household_by_ref(ref)
        assert household is not None, ref
        return household

    def code(self, cmd: c.IssueEnrollmentCode) -> str:
        code = new_code()
        self.store.execute(SITE, handlers.issue_enrollment_code(None, cmd, code))
        return code

    def person_code(self, ref: str, roles: list[Role]) -> str:
        return self.code(c.IssueEnrollmentCode(subject_id=self.person_id(ref), roles=roles))

    def household_code(self, ref: str) -> str:
        household_id = self.household(ref).household_id
        return self.code(
            c.IssueEnrollmentCode(subject_id=household_id, subject_kind=SubjectKind.HOUSEHOLD)
        )

    def token(self, cmd: c.IssueEnrollmentCode) -> str:
        """A device token enrolled behind the scenes (for the API side of a test)."""
        token = new_token()
        self.store.execute(SITE, handlers.enroll_device(c.EnrollDevice(code=self.code(cmd)), token))
        return token

    def flush(self) -> None:
        self.store.execute(SITE, lambda _state, _now: Decision())

    def head(self) -> int:
        self.flush()
        return self.store.head(SITE)

    def events_after(self, seq: int, type_: str | None = None) -> list[Event]:
        self.flush()
        events = self.store.read(SITE, seq)
        return [e for e in events if type_ is None or e.type == type_]

    def api(self, token: str) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token}"}, timeout=10.0
        )

    def squad_api(self, role: Role) -> httpx.Client:
        """The API as a new device of the demo's squad member of `role` (squad_member)."""
        person_id = self.person_id(squad_member(role.value)["person_ref"])
        return self.api(self.token(c.IssueEnrollmentCode(subject_id=person_id, roles=[role])))


def post(api: httpx.Client, path: str, body: dict[str, Any]) -> Any:
    """A command with a fresh Idempotency-Key; its answer, which must be 200 or 201."""
    response = api.post(path, json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code in (200, 201), response.text
    return response.json()


def squad_member(role: str) -> dict[str, Any]:
    """The first demo responder whose roles are exactly [role] (or start with it)."""
    responders: list[dict[str, Any]] = load_residents()["responders"]
    exact = [r for r in responders if r["roles"] == [role]]
    member = (exact or [r for r in responders if r["roles"][0] == role])[0]
    return member


def household_speaking(lang: str) -> str:
    """The ref of a demo household whose first language is `lang`."""
    households: list[dict[str, Any]] = load_residents()["households"]
    return next(h["ref"] for h in households if h["languages"][0] == lang)


@dataclass
class Clock:
    """The real time, moved on by `offset` when the test says so (a village's store clock)."""

    offset: timedelta = timedelta(0)

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@dataclass
class ClockedVillage:
    """A village served on its own clock."""

    web: WebSite
    clock: Clock


class ThreadServer:
    """uvicorn serving `app` on a free loopback port from a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="web-test-server", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


@contextmanager
def serve_village(
    data_dir: Path,
    incident_title: str | None,
    clock: Callable[[], datetime] = utcnow,
    **settings: Any,
) -> Iterator[WebSite]:
    """The demo village on a store in `data_dir` (on `clock`), served by the real app with
    `settings`, with an incident of that title open (none, and no `incident_id`, for None)."""
    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}", clock)
    try:
        demo.seed(store, SITE)
        incident_id = ""
        if incident_title is not None:
            opened = store.execute(
                SITE, handlers.open_incident(None, c.OpenIncident(title=incident_title))
            )
            incident_id = str(opened.body["incident_id"])
        with ThreadServer(create_app(Settings(data_dir=data_dir, **settings), store)) as url:
            yield WebSite(url=url, store=store, incident_id=incident_id)
    finally:
        store.close()


@pytest.fixture(scope="session")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebSite]:
    """The demo village with an open real incident, served for the whole session."""
    with serve_village(tmp_path_factory.mktemp("web"), "Infiltration at the back gate") as web:
        yield web


def require_chromium(path: str, skip_browser: str | None) -> None:
    """A run without a browser must not look green: no Chromium fails the browser tests with
    what to install, unless KONENUT_TEST_SKIP_BROWSER=1 says to skip them (README)."""
    if Path(path).exists():
        return
    if skip_browser == "1":
        pytest.skip(f"no Chromium at {path}, and {SKIP_BROWSER_VARIABLE}=1")
    pytest.fail(
        f"no Chromium at {path}: install it (`{INSTALL_BROWSER}`, or `make test` does), "
        f"point KONENUT_TEST_CHROMIUM at one, or set {SKIP_BROWSER_VARIABLE}=1 to skip "
        "the browser tests",
        pytrace=False,
    )


@pytest.fixture(scope="session")
def playwright_api() -> Iterator[Any]:
    require_chromium(CHROMIUM, os.environ.get(SKIP_BROWSER_VARIABLE))
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture(scope="session")
def browser(playwright_api: Any) -> Iterator[Any]:
    browser = playwright_api.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def phone_context(browser: Any, **extra: Any) -> Any:
    return browser.new_context(
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        geolocation=HERE,
        permissions=["geolocation"],
        **extra,
    )


def desktop_context(browser: Any, **extra: Any) -> Any:
    return browser.new_context(viewport=DESKTOP, **extra)


def enrol(context: Any, url: str, code: str, lang: str = "en", page: Any = None) -> Any:
    """Open the enrollment link (in `page` or a new page), as a user would; the page it lands
    on — the page of the token's most capable role, in the link's language.
    """
    page = page or context.new_page()
    if not hasattr(page, "errors"):
        page.errors = []  # uncaught errors in the page's scripts
        page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{url}/{lang}/enroll#{code}")
    page.wait_for_url(PAGE_URL, timeout=PAGE_READY_MS)
    wait_ready(page)
    return page


def wait_ready(page: Any) -> None:
    """The page has its data and a working connection (stream or polling)."""
    page.wait_for_selector("#conn[data-state=live]", timeout=PAGE_READY_MS)


def outbox_entries(page: Any) -> list[dict[str, Any]]:
    """The page's IndexedDB outbox, oldest first."""
    entries: list[dict[str, Any]] = page.evaluate(
        """() => new Promise((resolve, reject) => {
            const open = indexedDB.open("konenut");
            open.onerror = () => reject(open.error);
            open.onsuccess = () => {
                const read = open.result.transaction("outbox").objectStore("outbox").getAll();
                read.onsuccess = () => resolve(read.result);
                read.onerror = () => reject(read.error);
            };
        })"""
    )
    return entries
