"""Health, readiness and the API docs page (assets shipped in the package, no CDN)."""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

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
    up with the log, and the live stream takes clients (its ring is loaded). Says how many times
    each policy failed since the node started (a caution not raised, a sender not woken)."""
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
    seq = runtime.store.state(runtime.site_id).seq
    # Policies that failed since the node started (app/policies.py): the node still serves.
    return JSONResponse(
        {"status": "ready", "seq": seq, "policy_failures": runtime.policies.failures}
    )


# Swagger UI started from a file, not an inline script: the site's CSP (script-src 'self') holds
# on the docs page too.
DOCS_PAGE = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Konenut API</title>
<link rel="stylesheet" href="{DOCS_ASSETS}/swagger-ui.css">
<link rel="icon" href="{DOCS_ASSETS}/favicon.png">
</head><body><div id="swagger-ui"></div>
<script src="{DOCS_ASSETS}/swagger-ui-bundle.js"></script>
<script src="/api/v1/docs/start.js"></script>
</body></html>
"""
DOCS_START_JS = """SwaggerUIBundle({
  url: "/api/v1/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
});
"""


@router.get("/api/v1/docs", include_in_schema=False)
def docs() -> HTMLResponse:
    return HTMLResponse(DOCS_PAGE)


@router.get("/api/v1/docs/start.js", include_in_schema=False)
def docs_start() -> Response:
    return Response(DOCS_START_JS, media_type="text/javascript")
