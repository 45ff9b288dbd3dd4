"""Identifiers and timestamps: UUIDv7 ids and RFC 3339 UTC times with milliseconds."""

from __future__ import annotations

from datetime import UTC, datetime

import uuid6


def new_id() -> str:
    """A new time-ordered UUIDv7 string (contracts §1)."""
    return str(uuid6.uuid7())


def utcnow() -> datetime:
    """The current time, timezone-aware UTC, truncated to milliseconds."""
    now = datetime.now(UTC)
    return now.replace(microsecond=(now.microsecond // 1000) * 1000)


def format_time(moment: datetime) -> str:
    """RFC 3339 UTC with milliseconds, e.g. 2023-10-07T06:52:00.000Z."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime: times must carry a timezone")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse an RFC 3339 time; the result is UTC."""
    moment = datetime.fromisoformat(text)  # Python 3.11 reads a trailing Z too
    if moment.tzinfo is None:
        raise ValueError(f"time without timezone: {text!r}")
    return moment if moment.tzinfo is UTC else moment.astimezone(UTC)
