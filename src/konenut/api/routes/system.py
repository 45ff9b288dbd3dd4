"""Health, readiness and the API docs page (assets shipped in the package, no CDN)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from konenut.api.deps import get_runtime
from konenut.api.problems import problem
from konenut.api.runtime import Runtime
from konenut.bus.hub import StreamHub
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
    responses={
        503: {"description": "Migrations not at head, projections or the stream catching up"}
    },
)
def readyz(request: Request, runtime: Runtime = Depends(get_runtime)) -> JSONResponse:
    """Ready to serve on every public surface: the schema is at head, projections have caught
    up with the log, and the live stream takes clients (its ring is loaded)."""
    if not runtime.migrations_at_head:
        runtime.migrations_at_head = migrate.at_head(runtime.store.writer_engine)
    if not runtime.migrations_at_head:
        return problem(503, "database schema is not at the newest migration; run `konenut init`")
    if not runtime.store.caught_up:
        return problem(503, "projections are still catching up with the log")
    if not runtime.store.healthy:
        return problem(503, "the database cannot be reached; commands are refused until it is")
    hub: StreamHub = request.app.state.stream_hub
    if not hub.started:
        return problem(503, "the live stream is still loading the latest events")
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
