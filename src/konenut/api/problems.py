"""RFC 9457 problem details: the one place exceptions become HTTP errors (contracts §3)."""

from __future__ import annotations

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from konenut.domain.errors import DomainError, InvalidEvent
from konenut.store.eventstore import StoreUnavailable

log = structlog.get_logger(__name__)

PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request too large",
    415: "Unsupported media type",
    422: "Invalid request",
    429: "Too many requests",
    500: "Internal error",
    503: "Not ready",
}

SLUGS = {
    400: "bad-request",
    401: "unauthenticated",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    429: "too-many-requests",
    500: "internal-error",
    503: "not-ready",
}


class ApiProblem(Exception):
    """An HTTP-level problem raised by the adapter itself (auth, headers, readiness)."""

    def __init__(
        self,
        status: int,
        detail: str,
        slug: str | None = None,
        errors: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.slug = slug or SLUGS.get(status, "error")
        self.errors = errors
        self.headers = headers


def problem(
    status: int,
    detail: str,
    slug: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"urn:konenut:problem:{slug or SLUGS.get(status, 'error')}",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
    }
    if errors is not None:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_for(exc: ApiProblem) -> JSONResponse:
    """The problem+json answer to an ApiProblem (the app's handler, and plain ASGI layers)."""
    return problem(exc.status, exc.detail, exc.slug, exc.errors, exc.headers)


def _loc(parts: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in parts)


def install(app: FastAPI) -> None:
    """Map every exception type to problem+json, once."""

    @app.exception_handler(ApiProblem)
    async def _api(_: Request, exc: ApiProblem) -> JSONResponse:
        return problem_for(exc)

    @app.exception_handler(InvalidEvent)
    async def _invalid(_: Request, exc: InvalidEvent) -> JSONResponse:
        return problem(exc.status, exc.detail, exc.slug, exc.errors)

    @app.exception_handler(DomainError)
    async def _domain(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.detail, exc.slug)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": _loc(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": "", "msg": "invalid"}
        detail = f"{first['loc']}: {first['msg']}" + (
            f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        )
        return problem(422, detail, "validation-error", errors)

    @app.exception_handler(StoreUnavailable)
    async def _unavailable(_: Request, exc: StoreUnavailable) -> JSONResponse:
        return problem(503, str(exc), "store-unavailable", headers={"Retry-After": "2"})

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, str(exc.detail), headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("request.failed", path=request.url.path)
        return problem(500, "an unexpected error; it has been logged")
