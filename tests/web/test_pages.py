"""The pages and assets over HTTP: rendered in every language, nothing left unrendered,
everything from the package (no CDN), compressed, cached, installable."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from typing import Any

import httpx
import pytest

from konenut.i18n import LANGUAGES, catalogue, direction
from konenut.web import routes

from .conftest import WebSite, desktop_context

PAGES = ("enroll", "operator", "responder", "resident", "registry")
EXTERNAL_URL = re.compile(r"""(?:https?:)?//(?!www\.w3\.org/)[\w.-]+\.[a-z]{2,}""")


class _Assets(HTMLParser):
    """Every src/href a page points to."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value:
                self.urls.append(value)


def page_assets(html: str) -> list[str]:
    parser = _Assets()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def client(web: WebSite) -> httpx.Client:
    return httpx.Client(base_url=web.url, timeout=10.0)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_in_every_language(client: httpx.Client, page: str, lang: str) -> None:
    response = client.get(f"/{lang}/{page}")
    assert response.status_code == 200
    html = response.text
    assert f'<html lang="{lang}" dir="{direction(lang)}">' in html
    assert "{{" not in html, "a placeholder was left unrendered"
    assert response.headers["cache-control"] == "no-store"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    messages = json.loads(re.search(r'<script id="messages"[^>]*>(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert messages["app.name"] == catalogue(lang)["app.name"]
    config = json.loads(re.search(r'<script id="config"[^>]*>(.*?)</script>', html, re.S)[1])  # type: ignore[index]
    assert config["lang"] == lang and config["page"] == page


def test_pages_are_gzipped(client: httpx.Client) -> None:
    response = client.get("/th/resident", headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"


def test_unknown_language_is_a_problem(client: httpx.Client) -> None:
    response = client.get("/fr/resident")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")


MARKUP = 'Type the <b>code</b> <script>document.title = "run"</script> & "go"'


def test_a_translation_with_markup_shows_as_text(
    web: WebSite, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A catalogue string is text: a translator's (or an attacker's) `<b>` or `<script>` is
    shown as typed, in an element and in an attribute, and nothing of it runs."""
    monkeypatch.setitem(catalogue("en"), "landing.about", MARKUP)
    monkeypatch.setitem(catalogue("en"), "lang.choose", MARKUP)
    context = desktop_context(browser)
    try:
        page = context.new_page()
        page.goto(f"{web.url}/en/")
        assert page.locator("#about").inner_text() == MARKUP
        assert page.locator("#about b, #about script").count() == 0
        assert page.locator("#langs").get_attribute("aria-label") == MARKUP
        assert page.title() != "run"
    finally:
        context.close()


@pytest.mark.parametrize("page", sorted(routes.PAGES))
def test_every_page_has_the_shared_head(page: str) -> None:
    """One <head> partial: every page is installable, has the icon and the dark theme."""
    head = routes.render(page, "en").split("</head>")[0]
    assert head.startswith('<!doctype html>\n<html lang="en" dir="ltr">\n<head>\n')
    for line in (
        '<meta charset="utf-8">',
        '<meta name="color-scheme" content="dark">',
        '<link rel="manifest" href="/en/manifest.webmanifest">',
        f'<link rel="icon" href="{routes.static_url()}/icons/icon.svg" type="image/svg+xml">',
    ):
        assert line in head, line


@pytest.mark.parametrize("page", PAGES)
def test_every_asset_a_page_names_is_served_from_here(client: httpx.Client, page: str) -> None:
    html = client.get(f"/en/{page}").text
    for url in page_assets(html):
        assert url.startswith("/"), f"{url} is not served by us"
        response = client.get(url)
        assert response.status_code == 200, url


def test_versioned_assets_are_cached_for_good_and_compressed(client: httpx.Client) -> None:
    response = client.get(f"{routes.static_url()}/outbox.js", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"]
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"].startswith("text/javascript")


def test_leaflet_comes_from_the_package(client: httpx.Client) -> None:
    for name in ("leaflet.js", "leaflet.css"):
        response = client.get(f"{routes.LEAFLET_URL}/{name}")
        assert response.status_code == 200, name
    assert "Leaflet" in client.get(f"{routes.LEAFLET_URL}/leaflet.js").text[:300]


def test_no_asset_reaches_for_another_host() -> None:
    """No CDN, no web font, no analytics: every byte ships in the package."""
    offenders = []
    for folder in (routes.STATIC_DIR, routes.TEMPLATE_DIR):
        for path in folder.rglob("*"):
            if not path.is_file() or path.suffix == ".png":
                continue
            text = path.read_text(encoding="utf-8")
            if EXTERNAL_URL.search(text):
                offenders.append(path.name)
    assert offenders == []


def test_manifest_makes_an_installable_app(client: httpx.Client) -> None:
    response = client.get("/he/manifest.webmanifest")
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = response.json()
    assert manifest["name"] == catalogue("he")["app.name"]
    assert manifest["dir"] == "rtl" and manifest["display"] == "standalone"
    assert manifest["start_url"] == "/"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        assert client.get(icon["src"]).status_code == 200, icon["src"]


def test_service_worker_is_served_at_the_root(client: httpx.Client) -> None:
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["cache-control"] == "no-cache"
    assert routes.build_id() in response.text
    assert "__BUILD__" not in response.text and "__STATIC__" not in response.text


def test_start_page_opens_the_device_page(client: httpx.Client) -> None:
    html = client.get("/").text
    assert f"{routes.static_url()}/start.js" in html


def test_build_id_is_a_short_content_hash() -> None:
    assert re.fullmatch(r"[0-9a-f]{12}", routes.build_id())


def test_tile_origin_allows_only_the_tile_host() -> None:
    assert routes._tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == (
        "https://*.tile.example.org"
    )
    assert routes._tile_origin("https://tiles.example.net/{z}/{x}/{y}.png") == (
        "https://tiles.example.net"
    )
