"""Who sees what: the audiences event types declare (contracts §4, need-to-know per field)."""

from __future__ import annotations

from konenut.domain.events import Scope, Visibility
from konenut.domain.roles import Role

ALL_SEE = Visibility(Scope.ALL)
INCIDENT_SEES = Visibility(Scope.INCIDENT)
OWN_SEES = Visibility(Scope.OWN)
PUBLIC = Visibility(Scope.ALL, envelope=False)
PUBLIC_IN_INCIDENT = Visibility(Scope.INCIDENT, envelope=False)
# Residents and guests see a broadcast meant for them, not whom else it was for, nor who sent it.
TARGETED_AT_HOUSEHOLD = Visibility(
    Scope.TARGETED, hide=frozenset({"household_ids", "area", "group"}), envelope=False
)


def _aud(**by_role: Visibility) -> dict[Role, Visibility]:
    return {Role(name): seen for name, seen in by_role.items()}


# Who sees the squad picture: the squad everywhere, volunteers and liaisons in their incident.
PICTURE_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=ALL_SEE,
    medic=ALL_SEE,
    volunteer=INCIDENT_SEES,
    liaison=INCIDENT_SEES,
)
# Hostages held: those who run the squad and the liaison to the army or police; never residents
# or guests, not even the household concerned (attackers may hold its phones).
HOSTAGE_AUDIENCE = _aud(admin=ALL_SEE, commander=ALL_SEE, operator=ALL_SEE, liaison=INCIDENT_SEES)
# Positions: never admins in peacetime views, never residents or guests.
POSITION_AUDIENCE: dict[Role, Visibility] = {
    r: v for r, v in PICTURE_AUDIENCE.items() if r is not Role.ADMIN
}
ADMIN_ONLY = _aud(admin=ALL_SEE)
# Passes are handed out by admins and commanders; only they see them issued or revoked.
PASS_AUDIENCE = _aud(admin=ALL_SEE, commander=ALL_SEE)
# Who joined: those who run the squad see everything; the squad needs to know who the armed
# stranger is, not their phone number; the volunteer sees its own.
_NO_PHONE = frozenset({"phone"})
VOLUNTEER_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=Visibility(Scope.ALL, hide=_NO_PHONE),
    medic=Visibility(Scope.ALL, hide=_NO_PHONE),
    volunteer=OWN_SEES,
    liaison=Visibility(Scope.INCIDENT, hide=_NO_PHONE),
)
VOLUNTEER_DECIDED_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=ALL_SEE,
    medic=ALL_SEE,
    volunteer=OWN_SEES,
    liaison=INCIDENT_SEES,
)
# Guests by a poster: the squad sees occupied buildings, not the guest's phone; the guest
# sees its own.
GUEST_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=Visibility(Scope.ALL, hide=_NO_PHONE),
    medic=Visibility(Scope.ALL, hide=_NO_PHONE),
    volunteer=Visibility(Scope.INCIDENT, hide=_NO_PHONE),
    liaison=Visibility(Scope.INCIDENT, hide=_NO_PHONE),
    guest=OWN_SEES,
)
GUEST_MERGED_AUDIENCE: dict[Role, Visibility] = {**PICTURE_AUDIENCE, Role.GUEST: OWN_SEES}
# Who runs the squad: they see notification attempts and the escalation policy.
COMMAND_AUDIENCE = _aud(admin=ALL_SEE, commander=ALL_SEE, operator=ALL_SEE)
CONTACT_AUDIENCE = _aud(
    admin=ALL_SEE, commander=ALL_SEE, responder=OWN_SEES, medic=OWN_SEES, volunteer=OWN_SEES
)
# The registry, field by field (contracts §4, need-to-know): those who run the squad see all of
# it; responders and medics see who lives where and how many (a rescue's picture), never phone
# numbers or a person's special needs (a phone book and medical notes on every squad phone);
# a household sees its own; volunteers and liaisons never see the registry, only the picture.
REGISTRY_PRIVATE_FIELDS = frozenset({"phone", "special_needs"})
_RESCUE_VIEW = Visibility(Scope.ALL, hide=REGISTRY_PRIVATE_FIELDS)
PERSON_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=_RESCUE_VIEW,
    medic=_RESCUE_VIEW,
    resident=OWN_SEES,
)
HOUSEHOLD_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=ALL_SEE,
    medic=ALL_SEE,
    resident=OWN_SEES,
)
PUBLIC_AUDIENCE: dict[Role, Visibility] = {
    **PICTURE_AUDIENCE,
    Role.RESIDENT: PUBLIC,
    Role.GUEST: PUBLIC_IN_INCIDENT,
}
# The safe word (what the squad says at a door): the squad and the households, never a guest.
# Anyone who scans a poster on a wall is a guest, an attacker too (docs/contracts.md §4).
SAFE_WORD_AUDIENCE: dict[Role, Visibility] = {**PICTURE_AUDIENCE, Role.RESIDENT: PUBLIC}
# The challenge and password: the squad, and the arriving unit; never admins in peacetime
# views, never residents or guests (a captured phone at a door must not answer it).
CHALLENGE_AUDIENCE = POSITION_AUDIENCE
# An order reaches the people it was for (everyone when it names nobody); those who run the
# squad and the liaison see every order.
# A caution reaches the units it warns (all of them when it names nobody) and those who run
# the squad; never residents or guests (contracts §5), never the admin desk.
CAUTION_AUDIENCE: dict[Role, Visibility] = {
    **POSITION_AUDIENCE,
    Role.RESPONDER: Visibility(Scope.TARGETED),
    Role.MEDIC: Visibility(Scope.TARGETED),
    Role.VOLUNTEER: Visibility(Scope.TARGETED),
}
ORDER_AUDIENCE: dict[Role, Visibility] = {
    **PICTURE_AUDIENCE,
    Role.RESPONDER: Visibility(Scope.TARGETED),
    Role.MEDIC: Visibility(Scope.TARGETED),
    Role.VOLUNTEER: Visibility(Scope.TARGETED),
}
