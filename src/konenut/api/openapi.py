"""The OpenAPI document says what every operation answers, as contracts §3 has it."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from konenut.api.problems import PROBLEM_JSON

# Every error body (RFC 9457), as api/problems.py writes it.
PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string", "pattern": "^urn:konenut:problem:[a-z0-9-]+$"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
}
PROBLEM_CONTENT = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
# FastAPI's own 422 body, which this API never sends (a 422 is a problem like any error).
UNUSED_SCHEMAS = ("HTTPValidationError", "ValidationError")
NOTHING_CHANGED = "Nothing changed; nothing stored"


def _answers(responses: dict[str, Any]) -> None:
    """A command (201) may also answer 200; every 4xx and 5xx is a problem, and so is any
    other 4xx the operation may answer (401, 403, 404, 409, 413, 429, ...)."""
    if "201" in responses and "200" not in responses:
        responses["200"] = {**responses["201"], "description": NOTHING_CHANGED}
    for code, response in responses.items():
        if code[0] in "45":
            response["content"] = PROBLEM_CONTENT
    responses.setdefault("4XX", {"description": "A problem (RFC 9457)", "content": PROBLEM_CONTENT})


def document_answers(document: dict[str, Any]) -> dict[str, Any]:
    """The document, with every operation's answers as they are sent (idempotent)."""
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    for name in UNUSED_SCHEMAS:
        schemas.pop(name, None)
    for item in document["paths"].values():
        for operation in item.values():
            _answers(operation.setdefault("responses", {}))
    return document


def install(app: FastAPI) -> None:
    """Serve the document completed (built once, on first use, as FastAPI does)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        return document_answers(build())

    app.openapi = openapi  # type: ignore[method-assign]
