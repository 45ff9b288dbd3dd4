"""The audit trail (admins only) and the code-guessing alarm."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from konenut.domain.event_types.vocabulary import Id, Stamp
from konenut.domain.events import Payload


class AccessDenied(Payload):
    """One refusal, or `count` refusals of the same token and operation since `first_at`."""

    operation: Annotated[str, StringConstraints(max_length=100)]
    reason: Annotated[str, StringConstraints(max_length=500)]
    token_id: Id | None = None
    count: int = Field(default=1, ge=1)
    first_at: Stamp | None = None


class LogExported(Payload):
    incident_id: Id | None = None
    format: Literal["jsonl", "csv", "geojson", "kml", "html", "pdf"] = "jsonl"
    event_count: int = Field(ge=0)
    via: Literal["api", "cli"] = "api"
    redacted: bool = False  # names became roles, phones left out (docs/exports.md)


class RegistryExported(Payload):
    """Who took the residents' names and phones out of the system, and how many."""

    format: Literal["csv", "xlsx"]
    households: int = Field(ge=0)
    people: int = Field(ge=0)
    via: Literal["api", "cli"] = "api"


class InboundRejected(Payload):
    """An SMS/Telegram reply that answered nothing (never its text; the sender masked)."""

    channel: Literal["sms", "telegram"]
    sender: Annotated[str, StringConstraints(max_length=40)]  # only the last 3 characters
    reason: Literal["unknown sender", "no open question", "not an answer"]
    message_id: Annotated[str, StringConstraints(max_length=128)] | None = None


class CodeGuessingDetected(Payload):
    """Wrong codes of one kind came faster than people mistype, from all addresses together:
    someone is guessing; every code of that kind is refused until the rate falls."""

    code_space: Literal["enrollment_code", "pass"]
    failures: int = Field(ge=1)  # wrong codes in the window
    window_secs: int = Field(ge=1)
