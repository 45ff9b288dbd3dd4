"""Routes serving the web app: pages rendered from the catalogues, the service worker, the
manifest, and the static assets (ours and Leaflet's), all from the package — no CDN.

Assets live under `/static/<build>/`, where `<build>` is a hash of their contents: they are
cached for a year and a new release gets new URLs (ES modules import each other relatively,
so they inherit the build segment without a bundler). Pages are never cached by the browser
itself; the service worker keeps a copy for offline starts.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from dataclasses import dataclass
from functools import cache
from html import escape
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import xstatic.pkg.leaflet as xstatic_leaflet
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.exceptions import HTTPException
from starlette.middleware.gzip import GZipMiddleware
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from konenut.bootstrap import Runtime
from konenut.config import GZIP_MIN_BYTES
from konenut.i18n import LANGUAGE_NAMES, LANGUAGES, catalogue, direction, instructions
from konenut.web import landing

STATIC_DIR = Path(str(files("konenut.web").joinpath("static")))
TEMPLATE_DIR = Path(str(files("konenut.web").joinpath("templates")))
LEAFLET_DIR = Path(xstatic_leaflet.BASE_DIR)
LEAFLET_URL = "/static/vendor/leaflet"
TEMPLATE_SUFFIX = ".html"
HEAD_PARTIAL = "head.html"  # what every page's <head> starts with: {{head}} in its template
DARK_THEME_COLOR = "#0d1117"  # base.css's background: the phone's bar matches the page
ASSET_MAX_AGE_SECS = 365 * 24 * 3600  # versioned URLs never change content
VENDOR_MAX_AGE_SECS = 24 * 3600  # Leaflet's URL carries no build id

router = APIRouter(include_in_schema=False)


class WebSettings(BaseSettings):
    """Settings of the web pages (KONENUT_MAP_TILES_URL, ...)."""

    model_config = SettingsConfigDict(env_prefix="KONENUT_", extra="ignore")

    # Online map tiles drawn under the site plan, e.g. "https://tile.example/{z}/{x}/{y}.png".
    # Off by default: the site plan is the basemap and needs no internet, and a tile server
    # learns where the users are looking.
    map_tiles_url: str | None = None
    map_tiles_attribution: str = ""


@dataclass(frozen=True)
class Page:
    """A page: its template, the catalogue keys it embeds (by prefix), who it is for."""

    template: str
    key_prefixes: tuple[str, ...]
    uses_map: bool = False
    edge_to_edge: bool = False  # the app pages draw under a phone's notch (viewport-fit=cover)
    theme_color: str = DARK_THEME_COLOR

    def viewport(self) -> str:
        fit = ", viewport-fit=cover" if self.edge_to_edge else ""
        return f"width=device-width, initial-scale=1{fit}"


COMMON_KEYS = ("app.", "common.", "conn.", "outbox.", "role.", "view.", "lang.")
PAGES: dict[str, Page] = {
    "landing": Page("landing", ("app.", "landing.", "lang.")),
    "enroll": Page("enroll", ("app.", "enroll.", "role.", "lang.")),
    "join": Page("join", ("app.", "join.", "lang.", "guest.", "liaison.")),
    "cards": Page("cards", ("app.", "card.", "common.")),
    "operator": Page(
        "operator",
        (
            *COMMON_KEYS,
            "operator.",
            "muster.state.",
            "muster.ui.",
            "map.",
            "event.",
            "status.",
            "household.",
            "sighting.",
            "guest.",
            "hostage.",
            "casualty.",
            "caution.",
            "supply.",
            "task.",
            "liaison.",
            "sitrep.",
        ),
        uses_map=True,
        edge_to_edge=True,
    ),
    "responder": Page(
        "responder",
        (
            *COMMON_KEYS,
            "responder.",
            "muster.state.",
            "muster.ui.",
            "map.",
            "status.",
            "sighting.",
            "household.",
            "caution.",
            "casualty.",
            "supply.",
            "task.",
        ),
        uses_map=True,
        edge_to_edge=True,
    ),
    "resident": Page(
        "resident",
        (*COMMON_KEYS, "resident.", "household.", "map.", "guest.here"),
        edge_to_edge=True,
        theme_color="#000000",  # resident.css: a black page in a dark safe room
    ),
    "registry": Page("registry", (*COMMON_KEYS, "registry.")),
}


@cache
def web_settings() -> WebSettings:
    return WebSettings()


@cache
def build_id() -> str:
    """A short hash of every asset we ship: new assets, new URLs."""
    digest = hashlib.sha256(str(xstatic_leaflet.VERSION).encode())
    for folder in (STATIC_DIR, TEMPLATE_DIR):
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                digest.update(path.relative_to(folder).as_posix().encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def static_url() -> str:
    return f"/static/{build_id()}"


@cache
def _template(name: str) -> str:
    return (TEMPLATE_DIR / name).read_text(encoding="utf-8")


def _json_for_script(value: object) -> str:
    # "</" would end the script element early; JSON allows escaping the slash.
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def page_messages(page: Page, lang: str) -> dict[str, str]:
    """The part of the catalogue a page needs (the resident page travels over 3G)."""
    return {k: v for k, v in catalogue(lang).items() if k.startswith(page.key_prefixes)}


def page_config(name: str, lang: str) -> dict[str, Any]:
    """What the page's scripts need to know, embedded in the page."""
    settings = web_settings()
    config: dict[str, Any] = {
        "lang": lang,
        "dir": direction(lang),
        "page": name,
        "static": static_url(),
        "leaflet": LEAFLET_URL,
        "languages": [{"code": code, "name": LANGUAGE_NAMES[code]} for code in LANGUAGES],
    }
    if PAGES[name].uses_map or name == "resident":
        config["tiles"] = (
            {"url": settings.map_tiles_url, "attribution": settings.map_tiles_attribution}
            if settings.map_tiles_url
            else None
        )
    if name == "operator":
        config["instructions"] = instructions()
    return config


def render(name: str, lang: str) -> str:
    """A page with {{head}}, {{lang}}, {{dir}}, {{static}}, {{t:key}}, {{messages}} and
    {{config}}. Catalogue text goes in escaped: a translation is text, never markup."""
    page = PAGES[name]
    messages = catalogue(lang)
    html = (
        _template(page.template + TEMPLATE_SUFFIX)
        .replace("{{head}}", _template(HEAD_PARTIAL).rstrip("\n"))
        .replace("{{viewport}}", page.viewport())
        .replace("{{theme_color}}", page.theme_color)
        .replace("{{lang}}", lang)
        .replace("{{dir}}", direction(lang))
        .replace("{{static}}", static_url())
    )
    for key, text in messages.items():
        html = html.replace("{{t:" + key + "}}", escape(text))
    html = html.replace("{{messages}}", _json_for_script(page_messages(page, lang)))
    return html.replace("{{config}}", _json_for_script(page_config(name, lang)))


def content_security_policy() -> str:
    """Scripts only from us; connections only to us; map tiles from the configured host (sent
    on every response by api/headers.py)."""
    images = "'self' data: blob:"  # blob: sighting photos, fetched with the device token
    tiles = web_settings().map_tiles_url
    if tiles:
        images += " " + _tile_origin(tiles)
    return (
        "default-src 'self'; script-src 'self'; connect-src 'self'; "
        f"img-src {images}; style-src 'self' 'unsafe-inline'; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; manifest-src 'self'"
    )


def _tile_origin(url_template: str) -> str:
    """The origin a tile URL template fetches from ("{s}." subdomains become a wildcard)."""
    parts = urlsplit(url_template)
    host = parts.netloc
    if host.startswith("{s}."):
        host = "*." + host.removeprefix("{s}.")
    return f"{parts.scheme}://{host}"


def _send(
    request: Request, body: str, media_type: str, headers: dict[str, str] | None = None
) -> Response:
    """The body, gzipped when the client accepts it (pages count against the 3G budget)."""
    data = body.encode()
    all_headers = {"Vary": "Accept-Encoding", **(headers or {})}
    if len(data) >= GZIP_MIN_BYTES and "gzip" in request.headers.get("accept-encoding", ""):
        data = gzip.compress(data, compresslevel=9, mtime=0)
        all_headers["Content-Encoding"] = "gzip"
    return Response(data, media_type=media_type, headers=all_headers)


def _language(lang: str) -> str:
    if lang not in LANGUAGES:
        raise HTTPException(404, f"no page in language {lang!r}; use one of {', '.join(LANGUAGES)}")
    return lang


def _page(name: str, request: Request, lang: str) -> Response:
    return _html(request, render(name, _language(lang)))


def _html(request: Request, html: str) -> Response:
    return _send(request, html, "text/html", {"Cache-Control": "no-store"})


@router.get("/")
def home(request: Request) -> Response:
    """The installed app's start: the page of this device's role, or the landing page."""
    start = (
        "<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        "<meta name=color-scheme content=dark><title>Konenut</title>"
        "<body style='background:#0d1117'>"
        f"<script type=module src='{static_url()}/start.js'></script>"
    )
    return _send(request, start, "text/html", {"Cache-Control": "no-store"})


@router.get("/{lang}/")
def landing_page(lang: str, request: Request) -> Response:
    """Where a newcomer starts: the site's name, what this is, a field to type a code, the
    language choice, and in demo mode a link per role."""
    lang = _language(lang)
    runtime: Runtime = request.app.state.runtime
    demo = ""
    if runtime.settings.demo:  # links first: issuing them changes the state
        links = request.app.state.demo_links.current(runtime.store, runtime.site_id)
        demo = landing.demo_html(runtime.store.state(runtime.site_id), links, lang)
    state = runtime.store.state(runtime.site_id)
    html = render("landing", lang).replace("{{demo}}", demo)
    return _html(request, html.replace("{{site_name}}", escape(landing.site_name(state, lang))))


@router.get("/{lang}/enroll")
def enroll_page(lang: str, request: Request) -> Response:
    return _page("enroll", request, lang)


@router.get("/{lang}/p")
def pass_page(lang: str, request: Request) -> Response:
    """A standing pass's link (`/{lang}/p#CODE`): a volunteer joining, a household card, a guest
    poster."""
    return _page("join", request, lang)


@router.get("/{lang}/cards")
def cards_page(lang: str, request: Request) -> Response:
    """Printable household cards (admin): the page asks the API for fresh cards, lays them out."""
    return _page("cards", request, lang)


@router.get("/{lang}/operator")
def operator_page(lang: str, request: Request) -> Response:
    """The operator console (war room, big screen); commanders and liaisons use it too."""
    return _page("operator", request, lang)


@router.get("/{lang}/responder")
def responder_page(lang: str, request: Request) -> Response:
    """The responder's phone: own status, friends and threats, orders."""
    return _page("responder", request, lang)


@router.get("/{lang}/resident")
def resident_page(lang: str, request: Request) -> Response:
    """The resident's phone in a safe room: instructions and the household's own status."""
    return _page("resident", request, lang)


@router.get("/{lang}/registry")
def registry_page(lang: str, request: Request) -> Response:
    """The admin's household registry: find a household, edit it and its members."""
    return _page("registry", request, lang)


@router.get("/{lang}/manifest.webmanifest")
def manifest(lang: str, request: Request) -> Response:
    """The PWA manifest, named in the page's language."""
    messages = catalogue(_language(lang))
    icons = static_url() + "/icons"
    body = {
        "name": messages["app.name"],
        "short_name": messages["app.name"],
        "description": messages["app.tagline"],
        "lang": lang,
        "dir": direction(lang),
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#0d1117",
        "theme_color": "#0d1117",
        "icons": [
            {"src": f"{icons}/icon.svg", "sizes": "any", "type": "image/svg+xml"},
            {"src": f"{icons}/icon-192.png", "sizes": "192x192", "type": "image/png"},
            {"src": f"{icons}/icon-512.png", "sizes": "512x512", "type": "image/png"},
            {
                "src": f"{icons}/icon-maskable-512.png",
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    return _send(
        request,
        json.dumps(body, ensure_ascii=False),
        "application/manifest+json",
        {"Cache-Control": "no-cache"},
    )


def _answer_labels() -> dict[str, dict[str, str]]:
    """The words on a push notification's buttons, in every language (the SW has no page)."""
    keys = {
        "app": "app.name",
        "coming": "status.coming",
        "cannot": "status.cannot",
        "seen": "status.seen",
    }
    return {lang: {k: catalogue(lang)[key] for k, key in keys.items()} for lang in LANGUAGES}


@router.get("/sw.js")
def service_worker(request: Request) -> Response:
    """The service worker, at the root so that it controls every page."""
    script = _template("sw.js")
    script = script.replace("__BUILD__", build_id()).replace("__STATIC__", static_url())
    script = script.replace("__LEAFLET__", LEAFLET_URL)
    script = script.replace("__ANSWER_LABELS__", _json_for_script(_answer_labels()))
    headers = {"Cache-Control": "no-cache", "Service-Worker-Allowed": "/"}
    return _send(request, script, "text/javascript", headers)


class _CacheFor:
    """ASGI wrapper that adds a Cache-Control header to every answer of `app`."""

    def __init__(self, app: ASGIApp, cache_control: str) -> None:
        self.app = app
        self.header = (b"cache-control", cache_control.encode())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_header(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), self.header]
            await send(message)

        await self.app(scope, receive, send_with_header)


def _assets(directory: Path, cache_control: str) -> ASGIApp:
    return GZipMiddleware(
        _CacheFor(StaticFiles(directory=directory), cache_control), minimum_size=GZIP_MIN_BYTES
    )


def install(app: FastAPI) -> None:
    app.state.demo_links = landing.DemoLinks()
    app.include_router(router)
    app.mount(
        LEAFLET_URL,
        _assets(LEAFLET_DIR, f"public, max-age={VENDOR_MAX_AGE_SECS}"),
        name="leaflet",
    )
    app.mount(
        static_url(),
        _assets(STATIC_DIR, f"public, max-age={ASSET_MAX_AGE_SECS}, immutable"),
        name="assets",
    )
    # Unversioned, for links that outlive a release (and the enroll page of older builds).
    app.mount("/static", _assets(STATIC_DIR, "no-cache"), name="static")
