"""Health, readiness and the API docs page (assets shipped in the package, no CDN)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from konenut.api.deps import get_runtime
from konenut.api.problems import problem
from konenut.api.runtime import Runtime
from konenut.store import migrate

router = APIRouter()

DOCS_ASSETS = "/api/v1/docs/assets"
# Swagger UI 5 (FastAPI's OpenAPI 3.1 needs it; 4.x refuses the document), as shipped in the
# fastapi-offline package: no CDN.
SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"


@router.get("/healthz", operation_id="healthz", tags=["system"])
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="readyz",
    tags=["system"],
    responses={503: {"description": "Migrations not at head or projections catching up"}},
)
def readyz(runtime: Runtime = Depends(get_runtime)) -> JSONResponse:
    """Ready to serve: the schema is at head and projections have caught up with the log."""
    if not runtime.migrations_at_head:
        runtime.migrations_at_head = migrate.at_head(runtime.store.writer_engine)
    if not runtime.migrations_at_head:
        return problem(503, "database schema is not at the newest migration; run `konenut init`")
    if not runtime.store.caught_up:
        return problem(503, "projections are still catching up with the log")
    if not runtime.store.healthy:
        return problem(503, "the database cannot be reached; commands are refused until it is")
    return JSONResponse({"status": "ready", "seq": runtime.store.state(runtime.site_id).seq})


@router.get("/api/v1/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/api/v1/openapi.json",
        title="Konenut API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
    )
