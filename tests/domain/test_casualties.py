"""The casualty state machine and who may change a casualty (domain/casualties.py)."""

from __future__ import annotations

import pytest

from konenut.domain.casualties import (
    FINAL,
    TRANSITIONS,
    by_urgency,
    check_assignable,
    check_may_change,
    check_transition,
    tag_number,
)
from konenut.domain.errors import Conflict, Forbidden
from konenut.domain.event_types.casualties import CasualtyState as S
from konenut.domain.roles import Role
from konenut.domain.state import IncidentView
from konenut.domain.state.casualties import CasualtyView

ALLOWED = {
    (S.REPORTED, S.TREATING),
    (S.REPORTED, S.HANDED_OVER),
    (S.REPORTED, S.EVACUATED),
    (S.REPORTED, S.DIED),
    (S.ASSIGNED, S.TREATING),
    (S.ASSIGNED, S.HANDED_OVER),
    (S.ASSIGNED, S.EVACUATED),
    (S.ASSIGNED, S.DIED),
    (S.TREATING, S.HANDED_OVER),
    (S.TREATING, S.EVACUATED),
    (S.TREATING, S.DIED),
}


def casualty(state: S = S.REPORTED, medic_id: str | None = None, **more: object) -> CasualtyView:
    fields = {"reported_at": "2026-01-01T00:00:00.000Z", "updated_at": "2026-01-01T00:00:00.000Z"}
    return CasualtyView.model_validate(
        {"casualty_id": "c1", "tag": "C-07", "state": state, "medic_id": medic_id, **fields, **more}
    )


@pytest.mark.parametrize("start", list(S), ids=str)
@pytest.mark.parametrize("to", [S.TREATING, S.HANDED_OVER, S.EVACUATED, S.DIED], ids=str)
def test_each_transition_is_allowed_or_refused_naming_the_state(start: S, to: S) -> None:
    if (start, to) in ALLOWED:
        check_transition(casualty(start), to)
        return
    with pytest.raises(Conflict, match=f"C-07 is {start}; it cannot become {to}"):
        check_transition(casualty(start), to)


def test_the_final_states_go_nowhere() -> None:
    assert {S.HANDED_OVER, S.EVACUATED, S.DIED} == FINAL
    assert all(not TRANSITIONS[s] for s in FINAL)
    for state in FINAL:
        with pytest.raises(Conflict, match=f"is {state}; it cannot be assigned"):
            check_assignable(casualty(state))
    check_assignable(casualty(S.TREATING, "m1"))


@pytest.mark.parametrize(
    ("roles", "medic_id", "allowed"),
    [
        ({Role.COMMANDER}, "m2", True),
        ({Role.OPERATOR}, "m2", True),
        ({Role.MEDIC}, None, True),  # the unassigned
        ({Role.MEDIC}, "m1", True),  # their own
        ({Role.MEDIC}, "m2", False),  # another medic's
        ({Role.RESPONDER}, None, False),
        ({Role.LIAISON}, None, False),
    ],
)
def test_who_may_change_a_casualty(roles: set[Role], medic_id: str | None, allowed: bool) -> None:
    if allowed:
        check_may_change(casualty(S.ASSIGNED, medic_id), roles, "m1")
        return
    with pytest.raises(Forbidden):
        check_may_change(casualty(S.ASSIGNED, medic_id), roles, "m1")


def test_tags_count_on_across_the_sites_incidents() -> None:
    first = IncidentView(incident_id="i1", ref="1", title="t", kind="k", drill=False, opened_at="x")
    assert tag_number([first]) == "C-01"
    first.casualties["c1"] = casualty()
    second = first.model_copy(update={"incident_id": "i2"})
    assert tag_number([first, second]) == "C-03"


def test_the_list_is_open_first_then_category_then_time_waiting() -> None:
    done = casualty(S.DIED, casualty_id="done", category="immediate")
    minor = casualty(casualty_id="minor", category="minor", reported_at="2026-01-01T00:00:01.000Z")
    late = casualty(
        casualty_id="late", category="immediate", reported_at="2026-01-01T00:09:00.000Z"
    )
    early = casualty(casualty_id="early", reported_at="2026-01-01T00:01:00.000Z")
    order = [c.casualty_id for c in by_urgency([done, minor, late, early])]
    assert order == ["early", "late", "minor", "done"]
