"""Escalation on a controllable clock: who is tried on which channel, and when it stops."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from konenut.domain.escalation import (
    DEFAULT_POLICY,
    MAX_RETRIES_PER_STEP,
    Attempt,
    Channel,
    EscalationPolicy,
    Step,
    due_attempts,
)

CALL = datetime(2023, 10, 7, 6, 52, tzinfo=UTC)
POLICY = EscalationPolicy(
    steps=(
        Step(channel=Channel.PUSH, after_secs=0),
        Step(channel=Channel.SMS, after_secs=30),
        Step(channel=Channel.VOICE, after_secs=90),
    )
)


def at(secs: float) -> datetime:
    return CALL + timedelta(seconds=secs)


class Escalator:
    """Runs the pure rule the way the service will: every second, record what it sent."""

    def __init__(self, policy: EscalationPolicy = POLICY, targets: tuple[str, ...] = ("dana",)):
        self.policy = policy
        self.targets = targets
        self.answered: dict[str, str] = {}
        self.attempts: list[Attempt] = []
        self.sent: list[tuple[float, str, Channel]] = []
        self.failing: set[Channel] = set()
        self.next_secs = 0  # the clock only goes forward

    def run_until(self, end_secs: int) -> None:
        """Tick once a second from where the last run stopped up to `end_secs`."""
        start, self.next_secs = self.next_secs, max(self.next_secs, end_secs + 1)
        for secs in range(start, end_secs + 1):
            now = at(secs)
            for due in due_attempts(
                self.policy, CALL, self.targets, self.answered, self.attempts, now
            ):
                failed = due.channel in self.failing
                self.attempts.append(Attempt(due.person_id, due.step, now, failed))
                self.sent.append((secs, due.person_id, due.channel))


def test_no_answer_escalates_push_then_sms_at_30_then_a_call_at_90() -> None:
    run = Escalator()
    run.run_until(200)
    assert run.sent == [
        (0, "dana", Channel.PUSH),
        (30, "dana", Channel.SMS),
        (90, "dana", Channel.VOICE),
    ]


def test_an_answer_at_40_s_stops_everything_after() -> None:
    run = Escalator()
    run.run_until(39)
    run.answered["dana"] = "coming"
    run.run_until(300)
    assert [channel for _, _, channel in run.sent] == [Channel.PUSH, Channel.SMS]


def test_a_failing_channel_is_retried_with_backoff_and_does_not_hold_back_the_next_step() -> None:
    run = Escalator()
    run.failing.add(Channel.SMS)
    run.run_until(400)
    sms = [secs for secs, _, channel in run.sent if channel is Channel.SMS]
    assert sms == [30, 40, 70, 160]  # first try, then after 10, 30 and 90 s
    assert len(sms) == MAX_RETRIES_PER_STEP + 1
    assert (90, "dana", Channel.VOICE) in run.sent


def test_each_person_escalates_on_their_own() -> None:
    run = Escalator(targets=("dana", "omer"))
    run.run_until(35)
    run.answered["omer"] = "cannot"
    run.run_until(120)
    assert [(s, c) for s, p, c in run.sent if p == "omer"] == [(0, Channel.PUSH), (30, Channel.SMS)]
    assert (90, "dana", Channel.VOICE) in run.sent


def test_seen_is_not_an_answer() -> None:
    run = Escalator()
    run.answered["dana"] = "seen"
    run.run_until(31)
    assert [c for _, _, c in run.sent] == [Channel.PUSH, Channel.SMS]


def test_the_default_policy_ends_by_telling_the_deputy() -> None:
    assert DEFAULT_POLICY.steps[-1].channel is Channel.DEPUTY
    run = Escalator(policy=DEFAULT_POLICY)
    run.run_until(130)
    assert [c for _, _, c in run.sent] == [
        Channel.PUSH,
        Channel.SMS,
        Channel.TELEGRAM,
        Channel.VOICE,
        Channel.DEPUTY,
    ]


def test_a_policy_going_back_in_time_is_refused() -> None:
    with pytest.raises(ValueError, match="time order"):
        EscalationPolicy(
            steps=(
                Step(channel=Channel.SMS, after_secs=30),
                Step(channel=Channel.PUSH, after_secs=0),
            )
        )


@given(
    offsets=st.lists(st.integers(min_value=0, max_value=600), min_size=1, max_size=6),
    answer_at=st.integers(min_value=0, max_value=900),
)
def test_nothing_is_ever_sent_after_the_answer_and_no_step_twice_unless_it_failed(
    offsets: list[int], answer_at: int
) -> None:
    policy = EscalationPolicy(
        steps=tuple(Step(channel=Channel.SMS, after_secs=s) for s in sorted(offsets))
    )
    run = Escalator(policy=policy)
    run.run_until(answer_at - 1)
    run.answered["dana"] = "coming"
    before = len(run.sent)
    run.run_until(1000)
    assert len(run.sent) == before
    steps = [a.step for a in run.attempts]
    assert len(steps) == len(set(steps))  # nothing failed, so each step went exactly once
    assert all(a.at >= at(policy.steps[a.step].after_secs) for a in run.attempts)


def test_a_final_failure_is_not_retried_and_the_next_step_still_runs() -> None:
    attempts = [Attempt("dana", 0, at(0), failed=True, final=True)]
    due = due_attempts(POLICY, CALL, ["dana"], {}, attempts, at(500))
    assert [(d.step, d.channel, d.retry) for d in due] == [
        (1, Channel.SMS, 0),
        (2, Channel.VOICE, 0),
    ]


def test_an_attempt_without_outcome_holds_its_step_only() -> None:
    attempts = [Attempt("dana", 0, at(0), failed=None)]
    due = due_attempts(POLICY, CALL, ["dana"], {}, attempts, at(31))
    assert [(d.step, d.channel) for d in due] == [(1, Channel.SMS)]
