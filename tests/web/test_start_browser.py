"""A device's first minutes: `/` is a landing page (the site, what this is, a field for the
code, the language choice, the demo's role links in demo mode only), and the language of the
link a device was enrolled with stays that device's language until the person changes it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from konenut.domain.roles import Role
from konenut.i18n import LANGUAGE_NAMES, catalogue

from .conftest import (
    PAGE_READY_MS,
    WebSite,
    desktop_context,
    enrol,
    household_speaking,
    phone_context,
    serve_village,
    squad_member,
    wait_ready,
)
from .test_i18n import SCRIPTS

pytestmark = pytest.mark.browser

SITE_NAMES = {"he": "תל קינמון", "ar": "تل قينمون", "en": "Tel Kinamon"}  # demo/seed.py


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The demo village served as `make run` serves it (demo mode), no squad calls sent."""
    with serve_village(tmp_path_factory.mktemp("demo"), None, demo=True, escalate=False) as demo:
        yield demo.url


def landing(context: Any, url: str) -> Any:
    """Open the site's root as a newcomer would; the landing page in the browser's language."""
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(str(error)))
    page.goto(f"{url}/")
    page.wait_for_url(re.compile(r"/(he|ar|en|th|ne)/$"), timeout=PAGE_READY_MS)
    return page


def test_the_root_page_is_a_landing_page_where_a_code_can_be_typed(
    web: WebSite, browser: Any, artifacts: Path
) -> None:
    en = catalogue("en")
    context = phone_context(browser, locale="en-US")
    try:
        page = landing(context, web.url)
        assert page.url == f"{web.url}/en/"
        expect(page.locator("h1")).to_have_text("Tel Kinamon")
        expect(page.locator("#about")).to_have_text(en["landing.about"])
        expect(page.locator("main")).not_to_contain_text(en["enroll.no_code"])
        expect(page.locator("#langs a")).to_have_count(5)
        expect(page.locator("#demo")).to_have_count(0)  # not in demo mode
        page.screenshot(path=artifacts / "landing-en.png", full_page=True)
        # Not a code: said so, nothing opened.
        page.fill("#code", "ABC12")
        page.click("#code-submit")
        expect(page.locator("#code-error")).to_have_text(en["landing.code_invalid"])
        assert page.url == f"{web.url}/en/"
        # A code typed as printed (lower case, a dash) enrols this device.
        code = web.person_code(squad_member("operator")["person_ref"], [Role.OPERATOR])
        page.fill("#code", f"{code[:4].lower()}-{code[4:].lower()}")
        page.click("#code-submit")
        page.wait_for_url(f"{web.url}/en/operator", timeout=PAGE_READY_MS)
        wait_ready(page)
        # From now on the root opens this device's page.
        page.goto(f"{web.url}/")
        page.wait_for_url(f"{web.url}/en/operator", timeout=PAGE_READY_MS)
        assert page.errors == []
    finally:
        context.close()


@pytest.mark.parametrize("lang", ["he", "ar", "th", "ne"])
def test_the_landing_page_speaks_the_chosen_language(
    web: WebSite, browser: Any, artifacts: Path, lang: str
) -> None:
    words = catalogue(lang)
    context = phone_context(browser, locale="en-US")
    try:
        page = landing(context, web.url)
        page.locator("#langs a", has_text=LANGUAGE_NAMES[lang]).click()
        page.wait_for_url(f"{web.url}/{lang}/")
        rtl = lang in ("he", "ar")
        assert page.evaluate("document.documentElement.dir") == ("rtl" if rtl else "ltr")
        expect(page.locator("h1")).to_have_text(SITE_NAMES.get(lang, SITE_NAMES["en"]))
        expect(page.locator("#about")).to_have_text(words["landing.about"])
        expect(page.locator("#code-submit")).to_have_text(words["landing.code_submit"])
        for selector in ("#about", "label[for=code]", "#code-submit"):
            assert SCRIPTS[lang].search(page.locator(selector).inner_text()), selector
        direction = page.locator("#about").evaluate("p => getComputedStyle(p).direction")
        assert direction == ("rtl" if rtl else "ltr")
        page.screenshot(path=artifacts / f"landing-{lang}.png", full_page=True)
        # The choice is kept: the root opens the landing page in it.
        page.goto(f"{web.url}/")
        page.wait_for_url(f"{web.url}/{lang}/", timeout=PAGE_READY_MS)
        assert page.errors == []
    finally:
        context.close()


def test_in_demo_mode_the_landing_page_has_a_working_link_per_role(
    demo_url: str, browser: Any, artifacts: Path
) -> None:
    en = catalogue("en")
    context = desktop_context(browser, locale="en-US")
    try:
        page = landing(context, demo_url)
        links = page.locator("#demo li a")
        expect(links).to_have_count(len(Role))
        assert links.evaluate_all("as => as.map(a => a.dataset.role)") == [
            "commander", "operator", "responder", "medic", "admin",
            "resident", "guest", "volunteer", "liaison",
        ]  # fmt: skip
        operator = page.locator("#demo a[data-role=operator]")
        expect(operator).to_contain_text(en["role.operator"])
        expect(operator).to_contain_text(squad_member("operator")["name"])
        expect(page.locator("#demo a[data-role=guest]")).to_contain_text(en["landing.demo_new"])
        page.screenshot(path=artifacts / "landing-demo-en.png", full_page=True)
        first_link = operator.get_attribute("href")
        assert re.fullmatch(r"/en/enroll#[A-Z2-7]{8}", str(first_link))
        operator.click()
        page.wait_for_url(f"{demo_url}/en/operator", timeout=PAGE_READY_MS)
        wait_ready(page)
    finally:
        context.close()
    # The link is spent; the next newcomer gets a fresh one that works.
    context = desktop_context(browser, locale="en-US")
    try:
        page = landing(context, demo_url)
        operator = page.locator("#demo a[data-role=operator]")
        assert operator.get_attribute("href") != first_link
        operator.click()
        page.wait_for_url(f"{demo_url}/en/operator", timeout=PAGE_READY_MS)
        wait_ready(page)
    finally:
        context.close()


def test_the_links_language_stays_the_devices_language_until_changed(
    web: WebSite, browser: Any
) -> None:
    operator = squad_member("operator")
    assert operator["languages"][0] == "he"  # the person's own language is not the link's
    context = desktop_context(browser)
    try:
        page = enrol(context, web.url, web.person_code(operator["person_ref"], [Role.OPERATOR]))
        assert page.url == f"{web.url}/en/operator"
        assert page.evaluate("document.documentElement.lang") == "en"
        page.goto(f"{web.url}/")
        page.wait_for_url(f"{web.url}/en/operator", timeout=PAGE_READY_MS)
        # The person changes it in the menu: from now on the device opens in Hebrew.
        wait_ready(page)
        page.click(".menu summary")
        page.click("#menu a[hreflang=he]")
        page.wait_for_url(f"{web.url}/he/operator", timeout=PAGE_READY_MS)
        page.goto(f"{web.url}/")
        page.wait_for_url(f"{web.url}/he/operator", timeout=PAGE_READY_MS)
    finally:
        context.close()
    # A household's phone enrolled from an English link: English, not the household's Arabic.
    context = phone_context(browser)
    try:
        page = enrol(context, web.url, web.household_code(household_speaking("ar")), "en")
        assert page.url == f"{web.url}/en/resident"
    finally:
        context.close()
