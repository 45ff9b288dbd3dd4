"""Roles a token can carry, and the groups of roles the rules speak of."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    COMMANDER = "commander"
    OPERATOR = "operator"
    RESPONDER = "responder"
    MEDIC = "medic"
    RESIDENT = "resident"
    GUEST = "guest"
    VOLUNTEER = "volunteer"
    LIAISON = "liaison"


# Most capable first: the app opens the first view a token's roles allow.
ROLE_PRECEDENCE: tuple[Role, ...] = (
    Role.COMMANDER,
    Role.OPERATOR,
    Role.ADMIN,
    Role.MEDIC,
    Role.RESPONDER,
    Role.VOLUNTEER,
    Role.LIAISON,
    Role.RESIDENT,
    Role.GUEST,
)

ALL_ROLES: frozenset[Role] = frozenset(Role)
# People who may see where the defenders are.
SQUAD: frozenset[Role] = frozenset(
    {Role.COMMANDER, Role.OPERATOR, Role.RESPONDER, Role.MEDIC, Role.VOLUNTEER}
)
COMMAND: frozenset[Role] = frozenset({Role.COMMANDER, Role.OPERATOR})
# Roles that see the whole picture (the liaison read-only, for one incident).
PICTURE: frozenset[Role] = SQUAD | {Role.LIAISON}


class SubjectKind(StrEnum):
    PERSON = "person"
    HOUSEHOLD = "household"
    GUEST = "guest"
    VOLUNTEER = "volunteer"
    LIAISON = "liaison"


def primary_role(roles: frozenset[Role]) -> Role:
    """The most capable of a token's roles."""
    for role in ROLE_PRECEDENCE:
        if role in roles:
            return role
    raise ValueError("a token needs at least one role")
