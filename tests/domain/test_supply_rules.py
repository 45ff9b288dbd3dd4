"""The supply request's and the task's state machines, and the rules around them (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from konenut.domain.errors import FieldInvalid, IllegalTransition
from konenut.domain.supplies import (
    SupplyKind,
    SupplyState,
    after_delivery,
    check_calibre,
    is_low,
    item_key,
)
from konenut.domain.supplies import check_transition as supply_step
from konenut.domain.tasks import TaskState, check_deadline, is_overdue
from konenut.domain.tasks import check_transition as task_step

NOW = datetime(2026, 10, 7, 7, 0, tzinfo=UTC)

SUPPLY_ALLOWED = {
    ("open", SupplyState.ASSIGNED),
    ("open", SupplyState.CANCELLED),
    ("assigned", SupplyState.ASSIGNED),  # another runner
    ("assigned", SupplyState.DELIVERED),
    ("assigned", SupplyState.CANCELLED),
}
TASK_ALLOWED = {
    ("open", TaskState.ACCEPTED),
    ("open", TaskState.DONE),
    ("open", TaskState.FAILED),
    ("accepted", TaskState.ACCEPTED),  # another assignee accepts too
    ("accepted", TaskState.DONE),
    ("accepted", TaskState.FAILED),
}


@pytest.mark.parametrize("state", [s.value for s in SupplyState])
@pytest.mark.parametrize("wanted", list(SupplyState))
def test_supply_transitions(state: str, wanted: SupplyState) -> None:
    if (state, wanted) in SUPPLY_ALLOWED:
        supply_step(state, wanted)
        return
    with pytest.raises(IllegalTransition) as refused:
        supply_step(state, wanted)
    assert refused.value.status == 409 and refused.value.state == state
    assert state in refused.value.detail and wanted.value in refused.value.detail


@pytest.mark.parametrize("state", [s.value for s in TaskState])
@pytest.mark.parametrize("wanted", [TaskState.ACCEPTED, TaskState.DONE, TaskState.FAILED])
def test_task_transitions(state: str, wanted: TaskState) -> None:
    if (state, wanted) in TASK_ALLOWED:
        task_step(state, wanted)
        return
    with pytest.raises(IllegalTransition) as refused:
        task_step(state, wanted)
    assert refused.value.state == state and state in refused.value.detail


def test_ammunition_is_counted_by_calibre() -> None:
    assert item_key(SupplyKind.AMMUNITION, "5.56") == "ammunition:5.56"
    assert item_key(SupplyKind.WATER, None) == "water"
    check_calibre(SupplyKind.AMMUNITION, "9mm")
    check_calibre(SupplyKind.BATTERIES, None)
    for kind, calibre in ((SupplyKind.AMMUNITION, None), (SupplyKind.KEYS, "9mm")):
        with pytest.raises(FieldInvalid) as refused:
            check_calibre(kind, calibre)
        assert refused.value.errors[0]["loc"] == "body.calibre"


def test_stock_low_and_never_below_nothing() -> None:
    assert after_delivery(500, 120) == 380
    assert after_delivery(100, 120) == 0
    assert is_low(380, 400) and not is_low(400, 400) and not is_low(0, 0)


def test_deadline_and_overdue() -> None:
    check_deadline(None, NOW)
    check_deadline(NOW + timedelta(seconds=1), NOW)
    with pytest.raises(FieldInvalid) as refused:
        check_deadline(NOW, NOW)
    assert refused.value.errors[0]["loc"] == "body.deadline"
    due = "2026-10-07T07:05:00.000Z"
    assert not is_overdue("open", due, NOW)
    assert is_overdue("open", due, NOW + timedelta(minutes=6))
    assert is_overdue("accepted", due, NOW + timedelta(minutes=6))
    assert not is_overdue("done", due, NOW + timedelta(minutes=6))
    assert not is_overdue("failed", due, NOW + timedelta(minutes=6))
    assert not is_overdue("open", None, NOW + timedelta(days=1))
