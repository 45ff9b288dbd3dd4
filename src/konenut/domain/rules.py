"""Envelope rules every new event must satisfy before it reaches the log (contracts §2)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import ValidationError

from konenut.domain.errors import InvalidEvent
from konenut.domain.event_types import event_type
from konenut.domain.events import Location, NewEvent
from konenut.domain.ids import format_time, parse_time

MAX_PAST_SKEW = timedelta(hours=24)  # offline reports keep their time, up to a day old
MAX_FUTURE_SKEW = timedelta(minutes=5)  # device clocks drift; more than this is a bad clock
MAX_NESTING = 32  # a GeoJSON site plan needs 8 levels; the JSON serialisers stop near 255


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
    if not _storable(new.payload):
        _check_storable(new.payload, "payload")  # says what is wrong, and where
    payload = etype.validate(new.payload)
    check_occurred_at(new.occurred_at, now)
    if etype.requires_incident and new.incident_id is None:
        raise InvalidEvent(f"{new.type} belongs to an incident", [_err("incident_id", "missing")])
    location = _validated_location(new)
    if etype.requires_location and location is None:
        raise InvalidEvent(f"{new.type} needs a location", [_err("location", "missing")])
    occurred_at = new.occurred_at
    if occurred_at.tzinfo is not UTC or occurred_at.microsecond % 1000:
        occurred_at = parse_time(format_time(occurred_at))
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


def _storable(value: Any, depth: int = 0) -> bool:
    """What _check_storable accepts, without building a location for every value on the way
    (that took a 10,000-row registry import 0.15 s)."""
    if depth > MAX_NESTING:
        return False
    if isinstance(value, str):
        return "\x00" not in value and (value.isascii() or _encodable(value))
    if isinstance(value, dict):
        return all(_storable(k, depth) and _storable(v, depth + 1) for k, v in value.items())
    if isinstance(value, list | tuple):
        return all(_storable(item, depth + 1) for item in value)
    return True


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _check_storable(value: Any, loc: str, depth: int = 0) -> None:
    """Refuse what no log can keep: NUL characters (PostgreSQL's JSON rejects them, failing
    the whole group commit), unpaired surrogates (not UTF-8 at all), and nesting deeper than
    the JSON serialisers go."""
    if depth > MAX_NESTING:
        raise InvalidEvent(
            f"{loc} is nested more than {MAX_NESTING} levels deep",
            [_err(loc, "nested too deeply")],
        )
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidEvent(f"{loc} contains a NUL character", [_err(loc, "NUL character")])
        try:
            value.encode()
        except UnicodeEncodeError:
            raise InvalidEvent(
                f"{loc} contains an unpaired surrogate, which is not text",
                [_err(loc, "unpaired surrogate")],
            ) from None
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_storable(key, loc, depth)
            _check_storable(item, f"{loc}.{key}", depth + 1)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _check_storable(item, f"{loc}.{index}", depth + 1)


def _err(loc: str, msg: str) -> dict[str, str]:
    return {"loc": loc, "msg": msg}
