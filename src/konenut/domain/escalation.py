"""Escalation of a muster call: which channel to try next for whom, as a pure function of time.

A site's policy is an ordered chain of steps, each "after this many seconds from the call, try
this channel". Every targeted person who has not answered gets each step once its time has
come; an answer (coming / cannot / any later status) stops the chain for that person. A failed
attempt is retried with backoff, and never holds back the next step: a broken SMS gateway must
not stop the voice call at 90 s.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Statuses that answer a muster call: the chain stops once one is reported.
ANSWERS = frozenset(
    {"coming", "cannot", "en_route", "at_rally_point", "in_position", "wounded", "out"}
)
MAX_RETRIES_PER_STEP = 3
RETRY_BACKOFF_SECS = (10, 30, 90)  # after the 1st, 2nd and 3rd failure of the same step
# After the chain's last step, the time its message has to arrive and be opened (and a failed
# one to be retried twice) before someone who has neither seen nor answered the call is
# "not reached": from then on only a person going to fetch them will do.
NOT_REACHED_GRACE_SECS = 60


class Channel(StrEnum):
    PUSH = "push"
    SMS = "sms"
    TELEGRAM = "telegram"
    SIGNAL = "signal"
    WHATSAPP = "whatsapp"
    EMAIL = "email"
    VOICE = "voice"  # a webhook to a telephony gateway (Apprise has no voice service)
    DEPUTY = "deputy"  # tell the deputy commander that this person has not answered


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    channel: Channel
    after_secs: int = Field(ge=0, le=3600, description="Seconds after the call")


class EscalationPolicy(BaseModel):
    """An ordered chain of steps; times must not go backwards."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    steps: tuple[Step, ...] = Field(min_length=1, max_length=20)

    @field_validator("steps")
    @classmethod
    def _in_time_order(cls, steps: tuple[Step, ...]) -> tuple[Step, ...]:
        times = [s.after_secs for s in steps]
        if times != sorted(times):
            raise ValueError("steps must be in time order (after_secs never decreasing)")
        return steps


DEFAULT_POLICY = EscalationPolicy(
    steps=(
        Step(channel=Channel.PUSH, after_secs=0),
        Step(channel=Channel.SMS, after_secs=30),
        Step(channel=Channel.TELEGRAM, after_secs=30),
        Step(channel=Channel.VOICE, after_secs=90),
        Step(channel=Channel.DEPUTY, after_secs=120),
    )
)


def not_reached_at(policy: EscalationPolicy, called_at: datetime) -> datetime:
    """When everyone who has neither seen nor answered a call made at `called_at` counts as
    not reached: the policy's last step plus the grace time."""
    return called_at + timedelta(seconds=policy.steps[-1].after_secs + NOT_REACHED_GRACE_SECS)


@dataclass(frozen=True)
class Attempt:
    """One try of one step for one person. `failed` is None while the outcome is unknown.

    A `final` failure (no address for the channel, no gateway configured, quiet hours in a
    drill) can never succeed on a retry: the step is over for that person.
    """

    person_id: str
    step: int
    at: datetime
    failed: bool | None = None
    final: bool = False


@dataclass(frozen=True)
class Due:
    """An attempt the escalator should make now."""

    person_id: str
    step: int
    channel: Channel
    retry: int  # 0 for the first try of this step


def due_attempts(
    policy: EscalationPolicy,
    called_at: datetime,
    targets: Iterable[str],
    answered: Mapping[str, str],
    attempts: Iterable[Attempt],
    now: datetime,
) -> list[Due]:
    """Every attempt due at `now`, in step order, for targets that have not answered."""
    by_step: dict[tuple[str, int], list[Attempt]] = {}
    for attempt in attempts:
        by_step.setdefault((attempt.person_id, attempt.step), []).append(attempt)
    due: list[Due] = []
    for person_id in targets:
        if answered.get(person_id) in ANSWERS:
            continue
        for index, step in enumerate(policy.steps):
            if now < called_at + timedelta(seconds=step.after_secs):
                break  # later steps are later still
            tried = sorted(by_step.get((person_id, index), []), key=lambda a: a.at)
            retry = _next_try(tried, now)
            if retry is not None:
                due.append(Due(person_id, index, step.channel, retry))
    return due


def _next_try(tried: list[Attempt], now: datetime) -> int | None:
    """The retry number due now for a step tried as `tried`, or None if nothing is due."""
    if not tried:
        return 0
    last = tried[-1]
    if last.failed is not True or last.final:
        return None  # delivered, still being sent, or can never succeed
    failures = sum(1 for a in tried if a.failed)
    if failures > MAX_RETRIES_PER_STEP:
        return None
    wait = RETRY_BACKOFF_SECS[min(failures, len(RETRY_BACKOFF_SECS)) - 1]
    return len(tried) if now >= last.at + timedelta(seconds=wait) else None
