"""Rules of tasks: their states, who may move them, and when one is overdue."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from konenut.domain.errors import FieldInvalid, IllegalTransition
from konenut.domain.ids import parse_time


class TaskState(StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"
    DONE = "done"
    FAILED = "failed"


# An assignee may tap "done" without "accept" first (one tap when it took a minute); a task for
# several people stays accepted while the others accept too; done and failed are final.
TRANSITIONS: dict[TaskState, frozenset[TaskState]] = {
    TaskState.OPEN: frozenset({TaskState.ACCEPTED, TaskState.DONE, TaskState.FAILED}),
    TaskState.ACCEPTED: frozenset({TaskState.ACCEPTED, TaskState.DONE, TaskState.FAILED}),
    TaskState.DONE: frozenset(),
    TaskState.FAILED: frozenset(),
}
LIVE = frozenset({TaskState.OPEN, TaskState.ACCEPTED})


def check_transition(state: str, wanted: TaskState) -> None:
    """Refuse a change the state machine does not allow (409 naming the state)."""
    if wanted not in TRANSITIONS[TaskState(state)]:
        raise IllegalTransition("this task", state, wanted.value)


def check_deadline(deadline: datetime | None, now: datetime) -> None:
    """A new task's deadline is still ahead (a deadline already past is a typing slip)."""
    if deadline is not None and deadline <= now:
        raise FieldInvalid("body.deadline", "the deadline has already passed")


def is_overdue(state: str, deadline: str | None, now: datetime) -> bool:
    """A task still to do whose deadline has passed, by the store's clock."""
    return deadline is not None and TaskState(state) in LIVE and parse_time(deadline) < now
