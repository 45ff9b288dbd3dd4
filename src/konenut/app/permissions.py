"""The permission matrix: which role may call which operation, over what scope.

This is data, in one module. Every API route's operation id must appear here; a test
enumerates the OpenAPI routes against it.
"""

from __future__ import annotations

from collections.abc import Mapping

from konenut.domain.events import Scope
from konenut.domain.roles import Role

A, I, O = Scope.ALL, Scope.INCIDENT, Scope.OWN

# Operations that need no token (health, docs, enrolling a device with a one-time code).
PUBLIC_OPERATIONS: frozenset[str] = frozenset({"healthz", "readyz", "enroll_device"})


def _m(**scopes: Scope) -> dict[Role, Scope]:
    return {Role(name): scope for name, scope in scopes.items()}


EVERYONE = _m(
    admin=A, commander=A, operator=A, responder=A, medic=A,
    resident=A, guest=I, volunteer=I, liaison=I,
)
PICTURE = _m(admin=A, commander=A, operator=A, responder=A, medic=A, volunteer=I, liaison=I)
SQUAD_ACTS = _m(commander=A, operator=A, responder=O, medic=O, volunteer=O)
COMMAND = _m(commander=A, operator=A)
ADMIN = _m(admin=A)

MATRIX: Mapping[str, Mapping[Role, Scope]] = {
    # identity
    "get_me": EVERYONE,
    # site configuration
    "get_site": EVERYONE,
    "configure_site": ADMIN,
    "get_site_plan": PICTURE,
    "list_people": PICTURE,
    "add_person": ADMIN,
    "get_person": {**PICTURE, Role.RESIDENT: O},
    "list_households": PICTURE,
    "add_household": ADMIN,
    "get_household": {**PICTURE, Role.RESIDENT: O},
    "issue_enrollment_code": _m(admin=A, commander=A),
    "list_devices": _m(admin=A, commander=A),
    "revoke_device": _m(admin=A, commander=A),
    "list_site_events": EVERYONE,
    # incidents
    "list_incidents": EVERYONE,
    "open_incident": _m(admin=A, commander=A, operator=A),
    "get_incident": EVERYONE,
    "close_incident": _m(commander=A, admin=A),
    "list_incident_events": EVERYONE,
    "export_incident_log": _m(admin=A, commander=A),
    # muster
    "call_muster": COMMAND,
    "get_muster": PICTURE,
    "change_responder_status": SQUAD_ACTS,
    # the picture
    "report_position": SQUAD_ACTS,
    "list_positions": {r: s for r, s in PICTURE.items() if r is not Role.ADMIN},
    "report_sighting": {**SQUAD_ACTS, Role.RESPONDER: A, Role.MEDIC: A, Role.VOLUNTEER: I,
                        Role.RESIDENT: A},
    "list_sightings": {r: s for r, s in PICTURE.items() if r is not Role.ADMIN},
    "update_sighting": COMMAND,
    # households in an incident
    "list_household_states": PICTURE,
    "check_in_household": {**COMMAND, Role.RESIDENT: O, Role.RESPONDER: O, Role.MEDIC: O},
    # broadcasts and orders
    "send_broadcast": COMMAND,
    "list_broadcasts": EVERYONE,
    "send_order": COMMAND,
    "list_orders": PICTURE,
    "acknowledge_order": SQUAD_ACTS,
}


def allowed_scope(operation: str, roles: frozenset[Role]) -> Scope | None:
    """The widest scope any of the roles has for the operation, or None if none may."""
    by_role = MATRIX.get(operation)
    if by_role is None:
        raise KeyError(f"operation {operation!r} is not in the permission matrix")
    scopes = {by_role[r] for r in roles if r in by_role}
    for scope in (Scope.ALL, Scope.INCIDENT, Scope.OWN):
        if scope in scopes:
            return scope
    return None
