"""Envelope rules every new event must satisfy before it reaches the log (contracts §2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from pydantic import ValidationError

from konenut.domain.errors import InvalidEvent
from konenut.domain.event_types import event_type
from konenut.domain.events import Location, NewEvent
from konenut.domain.ids import format_time, parse_time

MAX_PAST_SKEW = timedelta(hours=24)  # offline reports keep their time, up to a day old
MAX_FUTURE_SKEW = timedelta(minutes=5)  # device clocks drift; more than this is a bad clock


def check_occurred_at(occurred_at: datetime, now: datetime) -> None:
    """Refuse device times more than 24 h in the past or 5 min in the future."""
    if occurred_at.tzinfo is None:
        raise InvalidEvent("occurred_at must carry a timezone", [_err("occurred_at", "naive")])
    if occurred_at < now - MAX_PAST_SKEW:
        raise InvalidEvent(
            "occurred_at is more than 24 hours in the past",
            [_err("occurred_at", "more than 24 hours in the past")],
        )
    if occurred_at > now + MAX_FUTURE_SKEW:
        raise InvalidEvent(
            "occurred_at is more than 5 minutes in the future",
            [_err("occurred_at", "more than 5 minutes in the future")],
        )


def validated(new: NewEvent, now: datetime) -> NewEvent:
    """The event with its payload, location and time normalised; InvalidEvent if it breaks a rule.

    `occurred_at` becomes UTC with milliseconds, as the log stores it, so the event the writer
    returns (and applies and hands to listeners) equals the event read back from the log.
    """
    etype = event_type(new.type)
    payload = etype.validate(new.payload)
    check_occurred_at(new.occurred_at, now)
    if etype.requires_incident and new.incident_id is None:
        raise InvalidEvent(f"{new.type} belongs to an incident", [_err("incident_id", "missing")])
    location = _validated_location(new)
    if etype.requires_location and location is None:
        raise InvalidEvent(f"{new.type} needs a location", [_err("location", "missing")])
    occurred_at = parse_time(format_time(new.occurred_at))
    return replace(new, payload=payload, location=location, occurred_at=occurred_at)


def _validated_location(new: NewEvent) -> dict[str, float] | None:
    if new.location is None:
        return None
    try:
        model = Location.model_validate(new.location)
    except ValidationError as exc:
        errors = [_err(".".join(["location", *map(str, e["loc"])]), e["msg"]) for e in exc.errors()]
        raise InvalidEvent("invalid location", errors) from exc
    return model.model_dump(exclude_none=True)


def _err(loc: str, msg: str) -> dict[str, str]:
    return {"loc": loc, "msg": msg}
