"""Every API route × every role against the permission matrix (contracts §4).

The routes come from the app's own OpenAPI document, so a new route that is missing from
`konenut.app.permissions.MATRIX` (or from this file's request table) fails here by name.
For each route and role the test sends a real, valid request with that role's device token:
a role outside the matrix row gets 403 problem+json and leaves an `audit.access_denied` event
(and nothing else) in the log; a role inside the row gets its answer (2xx).
"""

from __future__ import annotations

import string
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from io import BytesIO
from typing import Any

import pytest
from PIL import Image

from helpers import SITE
from konenut.api.permissions_doc import app_operations
from konenut.app import cards, guests, hostages, liaison, passes, volunteers
from konenut.app import commands as c
from konenut.app.handlers import casualties
from konenut.app.identity import new_token
from konenut.app.muster import set_contact_point
from konenut.app.permissions import MATRIX, PUBLIC_OPERATIONS
from konenut.app.replies import InboundChannel
from konenut.domain.events import Scope
from konenut.domain.ids import format_time, utcnow
from konenut.domain.roles import Role
from konenut.notify.hooks import hook_secret

from .conftest import HERE, Site, assert_problem

# operationId -> (METHOD, path template), from the app's own OpenAPI document.
OPERATIONS = app_operations()
PROTECTED = sorted(op for op in OPERATIONS if op not in PUBLIC_OPERATIONS)


@dataclass(frozen=True)
class Request:
    params: dict[str, str]
    body: dict[str, Any] | None = None
    content: bytes | None = None  # a file sent as the body instead of JSON
    media_type: str = ""


def _inc(site: Site, body: dict[str, Any] | None = None, **more: str) -> Request:
    return Request({"incident_id": site.incident_id, **more}, body)


_BROADCASTS: dict[int, str] = {}  # id(site) -> a broadcast to all its households


def _broadcast(site: Site) -> str:
    """A broadcast to every household of the shared site (sent once, on first use)."""
    if id(site) not in _BROADCASTS:
        sent = site.post(
            f"/api/v1/incidents/{site.incident_id}/broadcasts",
            Role.COMMANDER,
            json={"template": "stay_in_shelter"},
        )
        assert sent.status_code == 201, sent.text
        _BROADCASTS[id(site)] = sent.json()["broadcast_id"]
    return _BROADCASTS[id(site)]


def _photo_bytes() -> bytes:
    out = BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, "JPEG")
    return out.getvalue()


def _photo(site: Site) -> str:
    """A photo uploaded to the shared site (once)."""
    uploaded = site.client.post(
        f"/api/v1/incidents/{site.incident_id}/photos",
        content=_photo_bytes(),
        headers={**site.headers(Role.COMMANDER), "Content-Type": "image/jpeg"},
    )
    assert uploaded.status_code == 201, uploaded.text
    return str(uploaded.json()["photo_id"])


def _own_household(site: Site, role: Role) -> str:
    return site.household_of(role) or site.seeded.household_id


def _unique_ref() -> str:
    return uuid.uuid4().hex[:12]


def _sheet() -> Request:
    """A one-row household registry sheet for a new household."""
    row = f"{_unique_ref()},Peretz,,in_home,{_unique_ref()},Dana Peretz"
    data = f"household_ref,household_name,building_ref,safe_room,person_ref,name\n{row}\n"
    return Request({}, content=data.encode(), media_type="text/csv")


_EDITED: dict[int, str] = {}  # id(site) -> a household of its own for the editor to change


def _household_edit(site: Site) -> Request:
    """The household editor's save of a household added for it (with one new member)."""
    if id(site) not in _EDITED:
        added = site.post(
            "/api/v1/site/households", Role.ADMIN, json={"ref": _unique_ref(), "name": "Edit"}
        )
        assert added.status_code == 201, added.text
        _EDITED[id(site)] = added.json()["household_id"]
    body = {
        "name": f"Edit {_unique_ref()}",
        "safe_room": "in_home",
        "languages": ["he"],
        "members": [{"name": "Dana", "phone": "050-1234567"}],
    }
    return Request({"household_id": _EDITED[id(site)]}, body)


# A minimal valid request for every operation, given the seeded site and the calling role.
# Each builds what it acts on first (a drill to close, a device to revoke, a code to redeem).
REQUESTS: dict[str, Callable[[Site, Role], Request]] = {
    "healthz": lambda site, role: Request({}),
    "readyz": lambda site, role: Request({}),
    "enroll_device": lambda site, role: Request({}, {"code": site.fresh_code()}),
    "get_me": lambda site, role: Request({}),
    "get_site": lambda site, role: Request({}),
    "configure_site": lambda site, role: Request({}, {"name": "Tel Kinamon"}),
    "get_site_plan": lambda site, role: Request({}),
    "list_people": lambda site, role: Request({}),
    "add_person": lambda site, role: Request({}, {"ref": _unique_ref(), "name": "Dana Mizrahi"}),
    "get_person": lambda site, role: Request({"person_id": site.member_id}),
    "list_households": lambda site, role: Request({}),
    "add_household": lambda site, role: Request({}, {"ref": _unique_ref(), "name": "Peretz"}),
    "import_households": lambda site, role: _sheet(),
    "edit_household": lambda site, role: _household_edit(site),
    "export_households_csv": lambda site, role: Request({}),
    "export_households_xlsx": lambda site, role: Request({}),
    "get_household": lambda site, role: Request({"household_id": _own_household(site, role)}),
    "issue_enrollment_code": lambda site, role: Request(
        {}, {"subject_kind": "guest", "incident_id": site.incident_id}
    ),
    "list_devices": lambda site, role: Request({}),
    "revoke_device": lambda site, role: Request(
        {"token_id": site.token_id_of(site.spare_token())}, {"reason": "phone lost"}
    ),
    "revoke_person_devices": lambda site, role: Request(
        {"person_id": site.member_id}, {"reason": "phone captured"}
    ),
    "list_site_events": lambda site, role: Request({}),
    "list_incidents": lambda site, role: Request({}),
    "open_incident": lambda site, role: Request({}, {"title": "Gate drill", "drill": True}),
    "get_incident": lambda site, role: _inc(site),
    "close_incident": lambda site, role: Request(
        {"incident_id": site.fresh_drill()}, {"summary": "drill over"}
    ),
    "list_incident_events": lambda site, role: _inc(site),
    "export_incident_log": lambda site, role: _inc(site),
    "export_incident_places": lambda site, role: _inc(site, fmt="csv"),
    "call_muster": lambda site, role: _inc(site, {"rally_point_ref": "R1"}),
    "get_muster": lambda site, role: _inc(site),
    "change_responder_status": lambda site, role: _inc(site, {"status": "coming"}),
    "report_position": lambda site, role: _inc(site, {"location": HERE}),
    "list_positions": lambda site, role: _inc(site),
    "report_sighting": lambda site, role: _inc(site, {"location": HERE, "category": "hostile"}),
    "list_sightings": lambda site, role: _inc(site),
    "upload_photo": lambda site, role: Request(
        {"incident_id": site.incident_id}, content=_photo_bytes(), media_type="image/jpeg"
    ),
    "get_photo": lambda site, role: Request({"photo_id": _photo(site)}),
    "update_sighting": lambda site, role: _inc(
        site, {"status": "confirmed"}, sighting_id=site.sighting_id
    ),
    "list_household_states": lambda site, role: _inc(site),
    "check_in_household": lambda site, role: _inc(
        site, {"status": "safe", "people_count": 3}, household_id=_own_household(site, role)
    ),
    "send_broadcast": lambda site, role: _inc(site, {"texts": {"en": "Stay in your safe room"}}),
    "list_broadcasts": lambda site, role: _inc(site),
    "list_broadcast_templates": lambda site, role: Request({}),
    "count_broadcast_audience": lambda site, role: Request({}, {"group": "no_safe_room"}),
    "mark_broadcast_read": lambda site, role: _inc(site, {}, broadcast_id=_broadcast(site)),
    "get_broadcast_status": lambda site, role: _inc(site, broadcast_id=_broadcast(site)),
    "send_order": lambda site, role: _inc(site, {"text": "Hold gate 3"}),
    "set_challenge": lambda site, role: _inc(site, {"generate": True}),
    "rotate_challenge": lambda site, role: _inc(site, {}),
    "get_challenge": lambda site, role: _inc(site),
    "set_safe_word": lambda site, role: _inc(site, {"word": "lemon"}),
    "get_accountability": lambda site, role: _inc(site),
    "reping_households": lambda site, role: _inc(site),
    "set_recheck": lambda site, role: _inc(site, {"every_mins": 30}),
    "list_orders": lambda site, role: _inc(site),
    "acknowledge_order": lambda site, role: _inc(site, {}, order_id=site.order_id),
    "report_hostages": lambda site, role: _inc(site, {"building_ref": "12", "people_inside": 2}),
    "update_hostages": lambda site, role: _inc(
        site, {"text": "phone contact"}, situation_id=_hostage_situation(site)
    ),
    "list_hostages": lambda site, role: _inc(site),
    "list_supplies": lambda site, role: _inc(site),
    "request_supply": lambda site, role: _inc(
        site, {"kind": "water", "quantity": 6, "location": HERE}
    ),
    "assign_supply_runner": lambda site, role: _inc(
        site,
        {"runner_person_id": site.seeded.subjects[Role.COMMANDER]},
        supply_id=_supply(site, Role.COMMANDER),
    ),
    "deliver_supply": lambda site, role: _inc(
        site, {}, supply_id=_supply(site, Role.COMMANDER, runner=_own_person(site, role))
    ),
    "cancel_supply": lambda site, role: _inc(site, {}, supply_id=_supply(site, _asker(role))),
    "get_inventory": lambda site, role: Request({}),
    "set_inventory": lambda site, role: Request({}, {"kind": "water", "quantity": 40}),
    "list_tasks": lambda site, role: _inc(site),
    "create_task": lambda site, role: _inc(
        site, {"title": "Open gate 3", "assignee_ids": [site.seeded.subjects[Role.COMMANDER]]}
    ),
    **{
        op: lambda site, role: _inc(site, {}, task_id=_task(site, _own_person(site, role)))
        for op in ("accept_task", "complete_task", "fail_task")
    },
    "report_casualty": lambda site, role: _inc(site, {"location": HERE, "count": 2}),
    "list_casualties": lambda site, role: _inc(site),
    "triage_casualty": lambda site, role: _on_casualty(site, {"category": "delayed"}),
    "treat_casualty": lambda site, role: _on_casualty(
        site, {"treatment": "tourniquet", "applied_at": format_time(utcnow())}
    ),
    "assign_casualty": lambda site, role: _on_casualty(
        site, {"medic_id": site.seeded.subjects[Role.MEDIC]}
    ),
    "change_casualty_state": lambda site, role: _on_casualty(site, {"state": "treating"}),
    "move_casualty": lambda site, role: _on_casualty(site, {"collection_point_ref": "C1"}),
    "get_occupancy": lambda site, role: _inc(site),
    "mark_entering": lambda site, role: _inc(site, {"building_ref": "14"}),
    "list_cautions": lambda site, role: _inc(site),
    "get_sitrep_text": lambda site, role: _inc(site),
    "get_sitrep_page": lambda site, role: _inc(site),
    "get_sitrep_pdf": lambda site, role: _inc(site),
    "get_sitrep_map": lambda site, role: _inc(site),
    "send_sitrep": lambda site, role: _inc(site, {"channel": "sms"}),
    "clear_intruder": lambda site, role: _inc(site, {"building_ref": "14"}),
    "activate_squad": lambda site, role: Request(
        {}, {"incident_id": site.incident_id, "template": "fire"}
    ),
    "list_muster_templates": lambda site, role: Request({}),
    "mark_muster_seen": lambda site, role: _inc(site, {}),
    "get_escalation_policy": lambda site, role: Request({}),
    "set_escalation_policy": lambda site, role: Request(
        {}, {"steps": [{"channel": "push", "after_secs": 0}, {"channel": "sms", "after_secs": 20}]}
    ),
    "list_contact_points": lambda site, role: Request({"person_id": _own_person(site, role)}),
    "set_contact_point": lambda site, role: Request(
        {"person_id": _own_person(site, role), "channel": "telegram"}, {"address": "123456789"}
    ),
    "get_push_key": lambda site, role: Request({}),
    "subscribe_push": lambda site, role: Request({}, PUSH_SUBSCRIPTION),
    "list_assets": lambda site, role: Request({}),
    "add_asset": lambda site, role: Request(
        {}, {"ref": _unique_ref(), "kind": "gate_key", "name": "Gate 3 key"}
    ),
    "hand_over_asset": lambda site, role: Request(
        {"asset_id": site.asset_id}, {"holder_person_id": site.seeded.subjects[Role.COMMANDER]}
    ),
    "request_asset": lambda site, role: _inc(site, {}, asset_id=site.asset_id),
    "issue_volunteer_pass": lambda site, role: _inc(site, {"language": "en"}),
    "revoke_pass": lambda site, role: Request(
        {"pass_id": _fresh_pass(site)[0]}, {"reason": "photographed"}
    ),
    "redeem_pass": lambda site, role: Request({}, {**VOLUNTEER, "code": _fresh_pass(site)[1]}),
    "receive_sms_reply": lambda site, role: _reply(
        site, "sms", {"from": HOOK_PHONE, "text": "1", "message_id": uuid.uuid4().hex}
    ),
    "receive_telegram_reply": lambda site, role: _reply(
        site,
        "telegram",
        {
            "update_id": uuid.uuid4().int % 2**31,
            "message": {"chat": {"id": HOOK_CHAT}, "from": {"id": HOOK_CHAT}, "text": "1"},
        },
    ),
    "get_my_volunteer": lambda site, role: Request({}),
    "issue_liaison_pass": lambda site, role: _inc(site, {"unit_name": "Police, Sderot"}),
    "list_liaison_passes": lambda site, role: _inc(site),
    "redeem_liaison_pass": lambda site, role: Request({}, {"code": _fresh_liaison_pass(site)}),
    "get_my_liaison_pass": lambda site, role: Request({}),
    "list_volunteers": lambda site, role: _inc(site),
    "approve_volunteer": lambda site, role: _inc(site, {}, volunteer_id=_pending_volunteer(site)),
    "decline_volunteer": lambda site, role: _inc(site, {}, volunteer_id=_pending_volunteer(site)),
    "issue_household_card": lambda site, role: Request(
        {"household_id": site.seeded.household_id}, {}
    ),
    "issue_household_cards": lambda site, role: Request({}, {"households": ["h-15"]}),
    "inspect_pass": lambda site, role: Request({}, {"code": _fresh_poster(site)}),
    "redeem_household_card": lambda site, role: Request({}, {"code": _fresh_card(site)}),
    "redeem_guest_poster": lambda site, role: Request(
        {}, {"code": _fresh_poster(site), "people_count": 2}
    ),
    "issue_guest_poster": lambda site, role: Request({}, {"building_ref": "12"}),
    "get_my_guest": lambda site, role: Request({}),
    "list_guests": lambda site, role: _inc(site),
    "check_in_guest": lambda site, role: _inc(
        site, {"status": "safe"}, guest_id=_own_guest(site, role)
    ),
    "merge_guest": lambda site, role: _inc(
        site, {"household_id": site.seeded.household_id}, guest_id=_new_guest(site)
    ),
    "void_poster_guests": lambda site, role: _inc(site, {}, pass_id=_poster_with_a_guest(site)),
}

# For every OWN-scope grant: the same request aimed at someone else's household or person.
OTHERS: dict[str, Callable[[Site, Role], Request]] = {
    "mark_broadcast_read": lambda site, role: _inc(
        site, {"household_id": _other_household(site, role)}, broadcast_id=_broadcast(site)
    ),
    "check_in_guest": lambda site, role: _inc(site, {"status": "safe"}, guest_id=_new_guest(site)),
    "get_person": lambda site, role: Request({"person_id": site.seeded.subjects[Role.COMMANDER]}),
    "get_household": lambda site, role: Request({"household_id": _other_household(site, role)}),
    "check_in_household": lambda site, role: _inc(
        site, {"status": "safe"}, household_id=_other_household(site, role)
    ),
    "change_responder_status": lambda site, role: _inc(
        site, {"status": "coming", "person_id": site.seeded.subjects[Role.COMMANDER]}
    ),
    "report_position": lambda site, role: _inc(
        site, {"location": HERE, "subject_id": site.seeded.subjects[Role.COMMANDER]}
    ),
    "acknowledge_order": lambda site, role: _inc(
        site, {"person_id": site.seeded.subjects[Role.COMMANDER]}, order_id=site.order_id
    ),
    "list_contact_points": lambda site, role: Request(
        {"person_id": site.seeded.subjects[Role.COMMANDER]}
    ),
    "set_contact_point": lambda site, role: Request(
        {"person_id": site.seeded.subjects[Role.COMMANDER], "channel": "telegram"},
        {"address": "123456789"},
    ),
    "deliver_supply": lambda site, role: _inc(
        site,
        {},
        supply_id=_supply(site, Role.COMMANDER, runner=site.seeded.subjects[Role.COMMANDER]),
    ),
    "cancel_supply": lambda site, role: _inc(site, {}, supply_id=_supply(site, Role.COMMANDER)),
    **{
        op: lambda site, role: _inc(
            site, {}, task_id=_task(site, site.seeded.subjects[Role.COMMANDER])
        )
        for op in ("accept_task", "complete_task", "fail_task")
    },
}

PUSH_SUBSCRIPTION = {
    "endpoint": "https://push.example.net/send/abc123",
    "p256dh": "B" + "A" * 86,
    "auth": "A" * 22,
}


VOLUNTEER = {"name": "Avi Peretz", "affiliation": "police", "armed": True}


def _fresh_pass(site: Site) -> tuple[str, str]:
    """A new volunteer pass of the seeded incident: (pass id, code)."""
    code = passes.new_pass_code()
    issued = site.store.execute(
        SITE,
        passes.issue_volunteer_pass(
            None, site.incident_id, passes.IssueVolunteerPass(language="en"), code
        ),
    )
    return str(issued.body["pass_id"]), code


def _fresh_liaison_pass(site: Site) -> str:
    """A liaison pass for an arriving unit; its radio code (each call: a new pass)."""
    radio_code = liaison.new_radio_code()
    cmd = liaison.IssueLiaisonPass(unit_name="Police, Sderot")
    code = passes.new_pass_code()
    decide = liaison.issue_liaison_pass(None, site.incident_id, cmd, code, radio_code)
    site.store.execute(SITE, decide)
    return radio_code


def _on_casualty(site: Site, body: dict[str, Any]) -> Request:
    """A request about a casualty just reported, unassigned (any medic may treat it)."""
    cmd = casualties.ReportCasualty(building_ref="12")
    reported = site.store.execute(SITE, casualties.report_casualty(None, site.incident_id, cmd))
    return _inc(site, body, casualty_id=str(reported.body["casualty_id"]))


def _pending_volunteer(site: Site) -> str:
    """Someone who just joined by a pass and waits for a commander."""
    joining = volunteers.RedeemPass.model_validate({**VOLUNTEER, "code": _fresh_pass(site)[1]})
    joined = site.store.execute(SITE, volunteers.redeem_volunteer_pass(joining, new_token()))
    return str(joined.body["volunteer_id"])


def _supply(site: Site, asker: Role, runner: str | None = None) -> str:
    """Water asked for by `asker`'s device; sent with `runner`, if named."""
    supplies = f"/api/v1/incidents/{site.incident_id}/supplies"
    asked = site.post(supplies, asker, json={"kind": "water", "quantity": 6, "location": HERE})
    assert asked.status_code == 201, asked.text
    supply_id = str(asked.json()["supply_id"])
    if runner is not None:
        body = {"runner_person_id": runner}
        sent = site.post(f"{supplies}/{supply_id}/runner", Role.COMMANDER, json=body)
        assert sent.status_code == 201, sent.text
    return supply_id


def _asker(role: Role) -> Role:
    """The caller itself when it may ask for supplies as itself, else the commander."""
    return role if role in (Role.RESPONDER, Role.MEDIC) else Role.COMMANDER


def _task(site: Site, assignee: str) -> str:
    """A task the commander gives `assignee`."""
    body = {"title": "Check house 22", "assignee_ids": [assignee]}
    given = site.post(f"/api/v1/incidents/{site.incident_id}/tasks", Role.COMMANDER, json=body)
    assert given.status_code == 201, given.text
    return str(given.json()["task_id"])


def _hostage_situation(site: Site) -> str:
    """A building where people are held, reported by the commander."""
    report = hostages.ReportHostages(building_ref="12")
    reported = site.store.execute(SITE, hostages.report(None, site.incident_id, report))
    return str(reported.body["situation_id"])


def _fresh_card(site: Site) -> str:
    """The code of a new card for the seeded household (its 10 devices are all free)."""
    code = passes.new_pass_code()
    issue = cards.issue_card(None, site.seeded.household_id, cards.IssueCard(), code)
    site.store.execute(SITE, issue)
    return code


def _fresh_poster(site: Site) -> str:
    code = passes.new_pass_code()
    site.store.execute(SITE, guests.issue_guest_poster(None, guests.IssueGuestPoster(), code))
    return code


def _new_guest(site: Site) -> str:
    """Someone who just checked in by a poster in the seeded incident."""
    checking_in = guests.RedeemGuestPoster(code=_fresh_poster(site), building_ref="12")
    checked_in = site.store.execute(SITE, guests.redeem_guest_poster(checking_in, new_token()))
    return str(checked_in.body["guest_id"])


def _poster_with_a_guest(site: Site) -> str:
    """A poster's pass id, and someone who just checked in by it."""
    guest_id = _new_guest(site)
    pass_id = site.store.state(SITE).guests[guest_id].pass_id
    assert pass_id is not None
    return pass_id


def _own_guest(site: Site, role: Role) -> str:
    return site.seeded.subjects[Role.GUEST] if role is Role.GUEST else _new_guest(site)


HOOK_PHONE, HOOK_CHAT = "+972500000001", 123456789


def _reply(site: Site, channel: InboundChannel, body: dict[str, Any]) -> Request:
    """The seeded responder's reply to the seeded muster call; the webhooks take no token,
    only their secret path."""
    responder = site.seeded.subjects[Role.RESPONDER]
    for kind, address in (("sms", HOOK_PHONE), ("telegram", str(HOOK_CHAT))):
        point = c.SetContactPoint(address=address)
        site.store.execute(SITE, set_contact_point(None, responder, kind, point))
    return Request({"secret": hook_secret(site.client.app.state.runtime.settings, channel)}, body)


def _own_person(site: Site, role: Role) -> str:
    """The caller's own person where it has one, else the commander (a person everyone knows)."""
    if role in (Role.RESPONDER, Role.MEDIC):
        return site.seeded.subjects[role]
    return site.seeded.subjects[Role.COMMANDER]


def _other_household(site: Site, role: Role) -> str:
    own = _own_household(site, role)
    seeded = site.seeded
    return seeded.other_household_id if own == seeded.household_id else seeded.household_id


def _send(site: Site, operation: str, role: Role | None, request: Request) -> Any:
    method, template = OPERATIONS[operation]
    wanted = {name for _, name, _, _ in string.Formatter().parse(template) if name}
    assert wanted == set(request.params), f"{operation}: path needs {wanted}"
    if request.content is not None:
        headers = {**site.headers(role), "Content-Type": request.media_type}
        path = template.format(**request.params)
        return site.client.request(method, path, content=request.content, headers=headers)
    return site.call(method, template.format(**request.params), role, json=request.body)


def _denial(site: Site, before: int, operation: str, role: Role) -> None:
    """The log gained exactly one record: this role's denial for this operation."""
    events = site.events_after(before)
    assert [e.type for e in events] == ["audit.access_denied"], [e.type for e in events]
    assert events[0].payload["operation"] == operation
    assert events[0].payload["token_id"] == site.token_ids[role]
    assert events[0].device == site.token_ids[role]


# --- the matrix and the routes agree ------------------------------------------------------------
def test_every_route_is_in_the_permission_matrix() -> None:
    missing = sorted(set(OPERATIONS) - set(MATRIX) - PUBLIC_OPERATIONS)
    assert not missing, (
        f"routes missing from konenut.app.permissions.MATRIX: {', '.join(missing)} "
        "(add a row, or list them in PUBLIC_OPERATIONS if they need no token)"
    )
    both = sorted(set(MATRIX) & PUBLIC_OPERATIONS)
    assert not both, f"operations both public and in the matrix: {', '.join(both)}"


def test_every_matrix_row_names_a_route() -> None:
    stale = sorted((set(MATRIX) | PUBLIC_OPERATIONS) - set(OPERATIONS))
    assert not stale, f"permission rows for routes that do not exist: {', '.join(stale)}"


def test_matrix_rows_hold_only_roles_and_scopes() -> None:
    for operation, row in MATRIX.items():
        assert row, f"{operation}: an empty row (nobody may call it) is a dead route"
        for role, scope in row.items():
            assert isinstance(role, Role) and isinstance(scope, Scope), (operation, role, scope)


def test_every_route_has_a_request_in_this_test() -> None:
    missing = sorted(set(OPERATIONS) - set(REQUESTS))
    assert not missing, f"add a minimal valid request to REQUESTS for: {', '.join(missing)}"
    stale = sorted(set(REQUESTS) - set(OPERATIONS))
    assert not stale, f"REQUESTS names routes that no longer exist: {', '.join(stale)}"
    own = sorted({op for op, row in MATRIX.items() if Scope.OWN in row.values()} - set(OTHERS))
    assert not own, f"add an other-subject request to OTHERS for OWN-scope routes: {own}"


def test_served_openapi_document_lists_the_same_routes(shared_site: Site) -> None:
    response = shared_site.client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    served = {
        op["operationId"] for item in response.json()["paths"].values() for op in item.values()
    }
    assert served == set(OPERATIONS)


# --- every route × every role -------------------------------------------------------------------
@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("operation", sorted(OPERATIONS))
def test_route_as_role(shared_site: Site, operation: str, role: Role) -> None:
    site = shared_site
    request = REQUESTS[operation](site, role)
    before = site.head()
    response = _send(site, operation, role, request)
    if operation in PUBLIC_OPERATIONS or role in MATRIX[operation]:
        assert response.status_code not in (401, 403), response.text
        assert 200 <= response.status_code < 300, (
            f"{role} may {operation} but got {response.status_code}: {response.text}"
        )
        return
    body = assert_problem(response, 403, "forbidden", role.value)
    assert operation.replace("_", " ") in body["detail"]
    _denial(site, before, operation, role)


@pytest.mark.parametrize(
    ("operation", "role"),
    sorted(
        (op, role)
        for op, row in MATRIX.items()
        for role, scope in row.items()
        if scope is Scope.OWN
    ),
    ids=lambda value: str(value),
)
def test_own_scope_stops_at_someone_else(shared_site: Site, operation: str, role: Role) -> None:
    """An OWN grant covers the caller's own person or household, and nobody else's."""
    site = shared_site
    request = OTHERS[operation](site, role)
    before = site.head()
    response = _send(site, operation, role, request)
    assert_problem(response, 403, "forbidden", "only")
    _denial(site, before, operation, role)


BOUND_ROLES = (Role.GUEST, Role.VOLUNTEER, Role.LIAISON)  # their tokens carry one incident


@pytest.mark.parametrize("role", BOUND_ROLES, ids=str)
@pytest.mark.parametrize(
    "operation", sorted(op for op in MATRIX if "{incident_id}" in OPERATIONS[op][1])
)
def test_incident_bound_tokens_stay_in_their_incident(
    shared_site: Site, operation: str, role: Role
) -> None:
    """A guest, volunteer or liaison pass reaches nothing in another incident."""
    site = shared_site
    request = REQUESTS[operation](site, role)
    request = Request({**request.params, "incident_id": site.fresh_drill()}, request.body)
    before = site.head()
    response = _send(site, operation, role, request)
    assert_problem(response, 403, "forbidden")
    _denial(site, before, operation, role)


@pytest.mark.parametrize("operation", PROTECTED)
def test_no_token_is_401_everywhere(shared_site: Site, operation: str) -> None:
    site = shared_site
    request = REQUESTS[operation](site, Role.ADMIN)
    before = site.head()
    response = _send(site, operation, None, request)
    assert_problem(response, 401, "unauthenticated", "token")
    assert response.headers["www-authenticate"] == "Bearer"
    assert site.head() == before


@pytest.mark.parametrize("operation", sorted(PUBLIC_OPERATIONS))
def test_public_routes_need_no_token(shared_site: Site, operation: str) -> None:
    response = _send(shared_site, operation, None, REQUESTS[operation](shared_site, Role.GUEST))
    assert 200 <= response.status_code < 300, response.text


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_the_safe_word_in_the_incident_view_follows_its_audience(
    shared_site: Site, role: Role
) -> None:
    """docs/contracts.md §4: the squad and households read the safe word in their incident
    view; a guest (anyone who scans a poster on a wall) never does."""
    site = shared_site
    incident = f"/api/v1/incidents/{site.incident_id}"
    word = site.call("PUT", incident + "/safe-word", Role.COMMANDER, json={"word": "marmalade"})
    assert word.status_code in (200, 201), word.text
    got = site.get(incident, role)
    assert got.status_code == 200, got.text
    told = "marmalade" in got.text
    assert told is (role is not Role.GUEST), f"{role}: {got.text[:300]}"
