"""Ids are UUIDv7 strings (contracts §1): version 7, RFC variant, time-ordered in the order they
were made, and carrying the millisecond they were made in."""

from __future__ import annotations

import time
import uuid

from konenut.domain.ids import new_id


def test_an_id_is_a_uuid7_of_the_time_it_was_made() -> None:
    before_ms = time.time_ns() // 1_000_000
    made = new_id()
    parsed = uuid.UUID(made)
    assert str(parsed) == made
    assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
    # Never before it was made; ahead of the clock only by as many milliseconds as ids were made
    # faster than one per millisecond before it (each takes a millisecond of its own).
    assert before_ms <= parsed.int >> 80 <= time.time_ns() // 1_000_000 + 60_000


def test_ids_made_in_a_row_are_distinct_and_in_order() -> None:
    made = [new_id() for _ in range(5_000)]  # many per millisecond
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    assert len({uuid.UUID(m).int & ((1 << 62) - 1) for m in made}) == len(made)  # random bits
