"""Rules of casualties: the tag number, the states a casualty moves through, who may move it,
and the order of the medic's list."""

from __future__ import annotations

from collections.abc import Iterable, Set

from konenut.domain.errors import Conflict, Forbidden
from konenut.domain.event_types.casualties import CasualtyState, TriageCategory
from konenut.domain.roles import COMMAND, Role
from konenut.domain.state.casualties import CasualtyView
from konenut.domain.state.incidents import IncidentView

S = CasualtyState
# Where each state may go by a status change; assignment is its own command (`may_assign`).
TRANSITIONS: dict[CasualtyState, frozenset[CasualtyState]] = {
    S.REPORTED: frozenset({S.TREATING, S.HANDED_OVER, S.EVACUATED, S.DIED}),
    S.ASSIGNED: frozenset({S.TREATING, S.HANDED_OVER, S.EVACUATED, S.DIED}),
    S.TREATING: frozenset({S.HANDED_OVER, S.EVACUATED, S.DIED}),
    S.HANDED_OVER: frozenset(),
    S.EVACUATED: frozenset(),
    S.DIED: frozenset(),
}
FINAL: frozenset[CasualtyState] = frozenset(s for s, nexts in TRANSITIONS.items() if not nexts)
# The medic's list: the most urgent category first; not yet triaged counts as immediate until a
# medic has looked (a resident's "serious" may be anything).
CATEGORY_RANK: dict[str | None, int] = {
    TriageCategory.IMMEDIATE: 0,
    None: 0,
    TriageCategory.DELAYED: 1,
    TriageCategory.MINOR: 2,
    TriageCategory.EXPECTANT: 3,
    TriageCategory.DEAD: 4,
}


def tag_number(incidents: Iterable[IncidentView]) -> str:
    """The next tag to write on a triage tag: per site, in order (C-01, C-02, ...)."""
    count = sum(len(incident.casualties) for incident in incidents)
    return f"C-{count + 1:02d}"


def is_open(casualty: CasualtyView) -> bool:
    return CasualtyState(casualty.state) not in FINAL


def check_transition(casualty: CasualtyView, to: CasualtyState) -> None:
    """Refuse a status the casualty's state cannot go to (409, naming the state)."""
    if to not in TRANSITIONS[CasualtyState(casualty.state)]:
        raise Conflict(f"casualty {casualty.tag} is {casualty.state}; it cannot become {to}")


def check_assignable(casualty: CasualtyView) -> None:
    if not is_open(casualty):
        raise Conflict(f"casualty {casualty.tag} is {casualty.state}; it cannot be assigned")


def check_may_change(casualty: CasualtyView, roles: Set[Role], subject_id: str | None) -> None:
    """Those who run the squad change any casualty; a medic only the unassigned and their own."""
    if roles & COMMAND:
        return
    if Role.MEDIC in roles and casualty.medic_id in (None, subject_id):
        return
    raise Forbidden(f"casualty {casualty.tag} is assigned to another medic")


def open_casualty_of(
    incident: IncidentView, *, household_id: str | None = None, person_id: str | None = None
) -> CasualtyView | None:
    """The household's or person's casualty still open in the incident, if there is one."""
    for casualty in list(incident.casualties.values()):
        if not is_open(casualty):
            continue
        if household_id is not None and casualty.household_id == household_id:
            return casualty
        if person_id is not None and casualty.person_id == person_id:
            return casualty
    return None


def by_urgency(casualties: Iterable[CasualtyView]) -> list[CasualtyView]:
    """Open ones first, then by category (most urgent first), then the longest waiting first."""
    return sorted(
        casualties,
        key=lambda c: (not is_open(c), CATEGORY_RANK[c.category], c.reported_at),
    )
