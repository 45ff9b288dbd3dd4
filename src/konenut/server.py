"""The HTTP server's one app: the API and the pages it serves (siblings, composed only here)."""

from __future__ import annotations

from fastapi import FastAPI

from konenut.api.app import create_api
from konenut.api.headers import SecurityHeaders
from konenut.config import Settings
from konenut.store.eventstore import EventStore
from konenut.web import routes as web_routes


def create_app(settings: Settings, store: EventStore | None = None) -> FastAPI:
    """A ready-to-serve app. Given no store, it opens (and owns) one from the settings."""
    app = create_api(settings, store)
    web_routes.install(app)
    # Outermost: every HTTP answer carries them, refusals and 503s included.
    csp = web_routes.content_security_policy()
    app.add_middleware(SecurityHeaders, content_security_policy=csp)
    return app
