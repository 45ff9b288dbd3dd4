"""Who may do what: the permission matrix, and `authorize`, the one function that decides.

The matrix is data, in one module. Every API route's operation id must appear here; a test
enumerates the OpenAPI routes against it. Every access decision (the API's dependencies, the
lean path of the hot routes) is `authorize(actor, operation, target)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from konenut.app.identity import Actor
from konenut.domain.events import Scope
from konenut.domain.roles import Role

ALL, INC, OWN = Scope.ALL, Scope.INCIDENT, Scope.OWN

# Operations that need no token (health, docs, enrolling a device with a one-time code or a pass).
PUBLIC_OPERATIONS: frozenset[str] = frozenset(
    {
        "healthz",
        "readyz",
        "enroll_device",
        "redeem_pass",
        "inspect_pass",
        "redeem_household_card",
        "redeem_guest_poster",
        "redeem_liaison_pass",
        # Reply webhooks carry no token: a secret path per channel (contracts §4).
        "receive_sms_reply",
        "receive_telegram_reply",
    }
)
# All a volunteer who joined by a pass may do until a commander approves them.
PENDING_VOLUNTEER_OPERATIONS: frozenset[str] = frozenset({"get_me", "get_my_volunteer"})


def _m(**scopes: Scope) -> dict[Role, Scope]:
    return {Role(name): scope for name, scope in scopes.items()}


EVERYONE = _m(
    admin=ALL,
    commander=ALL,
    operator=ALL,
    responder=ALL,
    medic=ALL,
    resident=ALL,
    guest=INC,
    volunteer=INC,
    liaison=INC,
)
PICTURE = _m(
    admin=ALL, commander=ALL, operator=ALL, responder=ALL, medic=ALL, volunteer=INC, liaison=INC
)
REGISTRY = _m(admin=ALL, commander=ALL, operator=ALL, responder=ALL, medic=ALL)
SQUAD_ACTS = _m(commander=ALL, operator=ALL, responder=OWN, medic=OWN, volunteer=OWN)
# Commands that can only be about the caller itself (no person in the request).
SELF_ACTS = _m(commander=ALL, operator=ALL, responder=ALL, medic=ALL, volunteer=INC)
COMMAND = _m(commander=ALL, operator=ALL)
ADMIN = _m(admin=ALL)
# Who treats casualties: the medics and those who run the squad.
CASUALTY_CARE = _m(commander=ALL, operator=ALL, medic=ALL)
# The situation report: those who run the squad make it, and the arriving unit's liaison reads
# its incident's; who may be sent one by a channel (api/routes/sitrep.py, app/handlers/sitrep.py).
SITREP_READERS = _m(admin=ALL, commander=ALL, operator=ALL, liaison=INC)
SITREP_RECIPIENTS: frozenset[Role] = frozenset({Role.ADMIN, Role.COMMANDER, Role.OPERATOR})

MATRIX: Mapping[str, Mapping[Role, Scope]] = {
    # identity
    "get_me": EVERYONE,
    # site configuration
    "get_site": EVERYONE,
    "configure_site": ADMIN,
    # Residents and guests get the public part of the plan (api/routes/site.py).
    "get_site_plan": {**PICTURE, Role.RESIDENT: ALL, Role.GUEST: INC},
    # The registry: never volunteers or liaisons (they see the picture); which fields each role
    # gets is the audience of person.* and household.* (domain/event_types/audiences.py).
    "list_people": REGISTRY,
    "add_person": ADMIN,
    "get_person": {**REGISTRY, Role.RESIDENT: OWN},
    "list_households": REGISTRY,
    "add_household": ADMIN,
    "import_households": ADMIN,
    "edit_household": ADMIN,
    "export_households_csv": ADMIN,
    "export_households_xlsx": ADMIN,
    "get_household": {**REGISTRY, Role.RESIDENT: OWN},
    "issue_enrollment_code": _m(admin=ALL, commander=ALL),
    "list_devices": _m(admin=ALL, commander=ALL),
    "revoke_device": _m(admin=ALL, commander=ALL),
    "revoke_person_devices": _m(admin=ALL, commander=ALL),
    "list_site_events": EVERYONE,
    # incidents
    "list_incidents": EVERYONE,
    "open_incident": _m(admin=ALL, commander=ALL, operator=ALL),
    "get_incident": EVERYONE,
    "close_incident": _m(commander=ALL, admin=ALL),
    "list_incident_events": EVERYONE,
    "export_incident_log": _m(admin=ALL, commander=ALL),
    "export_incident_places": _m(admin=ALL, commander=ALL),
    # muster
    "activate_squad": COMMAND,
    "list_muster_templates": PICTURE,
    "call_muster": COMMAND,
    "get_muster": PICTURE,
    "change_responder_status": SQUAD_ACTS,
    "mark_muster_seen": SELF_ACTS,
    "get_escalation_policy": _m(admin=ALL, commander=ALL, operator=ALL),
    "set_escalation_policy": _m(admin=ALL, commander=ALL),
    "list_contact_points": _m(admin=ALL, commander=ALL, responder=OWN, medic=OWN),
    "set_contact_point": _m(admin=ALL, commander=ALL, responder=OWN, medic=OWN),
    # A resident's device subscribes for broadcasts to its household (app/broadcaster.py).
    "get_push_key": {**SELF_ACTS, Role.RESIDENT: ALL, Role.GUEST: INC},
    "subscribe_push": {**SELF_ACTS, Role.RESIDENT: ALL, Role.GUEST: INC},  # the caller's device
    "list_assets": PICTURE,
    "add_asset": _m(admin=ALL, commander=ALL),
    "hand_over_asset": _m(admin=ALL, commander=ALL, operator=ALL),
    "request_asset": COMMAND,
    # standing passes and volunteers
    "issue_volunteer_pass": COMMAND,
    "revoke_pass": _m(admin=ALL, commander=ALL),
    # liaison passes for arriving units (app/liaison.py); the liaison reads its own
    "issue_liaison_pass": _m(admin=ALL, commander=ALL),
    "list_liaison_passes": _m(admin=ALL, commander=ALL),
    "get_my_liaison_pass": _m(liaison=INC),
    "get_my_volunteer": _m(volunteer=INC),
    "list_volunteers": COMMAND,
    "approve_volunteer": COMMAND,
    "decline_volunteer": COMMAND,
    # household cards and guest posters (issue 5)
    "issue_household_card": ADMIN,
    "issue_household_cards": ADMIN,
    "issue_guest_poster": _m(admin=ALL, commander=ALL, operator=ALL),
    "get_my_guest": _m(guest=INC),
    "list_guests": PICTURE,
    "check_in_guest": {**COMMAND, Role.GUEST: OWN},
    "merge_guest": COMMAND,
    "void_poster_guests": COMMAND,
    # the picture
    "report_position": SQUAD_ACTS,
    "list_positions": {r: s for r, s in PICTURE.items() if r is not Role.ADMIN},
    "report_sighting": {
        **SQUAD_ACTS,
        Role.RESPONDER: ALL,
        Role.MEDIC: ALL,
        Role.VOLUNTEER: INC,
        Role.RESIDENT: ALL,
    },
    "list_sightings": {r: s for r, s in PICTURE.items() if r is not Role.ADMIN},
    "update_sighting": COMMAND,
    # Sighting photos: the squad only (a resident never sees what the squad photographs).
    "upload_photo": SELF_ACTS,
    "get_photo": {r: s for r, s in PICTURE.items() if r is not Role.ADMIN},
    # households in an incident
    "list_household_states": PICTURE,
    "check_in_household": {**COMMAND, Role.RESIDENT: OWN, Role.RESPONDER: OWN, Role.MEDIC: OWN},
    # broadcasts and orders
    "send_broadcast": COMMAND,
    "list_broadcasts": EVERYONE,
    "list_broadcast_templates": COMMAND,
    "count_broadcast_audience": COMMAND,
    "mark_broadcast_read": _m(resident=OWN),
    "get_broadcast_status": COMMAND,
    # the accountability board: who runs the response and the medics; never residents or guests
    "get_accountability": _m(commander=ALL, operator=ALL, medic=ALL, liaison=INC),
    "reping_households": COMMAND,
    "set_recheck": COMMAND,
    "send_order": COMMAND,
    # challenge/password: the commander sets it, the squad and the liaison read it; the safe
    # word reaches residents through their incident view (get_incident), never guests
    # (domain/event_types.SAFE_WORD_AUDIENCE: anyone who scans a poster is a guest)
    "set_challenge": _m(commander=ALL),
    "rotate_challenge": _m(commander=ALL),
    "get_challenge": {r: s for r, s in PICTURE.items() if r is not Role.ADMIN},
    "set_safe_word": COMMAND,
    "list_orders": PICTURE,
    "acknowledge_order": SQUAD_ACTS,
    # the hostage / barricade board: never residents or guests, not even the household concerned
    "report_hostages": COMMAND,
    "update_hostages": COMMAND,
    "list_hostages": _m(admin=ALL, commander=ALL, operator=ALL, liaison=INC),
    # supplies (docs/supplies-and-tasks.md): a request is not an order, so the squad may ask;
    # those who run the squad send a runner; the runner says it arrived, the asker may call it
    # off (OWN: the request's runner, its asker), and those who run the squad may do both
    "list_supplies": {r: s for r, s in PICTURE.items() if r is not Role.ADMIN},
    "request_supply": SELF_ACTS,
    "assign_supply_runner": COMMAND,
    "deliver_supply": {**COMMAND, Role.RESPONDER: OWN, Role.MEDIC: OWN},
    "cancel_supply": {**COMMAND, Role.RESPONDER: OWN, Role.MEDIC: OWN},
    "get_inventory": _m(admin=ALL, commander=ALL, operator=ALL),
    "set_inventory": _m(admin=ALL, commander=ALL),
    # tasks: given by those who run the squad, answered by their assignees (OWN: a task given
    # to the caller); an assignee lists only their own (the audience of task.*)
    "list_tasks": PICTURE,
    "create_task": COMMAND,
    "accept_task": {**COMMAND, Role.RESPONDER: OWN, Role.MEDIC: OWN},
    "complete_task": {**COMMAND, Role.RESPONDER: OWN, Role.MEDIC: OWN},
    "fail_task": {**COMMAND, Role.RESPONDER: OWN, Role.MEDIC: OWN},
    # civilians in hiding and caution warnings: the squad, never residents or guests
    "get_occupancy": _m(commander=ALL, operator=ALL, responder=ALL, medic=ALL, liaison=INC),
    "mark_entering": SELF_ACTS,
    "clear_intruder": COMMAND,
    # the SITREP (issue 15): a page, a PDF, its map and its short text; sent by those who run
    # the squad to a person holding a role of SITREP_RECIPIENTS or a channel's fixed target
    "get_sitrep_text": SITREP_READERS,
    "get_sitrep_page": SITREP_READERS,
    "get_sitrep_pdf": SITREP_READERS,
    "get_sitrep_map": SITREP_READERS,
    "send_sitrep": COMMAND,
    # casualties: the squad reports; medics treat the unassigned and their own (domain/
    # casualties.check_may_change); the list shows a household only its own casualty's status
    # (api/routes/casualties.py, as the stream's audience does)
    "report_casualty": _m(commander=ALL, operator=ALL, responder=ALL, medic=ALL),
    "list_casualties": _m(
        commander=ALL, operator=ALL, responder=ALL, medic=ALL, liaison=INC, resident=ALL
    ),
    "triage_casualty": CASUALTY_CARE,
    "treat_casualty": CASUALTY_CARE,
    "assign_casualty": COMMAND,
    "change_casualty_state": CASUALTY_CARE,
    "move_casualty": CASUALTY_CARE,
    # a unit gets the cautions that warned it (the stream's audience rule), commanders all
    "list_cautions": _m(
        commander=ALL, operator=ALL, responder=ALL, medic=ALL, volunteer=INC, liaison=INC
    ),
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


# A target household that is nobody's own (a person of no household, or no such person).
NO_HOUSEHOLD = ""


@dataclass(frozen=True)
class Target:
    """What a call reaches, as far as access goes; None: nothing in particular."""

    incident_id: str | None = None  # incident-bound tokens reach only their own incident
    household_id: str | None = None  # under OWN scope: the caller's own household only
    subject_id: str | None = None  # under OWN scope: the caller itself only


@dataclass(frozen=True)
class Denied:
    """A refusal, and the reason the caller is told."""

    reason: str


def authorize(actor: Actor, operation: str, target: Target) -> Scope | Denied:
    """The scope `actor` may call `operation` with on `target`, or why it may not."""
    if actor.awaiting_approval and operation not in PENDING_VOLUNTEER_OPERATIONS:
        return Denied("waiting for a commander's approval to join this incident")
    scope = allowed_scope(operation, actor.roles)
    if scope is None:
        roles = ", ".join(sorted(actor.roles))
        return Denied(f"the role(s) {roles} may not {operation.replace('_', ' ')}")
    if target.incident_id is not None and actor.incident_id not in (None, target.incident_id):
        return Denied("this device's access is limited to another incident")
    if scope is Scope.OWN:
        return _own(actor, target) or scope
    return scope


def _own(actor: Actor, target: Target) -> Denied | None:
    """Why an OWN grant does not cover `target`, or None when it does."""
    if target.household_id is not None and target.household_id != actor.household_id:
        return Denied("you may act only for your own household")
    if target.subject_id is not None and target.subject_id != actor.subject_id:
        return Denied("you may act only for yourself")
    return None
