"""The audit trail's own commands: denials, guessing, exports."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from konenut.app.decisions import Decide, Decision
from konenut.app.handlers.events import new_event
from konenut.app.identity import Actor
from konenut.domain.state import SiteState


def record_denial(
    actor: Actor | None,
    operation: str,
    reason: str,
    count: int = 1,
    first_at: str | None = None,
) -> Decide:
    """`audit.access_denied`: one refusal, or `count` of them since `first_at` (api/denials.py
    aggregates them per token and operation per minute)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        payload = {
            "operation": operation,
            "reason": reason,
            "token_id": actor.token_id if actor else None,
            "count": count if count > 1 else None,
            "first_at": first_at,
        }
        return Decision(
            [
                new_event(
                    "audit.access_denied",
                    {k: v for k, v in payload.items() if v},
                    actor=actor,
                    cmd=None,
                    now=now,
                )
            ]
        )

    return decide


def record_guessing(code_space: str, failures: int, window_secs: int) -> Decide:
    """`code_guessing.detected`: an alarm for those who run the squad, on the open incident's
    timeline when there is one (api/passes.py raises it)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        payload = {"code_space": code_space, "failures": failures, "window_secs": window_secs}
        incident = state.open_real_incident()
        alarm = new_event(
            "code_guessing.detected", payload, actor=None, cmd=None, now=now, incident=incident
        )
        return Decision([alarm])

    return decide


def record_registry_export(
    actor: Actor | None, fmt: str, households: int, people: int, via: str
) -> Decide:
    """`audit.registry_exported`: residents' names and phones left the system."""

    def decide(state: SiteState, now: datetime) -> Decision:
        payload = {"format": fmt, "households": households, "people": people, "via": via}
        event = new_event("audit.registry_exported", payload, actor=actor, cmd=None, now=now)
        return Decision([event])

    return decide


def record_export(
    actor: Actor | None,
    incident_id: str | None,
    count: int,
    via: str,
    *,
    fmt: str = "jsonl",
    redacted: bool = False,
) -> Decide:
    """`audit.log_exported`: `count` events (or positions and sightings) left the system."""

    def decide(state: SiteState, now: datetime) -> Decision:
        payload: dict[str, Any] = {"format": fmt, "event_count": count, "via": via}
        if incident_id:
            payload["incident_id"] = incident_id
        if redacted:
            payload["redacted"] = True
        return Decision([new_event("audit.log_exported", payload, actor=actor, cmd=None, now=now)])

    return decide
