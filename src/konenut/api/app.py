"""The API's FastAPI application: routes, errors, docs and the live stream over the store,
wired in one place (konenut/server.py adds the pages)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from konenut import __version__, bootstrap
from konenut.api import fastpath, openapi, problems
from konenut.api.denials import FLUSH_INTERVAL_SECS
from konenut.api.guessers import RefuseGuessers
from konenut.api.limits import LimitBodies
from konenut.api.routes import accountability as accountability_routes
from konenut.api.routes import (
    broadcast_audience,
    hooks,
    identity,
    incidents,
    muster,
    residents,
    site,
    stream,
    system,
    volunteers,
)
from konenut.api.routes import broadcasts as broadcast_routes
from konenut.api.routes import casualties as casualty_routes
from konenut.api.routes import challenge as challenge_routes
from konenut.api.routes import exports as export_routes
from konenut.api.routes import hostages as hostage_routes
from konenut.api.routes import household_editor as household_editor_routes
from konenut.api.routes import liaison as liaison_routes
from konenut.api.routes import photos as photo_routes
from konenut.api.routes import picture as picture_routes
from konenut.api.routes import registry as registry_routes
from konenut.api.routes import sitrep as sitrep_routes
from konenut.api.routes import supplies as supply_routes
from konenut.api.routes import tasks as task_routes
from konenut.api.routes.system import DOCS_ASSETS, SWAGGER_UI_DIR
from konenut.api.runtime import Runtime
from konenut.api.strict import StrictRequests
from konenut.config import GZIP_MIN_BYTES, Settings
from konenut.logs import configure_logging
from konenut.store.eventstore import EventStore

log = structlog.get_logger(__name__)


def create_api(settings: Settings, store: EventStore | None = None) -> FastAPI:
    """The API without the pages (konenut/server.py create_app adds them and the headers every
    answer carries). Given no store, it opens (and owns) one from the settings."""
    configure_logging()
    owns_store = store is None
    runtime = Runtime(settings=settings, store=store or bootstrap.settings_store(settings))
    hub = stream.stream_hub(runtime)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with bootstrap.serving(runtime, hub, owns_store=owns_store):
            denials = asyncio.create_task(_flush_denials_forever(runtime))
            try:
                yield
            finally:
                denials.cancel()
                if runtime.store.started:  # counts not recorded yet, while the store is open
                    runtime.denials.flush_all()

    app = FastAPI(
        title="Konenut API",
        version=__version__,
        summary="Coordination for a community's own emergency-response squad.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    app.state.stream_hub = hub
    problems.install(app)
    openapi.install(app)
    # Innermost, ahead of FastAPI's routing: check-ins and positions (api/fastpath.py).
    handlers = app.exception_handlers
    app.add_middleware(fastpath.LeanRoutes, routes=incidents.router.routes, handlers=handlers)
    # Ahead of the hot routes and FastAPI: one reading of every request (api/strict.py).
    app.add_middleware(StrictRequests)
    # Ahead of auth and JSON parsing: no body is read past its limit.
    app.add_middleware(LimitBodies)
    # Ahead of the body limits: a throttled guesser gets 429, whatever it sends (api/guessers.py).
    app.add_middleware(RefuseGuessers, runtime=runtime)
    app.add_middleware(NotBeforeReady, runtime=runtime)
    # API JSON compresses ~6x (people, plan): it is most of the operator console's first load.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MIN_BYTES)
    # Before site's: /site/households/export.csv is not a household id.
    app.include_router(registry_routes.router)
    app.include_router(household_editor_routes.router)
    app.include_router(export_routes.router)
    for module in (system, identity, site, incidents, muster, volunteers, residents):
        app.include_router(module.router)
    app.include_router(hostage_routes.router)
    app.include_router(casualty_routes.router)
    app.include_router(supply_routes.router)
    app.include_router(task_routes.router)
    app.include_router(sitrep_routes.router)
    app.include_router(liaison_routes.router)
    app.include_router(challenge_routes.router)
    app.include_router(picture_routes.router)
    app.include_router(photo_routes.router)
    app.include_router(broadcast_routes.router)
    app.include_router(broadcast_audience.router)
    app.include_router(accountability_routes.router)
    app.include_router(hooks.router)
    app.add_middleware(stream.StreamMiddleware, endpoint=stream.StreamEndpoint(runtime, hub))
    app.mount(DOCS_ASSETS, StaticFiles(directory=SWAGGER_UI_DIR), name="docs")
    return app


# Until the projections have caught up, only health and readiness answer.
ALWAYS_SERVED_PATHS = frozenset({"/healthz", "/readyz"})


class NotBeforeReady:
    """Plain ASGI (no per-request task as with BaseHTTPMiddleware): until the projections have
    loaded, HTTP requests other than health and readiness get 503 with Retry-After."""

    def __init__(self, app: ASGIApp, runtime: Runtime) -> None:
        self.app = app
        self.runtime = runtime

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or self.runtime.store.started
            or scope["path"] in ALWAYS_SERVED_PATHS
        ):
            await self.app(scope, receive, send)
            return
        starting = problems.problem(
            503, "starting: catching up with the log", headers={"Retry-After": "2"}
        )
        await starting(scope, receive, send)


async def _flush_denials_forever(runtime: Runtime) -> None:
    """Record the refusals counted in windows that ended (api/denials.py)."""
    while True:
        await asyncio.sleep(FLUSH_INTERVAL_SECS)
        if runtime.store.started:
            runtime.denials.flush_due()
