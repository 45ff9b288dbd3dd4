"""`authorize(actor, operation, target)`, the one access decision, against the permission matrix.

Every operation × every role × every kind of target: the expected answer is read from the
matrix (`MATRIX`, `PENDING_VOLUNTEER_OPERATIONS`) by the rules contracts §4 states, never
written out by hand, so a new row or a changed cell is tested as it lands.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from konenut.app.identity import Actor
from konenut.app.permissions import (
    MATRIX,
    NO_HOUSEHOLD,
    PENDING_VOLUNTEER_OPERATIONS,
    Denied,
    Target,
    authorize,
)
from konenut.app.volunteers import PendingVolunteer
from konenut.domain.events import Scope
from konenut.domain.roles import Role, SubjectKind

SITE, INCIDENT, OTHER_INCIDENT = "site-1", "incident-1", "incident-2"
HOUSEHOLD, OTHER_HOUSEHOLD, OTHER_PERSON = "household-1", "household-2", "person-9"
BOUND_ROLES = frozenset({Role.GUEST, Role.VOLUNTEER, Role.LIAISON})  # one incident per token
WIDEST_FIRST = (Scope.ALL, Scope.INCIDENT, Scope.OWN)


def actor(*roles: Role, pending: bool = False) -> Actor:
    """A device of these roles as enrollment makes it: a resident's is its household's, a
    guest's, volunteer's or liaison's is bound to the incident it came in."""
    kind = SubjectKind.HOUSEHOLD if Role.RESIDENT in roles else SubjectKind.PERSON
    bound = INCIDENT if BOUND_ROLES & set(roles) else None
    make = PendingVolunteer if pending else Actor
    return make(
        site_id=SITE,
        token_id=f"token-{'-'.join(sorted(roles))}",
        subject_id=HOUSEHOLD if kind is SubjectKind.HOUSEHOLD else f"person-{roles[0]}",
        subject_kind=kind,
        roles=frozenset(roles),
        household_id=HOUSEHOLD if Role.RESIDENT in roles else None,
        incident_id=bound,
    )


@dataclass(frozen=True)
class Aim:
    """A kind of target, and whether it stays within the caller's own incident, household
    and self (None: the target does not say)."""

    target: Target
    own_incident: bool = True
    own_subject: bool = True


def aims(caller: Actor) -> dict[str, Aim]:
    return {
        "nothing in particular": Aim(Target()),
        "its incident": Aim(Target(incident_id=INCIDENT)),
        "another incident": Aim(Target(incident_id=OTHER_INCIDENT), own_incident=False),
        "its household": Aim(
            Target(household_id=caller.household_id or NO_HOUSEHOLD),
            own_subject=caller.household_id is not None,
        ),
        "another household": Aim(Target(household_id=OTHER_HOUSEHOLD), own_subject=False),
        "itself": Aim(Target(subject_id=caller.subject_id)),
        "someone else": Aim(Target(subject_id=OTHER_PERSON), own_subject=False),
    }


def expected(caller: Actor, operation: str, aim: Aim) -> Scope | None:
    """What the matrix grants (None: refused): the widest scope of the caller's roles; an
    incident-bound token stays in its incident; OWN covers only the caller's own."""
    if caller.awaiting_approval and operation not in PENDING_VOLUNTEER_OPERATIONS:
        return None
    granted = {MATRIX[operation][r] for r in caller.roles if r in MATRIX[operation]}
    scope = next((s for s in WIDEST_FIRST if s in granted), None)
    if scope is None or (caller.incident_id is not None and not aim.own_incident):
        return None
    if scope is Scope.OWN and not aim.own_subject:
        return None
    return scope


CALLERS = [actor(role) for role in Role] + [
    actor(Role.VOLUNTEER, pending=True),
    actor(Role.RESIDENT, Role.RESPONDER),  # a responder who lives in a household (contracts §4)
    actor(Role.RESIDENT, Role.MEDIC),
]


@pytest.mark.parametrize("operation", sorted(MATRIX))
def test_every_caller_on_every_target_gets_what_the_matrix_grants(operation: str) -> None:
    for caller in CALLERS:
        for name, aim in aims(caller).items():
            decided = authorize(caller, operation, aim.target)
            want = expected(caller, operation, aim)
            case = (operation, sorted(caller.roles), caller.awaiting_approval, name)
            if want is None:
                assert isinstance(decided, Denied), case
            else:
                assert decided is want, (case, decided)


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_a_refusal_says_why(role: Role) -> None:
    caller = actor(role)
    refused = [op for op in sorted(MATRIX) if role not in MATRIX[op]]
    for operation in refused:
        decided = authorize(caller, operation, Target())
        assert isinstance(decided, Denied)
        assert role.value in decided.reason and operation.replace("_", " ") in decided.reason
    own = [op for op in sorted(MATRIX) if MATRIX[op].get(role) is Scope.OWN]
    for operation in own:
        other = authorize(caller, operation, Target(household_id=OTHER_HOUSEHOLD))
        assert isinstance(other, Denied) and "your own household" in other.reason
        someone = authorize(caller, operation, Target(subject_id=OTHER_PERSON))
        assert isinstance(someone, Denied) and "yourself" in someone.reason


def test_a_pending_volunteer_is_told_to_wait_and_an_approved_one_is_not() -> None:
    waiting, approved = actor(Role.VOLUNTEER, pending=True), actor(Role.VOLUNTEER)
    decided = authorize(waiting, "report_sighting", Target(incident_id=INCIDENT))
    assert isinstance(decided, Denied) and "approval" in decided.reason
    allowed = authorize(approved, "report_sighting", Target(incident_id=INCIDENT))
    assert allowed is MATRIX["report_sighting"][Role.VOLUNTEER]
    for operation in PENDING_VOLUNTEER_OPERATIONS:
        assert authorize(waiting, operation, Target()) is MATRIX[operation][Role.VOLUNTEER]


def test_a_bound_token_is_told_its_incident_is_another() -> None:
    liaison = actor(Role.LIAISON)
    decided = authorize(liaison, "get_incident", Target(incident_id=OTHER_INCIDENT))
    assert isinstance(decided, Denied) and "another incident" in decided.reason
