"""Routes serving the web pages: server-side text from the catalogues, static assets."""

from __future__ import annotations

import json
from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from konenut.api.problems import ApiProblem
from konenut.web.i18n import LANGUAGES, catalogue, direction

STATIC_DIR = Path(str(files("konenut.web").joinpath("static")))

router = APIRouter(include_in_schema=False)


@cache
def _template(name: str) -> str:
    return (STATIC_DIR / name).read_text(encoding="utf-8")


def render(name: str, lang: str) -> str:
    """A page with {{lang}}, {{dir}}, {{t:key}} and {{messages}} filled in for `lang`."""
    messages = catalogue(lang)
    page = _template(name).replace("{{lang}}", lang).replace("{{dir}}", direction(lang))
    for key, text in messages.items():
        page = page.replace("{{t:" + key + "}}", text)
    # "</" would end the script element early; JSON allows escaping the slash.
    return page.replace(
        "{{messages}}", json.dumps(messages, ensure_ascii=False).replace("</", "<\\/")
    )


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/api/v1/docs")


@router.get("/{lang}/enroll")
def enroll_page(lang: str) -> HTMLResponse:
    if lang not in LANGUAGES:
        raise ApiProblem(404, f"no page in language {lang!r}; use one of {', '.join(LANGUAGES)}")
    return HTMLResponse(render("enroll.html", lang), headers={"Cache-Control": "no-store"})


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
