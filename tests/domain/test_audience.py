"""Who sees which event, with which fields (contracts §4), for every registered type × role.

`DECISIONS` below is the reviewed decision for each event type and each of the nine roles.
A new event type (or a changed audience) fails here until someone decides, role by role,
who may see it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations
from typing import Any

import pytest

from konenut.domain.event_types import REGISTRY
from konenut.domain.event_types.casualties import CASUALTY_PRIVATE_FIELDS
from konenut.domain.events import Event, Scope, Viewer, view_for
from konenut.domain.roles import Role

SECRETS = {"token_hash", "code_hash"}


@dataclass(frozen=True)
class Seen:
    """A decision: which of a type's events the role sees, and in what shape."""

    scope: Scope
    envelope: bool = True  # False: actor, device and location are removed
    hide: frozenset[str] = frozenset()


NO = None
ALL = Seen(Scope.ALL)
INC = Seen(Scope.INCIDENT)
OWN = Seen(Scope.OWN)
PUBLIC = Seen(Scope.ALL, envelope=False)
PUBLIC_INC = Seen(Scope.INCIDENT, envelope=False)
PUBLIC_NO_PLAN = Seen(Scope.ALL, envelope=False, hide=frozenset({"plan"}))
OWN_BARE = Seen(Scope.OWN, envelope=False)
# Addressed to everyone or to a list of persons (an order), in full.
TARGETED = Seen(Scope.TARGETED)
# Addressed to everyone or to a list of households; whom else it was for is hidden.
TARGETED_BARE = Seen(
    Scope.TARGETED, envelope=False, hide=frozenset({"household_ids", "area", "group"})
)


def row(
    *,
    admin: Seen | None,
    commander: Seen | None,
    operator: Seen | None,
    responder: Seen | None,
    medic: Seen | None,
    resident: Seen | None,
    guest: Seen | None,
    volunteer: Seen | None,
    liaison: Seen | None,
) -> dict[Role, Seen | None]:
    """All nine roles, each decided (keyword-only, so none can be forgotten)."""
    return {
        Role.ADMIN: admin,
        Role.COMMANDER: commander,
        Role.OPERATOR: operator,
        Role.RESPONDER: responder,
        Role.MEDIC: medic,
        Role.RESIDENT: resident,
        Role.GUEST: guest,
        Role.VOLUNTEER: volunteer,
        Role.LIAISON: liaison,
    }


SQUAD = {
    "commander": ALL,
    "operator": ALL,
    "responder": ALL,
    "medic": ALL,
    "volunteer": INC,
    "liaison": INC,
}
ADMIN_ONLY = row(
    admin=ALL,
    commander=NO,
    operator=NO,
    responder=NO,
    medic=NO,
    resident=NO,
    guest=NO,
    volunteer=NO,
    liaison=NO,
)
PICTURE = row(admin=ALL, resident=NO, guest=NO, **SQUAD)
POSITIONS = row(admin=NO, resident=NO, guest=NO, **SQUAD)
RUNS_SQUAD = row(
    admin=ALL,
    commander=ALL,
    operator=ALL,
    responder=NO,
    medic=NO,
    resident=NO,
    guest=NO,
    volunteer=NO,
    liaison=NO,
)
CONTACTS = row(
    admin=ALL,
    commander=ALL,
    operator=NO,
    responder=OWN,
    medic=OWN,
    resident=NO,
    guest=NO,
    volunteer=OWN,
    liaison=NO,
)


def casualty_row(type_: str, household_sees: bool) -> dict[Role, Seen | None]:
    """Issue 14: names and injuries for those who run the squad, the medics (the unassigned and
    their own) and the liaison; a responder sees where and how many; the household its own
    casualty reported and a medic coming, nothing else."""
    hide = CASUALTY_PRIVATE_FIELDS & set(REGISTRY[type_].payload.model_fields)
    return row(
        admin=NO,
        commander=ALL,
        operator=ALL,
        responder=Seen(Scope.ALL, hide=hide),
        medic=TARGETED,
        resident=Seen(Scope.OWN, envelope=False, hide=hide) if household_sees else NO,
        guest=NO,
        volunteer=NO,
        liaison=INC,
    )


NEWS = row(admin=ALL, resident=PUBLIC, guest=PUBLIC_INC, **SQUAD)
PASSES = row(
    admin=ALL,
    commander=ALL,
    operator=NO,
    responder=NO,
    medic=NO,
    resident=NO,
    guest=NO,
    volunteer=NO,
    liaison=NO,
)
NO_PHONE = Seen(Scope.ALL, hide=frozenset({"phone"}))
VOLUNTEER_DECIDED = row(
    admin=ALL,
    commander=ALL,
    operator=ALL,
    responder=ALL,
    medic=ALL,
    resident=NO,
    guest=NO,
    volunteer=OWN,
    liaison=INC,
)
HOSTAGES = row(
    admin=ALL,
    commander=ALL,
    operator=ALL,
    responder=NO,
    medic=NO,
    resident=NO,
    guest=NO,
    volunteer=NO,
    liaison=INC,
)
GUESTS = row(
    admin=ALL,
    commander=ALL,
    operator=ALL,
    responder=NO_PHONE,
    medic=NO_PHONE,
    resident=NO,
    guest=OWN,
    volunteer=Seen(Scope.INCIDENT, hide=frozenset({"phone"})),
    liaison=Seen(Scope.INCIDENT, hide=frozenset({"phone"})),
)

# The registry, need-to-know per field (contracts §4, issue 11 item 7): residents' phone
# numbers and special needs only for those who run the squad; responders and medics see who
# lives where; a household its own; volunteers and liaisons never (only the picture).
RESCUE_VIEW = Seen(Scope.ALL, hide=frozenset({"phone", "special_needs"}))
HOUSEHOLDS = row(
    admin=ALL,
    commander=ALL,
    operator=ALL,
    responder=ALL,
    medic=ALL,
    resident=OWN,
    guest=NO,
    volunteer=NO,
    liaison=NO,
)
PERSONS = {**HOUSEHOLDS, Role.RESPONDER: RESCUE_VIEW, Role.MEDIC: RESCUE_VIEW}

DECISIONS: dict[str, dict[Role, Seen | None]] = {
    "site.configured": row(admin=ALL, resident=PUBLIC_NO_PLAN, guest=PUBLIC_NO_PLAN, **SQUAD),
    "person.added": PERSONS,
    "household.added": HOUSEHOLDS,
    "person.updated": PERSONS,
    "household.updated": HOUSEHOLDS,
    "enrollment.code_issued": ADMIN_ONLY,
    "device.enrolled": ADMIN_ONLY,
    "token.revoked": ADMIN_ONLY,
    "incident.opened": NEWS,
    "incident.closed": NEWS,
    "muster.called": PICTURE,
    "responder.status_changed": PICTURE,
    "position.reported": POSITIONS,
    # A resident sees the sighting it reported itself (its outbox confirms), stripped bare.
    "sighting.reported": row(admin=NO, resident=OWN_BARE, guest=NO, **SQUAD),
    "sighting.updated": POSITIONS,
    "household.checked_in": row(admin=ALL, resident=OWN, guest=NO, **SQUAD),
    "broadcast.sent": row(admin=ALL, resident=TARGETED_BARE, guest=TARGETED_BARE, **SQUAD),
    # Which channel reached which household (masked phones): those who run the squad; the
    # household sees that it read a broadcast, nobody else's.
    "broadcast.delivery_sent": RUNS_SQUAD,
    "broadcast.delivery_settled": RUNS_SQUAD,
    "broadcast.read": {**RUNS_SQUAD, Role.RESIDENT: OWN},
    # issue 6: an order reaches the people it names (all, when it names nobody); those who run
    # the squad and the arriving unit see every order.
    "order.sent": row(
        admin=ALL,
        commander=ALL,
        operator=ALL,
        responder=TARGETED,
        medic=TARGETED,
        resident=NO,
        guest=NO,
        volunteer=TARGETED,
        liaison=INC,
    ),
    "order.acknowledged": PICTURE,
    # issue 5: proof of life is set by those who run the squad.
    "accountability.recheck_set": RUNS_SQUAD,
    "audit.access_denied": ADMIN_ONLY,
    "audit.log_exported": ADMIN_ONLY,
    "audit.liaison_viewed": ADMIN_ONLY,
    # An SMS/Telegram reply that answered nothing: not even the person it came from sees it.
    "audit.inbound_rejected": ADMIN_ONLY,
    "audit.registry_exported": ADMIN_ONLY,
    # issue 15: a SITREP produced or sent is on the admins' audit trail
    "audit.sitrep_produced": ADMIN_ONLY,
    "audit.sitrep_sent": ADMIN_ONLY,
    # issue 4: the muster
    "muster.seen": PICTURE,
    "escalation_policy.set": RUNS_SQUAD,
    # Where a person is reached: admins and commanders, and the person itself.
    "contact_point.set": CONTACTS,
    "push.subscribed": CONTACTS,
    "push.unsubscribed": CONTACTS,
    # Who was tried on which channel: the people who run the squad.
    "notification.sent": RUNS_SQUAD,
    "notification.delivered": RUNS_SQUAD,
    "notification.failed": RUNS_SQUAD,
    # Who holds the keys and radios: the squad knows.
    "asset.added": PICTURE,
    "asset.handed_over": PICTURE,
    "asset.requested": PICTURE,
    # Standing passes: handed out by admins and commanders, seen by them only.
    "pass.issued": PASSES,
    "pass.revoked": PASSES,
    # Who joined: the squad knows who the armed stranger is, not their phone number.
    "volunteer.joined": row(
        admin=ALL,
        commander=ALL,
        operator=ALL,
        responder=NO_PHONE,
        medic=NO_PHONE,
        resident=NO,
        guest=NO,
        volunteer=OWN,
        liaison=Seen(Scope.INCIDENT, hide=frozenset({"phone"})),
    ),
    "volunteer.approved": VOLUNTEER_DECIDED,
    "volunteer.declined": VOLUNTEER_DECIDED,
    "audit.pass_redeemed": ADMIN_ONLY,
    # issue 5: guests by a poster — the squad sees occupied buildings, not the guest's phone.
    "guest.checked_in": GUESTS,
    "guest.merged": row(admin=ALL, resident=NO, guest=OWN, **SQUAD),
    # The squad sees a poster's guests leave the board; the voided guests' tokens are revoked.
    "guests.voided": PICTURE,
    # issue 5: hostages held — never residents or guests, not even the household concerned.
    "hostage.reported": HOSTAGES,
    "hostage.updated": HOSTAGES,
    **{
        type_: casualty_row(
            type_, household_sees=type_ in ("casualty.reported", "casualty.assigned")
        )
        for type_ in (
            "casualty.reported",
            "casualty.triaged",
            "casualty.treated",
            "casualty.assigned",
            "casualty.status_changed",
            "casualty.moved",
        )
    },
    # issue 6: the challenge/password is the squad's (a captured resident's phone must not
    # answer it); the safe word is told to residents and guests, without who set it.
    "challenge.set": POSITIONS,
    # What the squad says at a door: households, never a guest (anyone who scans a poster).
    "safe_word.set": row(admin=ALL, resident=PUBLIC, guest=NO, **SQUAD),
    # issue 6: a caution reaches the units it warns (all, when it names nobody) and those who
    # run the squad; never residents, guests or the admin desk (contracts §5).
    "caution.raised": row(
        admin=NO,
        commander=ALL,
        operator=ALL,
        responder=TARGETED,
        medic=TARGETED,
        resident=NO,
        guest=NO,
        volunteer=TARGETED,
        liaison=INC,
    ),
    "responder.entering": POSITIONS,
    # issue 10: a caution that could not be raised is for those who run the squad to give by
    # other means; an intruder report cleared is the squad's picture (never the household's
    # phones: attackers may hold them).
    "caution.failed": RUNS_SQUAD,
    "intruder.cleared": PICTURE,
    # issue 11 item 10: someone is guessing codes; those who run the squad hear of it.
    "code_guessing.detected": RUNS_SQUAD,
    # issue 14: a supply request says where a defender is short of what: the squad (the
    # liaison and volunteers in their incident), never residents, guests or the admin desk;
    # the armory's count is for those who run the squad.
    **dict.fromkeys(
        ("supply.requested", "supply.assigned", "supply.delivered", "supply.cancelled"), POSITIONS
    ),
    "inventory.set": RUNS_SQUAD,
    # issue 14: a task reaches its assignees and those who run the squad, like an order.
    **dict.fromkeys(
        ("task.created", "task.accepted", "task.completed", "task.failed"),
        row(
            admin=ALL,
            commander=ALL,
            operator=ALL,
            responder=TARGETED,
            medic=TARGETED,
            resident=NO,
            guest=NO,
            volunteer=TARGETED,
            liaison=INC,
        ),
    ),
}

# Never for a resident or a guest, whatever the event is about.
NEVER_FOR_HOUSEHOLDS = {
    "position.reported",
    "sighting.updated",
    "muster.called",
    "responder.status_changed",
    "order.sent",
    "order.acknowledged",
    "device.enrolled",
    "enrollment.code_issued",
    "token.revoked",
    "pass.issued",
    "pass.revoked",
    "volunteer.joined",
    "volunteer.approved",
    "volunteer.declined",
    "hostage.reported",
    "hostage.updated",
    "casualty.triaged",
    "casualty.treated",
    "casualty.status_changed",
    "casualty.moved",
    "challenge.set",
    "caution.raised",
    "responder.entering",
    "caution.failed",
    "intruder.cleared",
    "code_guessing.detected",
    "supply.requested",
    "supply.assigned",
    "supply.delivered",
    "supply.cancelled",
    "inventory.set",
    "task.created",
    "task.accepted",
    "task.completed",
    "task.failed",
}

# --- one sample event per type, and whom it is about -------------------------------------
INCIDENT = "inc-1"
OTHER_INCIDENT = "inc-2"
HOME = "hh-cohen"  # a household; a resident token's subject is its household
PERSON = "p-yael"  # a person of that household
VOLUNTEER = "v-avi"  # someone who joined by the volunteer pass
GUEST = "g-nok"  # someone who checked in by a guest poster
STRANGER = ("p-stranger", "hh-levi")
HASH = "ab" * 32
WHEN = "2026-01-01T00:00:00.000Z"
PLAN = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "properties": {"kind": "boundary", "ref": "b"},
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[34.9, 30.4], [35.0, 30.4], [34.9, 30.5], [34.9, 30.4]]],
            },
        }
    ],
}


# A resident with what only those who run the squad may read: her phone and special needs.
YAEL = {
    "person_id": PERSON,
    "ref": "p1",
    "name": "Yael",
    "household_id": HOME,
    "phone": "+972501234567",
    "special_needs": ["mobility"],
}


@dataclass(frozen=True)
class Sample:
    payload: dict[str, Any]
    incident: bool = True  # in an incident (else site configuration)
    actor: str = "p-commander"
    subject: str | None = None  # the person the event is about, if any
    household: str | None = None  # the household the event is about, if any


SAMPLES: dict[str, Sample] = {
    "site.configured": Sample({"name": "Tel Kinamon", "plan": PLAN}, incident=False),
    "person.added": Sample(
        YAEL,
        incident=False,
        subject=PERSON,
        household=HOME,
    ),
    "household.added": Sample(
        {"household_id": HOME, "ref": "31", "name": "Cohen"}, incident=False, household=HOME
    ),
    "person.updated": Sample(
        YAEL,
        incident=False,
        subject=PERSON,
        household=HOME,
    ),
    "household.updated": Sample(
        {"household_id": HOME, "ref": "31", "name": "Cohen", "pets": "dog"},
        incident=False,
        household=HOME,
    ),
    "enrollment.code_issued": Sample(
        {
            "code_id": "c1",
            "code_hash": HASH,
            "subject_id": PERSON,
            "subject_kind": "person",
            "roles": ["responder"],
            "expires_at": WHEN,
        },
        incident=False,
        subject=PERSON,
    ),
    "device.enrolled": Sample(
        {
            "token_id": "t1",
            "token_hash": HASH,
            "subject_id": PERSON,
            "subject_kind": "person",
            "roles": ["responder"],
            "household_id": HOME,
        },
        incident=False,
        actor=PERSON,
        subject=PERSON,
        household=HOME,
    ),
    "token.revoked": Sample({"token_id": "t1", "reason": "lost"}, incident=False),
    "incident.opened": Sample({"incident_id": INCIDENT, "ref": "1", "title": "Infiltration"}),
    "incident.closed": Sample({"incident_id": INCIDENT}),
    "muster.called": Sample({"muster_id": "m1", "rally_point_ref": "R1", "targets": [PERSON]}),
    "responder.status_changed": Sample(
        {"person_id": PERSON, "status": "coming"}, actor=PERSON, subject=PERSON
    ),
    "position.reported": Sample({"subject_id": PERSON}, actor=PERSON, subject=PERSON),
    "sighting.reported": Sample(
        {"sighting_id": "s1", "category": "hostile"}, actor=HOME, subject=HOME
    ),
    "sighting.updated": Sample({"sighting_id": "s1", "status": "confirmed"}),
    "household.checked_in": Sample(
        {"household_id": HOME, "status": "safe"}, actor=HOME, subject=HOME, household=HOME
    ),
    "broadcast.sent": Sample(
        {"broadcast_id": "b1", "texts": {"en": "Stay inside"}, "household_ids": [HOME]},
        household=HOME,
    ),
    "broadcast.delivery_sent": Sample(
        {
            "broadcast_id": "b1",
            "delivery_id": "d1",
            "household_id": HOME,
            "channel": "sms",
            "lang": "th",
            "to": "+97250•••567",
        },
        household=HOME,
    ),
    "broadcast.delivery_settled": Sample(
        {"broadcast_id": "b1", "delivery_id": "d1", "household_id": HOME, "outcome": "delivered"},
        household=HOME,
    ),
    "broadcast.read": Sample({"broadcast_id": "b1", "household_id": HOME}, household=HOME),
    "order.sent": Sample(
        {"order_id": "o1", "text": "Hold gate 3", "to_person_ids": [PERSON]}, subject=PERSON
    ),
    "hostage.reported": Sample(
        {"situation_id": "h1", "household_id": HOME, "building_ref": "31", "people_inside": 3},
        household=HOME,
    ),
    "hostage.updated": Sample({"situation_id": "h1", "text": "phone contact", "status": "ongoing"}),
    "accountability.recheck_set": Sample({"every_mins": 30}),
    "challenge.set": Sample({"challenge": "olive", "password": "river", "lang": "en"}),
    "safe_word.set": Sample({"word": "lemon", "lang": "en"}),
    "caution.raised": Sample(
        {
            "caution_id": "k1",
            "kind": "near_civilians",
            "key": "near:s1:14",
            "sighting_id": "s1",
            "building_refs": ["14"],
            "to_person_ids": [PERSON],
            "civilians": [{"building_ref": "14", "people": 2, "status": "safe"}],
        },
        subject=PERSON,
    ),
    "responder.entering": Sample(
        {"person_id": PERSON, "building_ref": "14"}, actor=PERSON, subject=PERSON
    ),
    **{
        type_: Sample(
            {"casualty_id": "c1", "household_id": HOME, "medic_ids": [PERSON], **fields},
            subject=PERSON,
            household=HOME,
        )
        for type_, fields in {
            "casualty.reported": {"tag": "C-01", "name": "Yael", "text": "leg", "count": 1},
            "casualty.triaged": {"category": "immediate", "injuries": ["leg"]},
            "casualty.treated": {"treatment": "tourniquet", "applied_at": WHEN},
            "casualty.assigned": {"medic_id": PERSON, "medic_name": "Dana"},
            "casualty.status_changed": {"state": "treating"},
            "casualty.moved": {"collection_point_ref": "CP1"},
        }.items()
    },
    "caution.failed": Sample(
        {
            "reason": "InvalidEvent: invalid payload",
            "triggers": ["sighting.reported"],
            "failures": 1,
        }
    ),
    "code_guessing.detected": Sample(
        {"code_space": "enrollment_code", "failures": 300, "window_secs": 60}
    ),
    "intruder.cleared": Sample({"building_ref": "31", "text": "two survivors"}),
    "order.acknowledged": Sample(
        {"order_id": "o1", "person_id": PERSON}, actor=PERSON, subject=PERSON
    ),
    "audit.access_denied": Sample(
        {"operation": "list_people", "reason": "no", "token_id": "t1"},
        incident=False,
        actor=HOME,
        subject=HOME,
    ),
    "audit.log_exported": Sample({"event_count": 3}, incident=False),
    "audit.liaison_viewed": Sample({"token_id": "t-liaison"}),
    "audit.sitrep_produced": Sample({"format": "pdf", "lang": "he"}),
    "audit.sitrep_sent": Sample(
        {"channel": "sms", "to": "•••567", "lang": "en", "sent": True, "detail": "200"}
    ),
    "audit.registry_exported": Sample(
        {"format": "csv", "households": 2, "people": 5}, incident=False
    ),
    "audit.inbound_rejected": Sample(
        {"channel": "sms", "sender": "•••567", "reason": "not an answer", "message_id": "SM1"},
        incident=False,
        actor=PERSON,
        subject=PERSON,
    ),
    "muster.seen": Sample({"muster_id": "m1", "person_id": PERSON}, actor=PERSON, subject=PERSON),
    "escalation_policy.set": Sample(
        {"steps": [{"channel": "push", "after_secs": 0}]}, incident=False
    ),
    "contact_point.set": Sample(
        {"person_id": PERSON, "channel": "telegram", "address": "123456789"},
        incident=False,
        subject=PERSON,
    ),
    "push.subscribed": Sample(
        {
            "person_id": PERSON,
            "token_id": "t1",
            "endpoint": "https://push.example.net/send/abc",
            "p256dh": "B" + "A" * 86,
            "auth": "A" * 22,
        },
        incident=False,
        actor=PERSON,
        subject=PERSON,
    ),
    "push.unsubscribed": Sample(
        {"person_id": PERSON, "token_id": "t1", "reason": "gone"}, incident=False, subject=PERSON
    ),
    "notification.sent": Sample(
        {
            "notification_id": "n1",
            "muster_id": "m1",
            "person_id": PERSON,
            "step": 1,
            "channel": "sms",
            "to": "+97250•••567",
        },
        subject=PERSON,
    ),
    "notification.delivered": Sample(
        {"notification_id": "n1", "person_id": PERSON}, subject=PERSON
    ),
    "notification.failed": Sample(
        {"notification_id": "n1", "person_id": PERSON, "reason": "no SMS gateway configured"},
        subject=PERSON,
    ),
    "asset.added": Sample(
        {"asset_id": "a1", "ref": "key-3", "kind": "gate_key", "name": "Gate 3 key"},
        incident=False,
    ),
    "asset.handed_over": Sample({"asset_id": "a1", "holder_person_id": PERSON}, incident=False),
    "asset.requested": Sample({"asset_id": "a1", "person_id": PERSON}, subject=PERSON),
    "pass.issued": Sample(
        {
            "pass_id": "pass1",
            "purpose": "volunteer_join",
            "role": "volunteer",
            "incident_id": INCIDENT,
            "expires_at": WHEN,
            "code_hash": HASH,
        }
    ),
    "pass.revoked": Sample({"pass_id": "pass1", "reason": "photographed"}),
    "volunteer.joined": Sample(
        {
            "volunteer_id": VOLUNTEER,
            "pass_id": "pass1",
            "name": "Avi",
            "phone": "+972501234567",
            "affiliation": "police",
            "armed": True,
        },
        actor=VOLUNTEER,
        subject=VOLUNTEER,
    ),
    "volunteer.approved": Sample({"volunteer_id": VOLUNTEER}, subject=VOLUNTEER),
    "volunteer.declined": Sample({"volunteer_id": VOLUNTEER}, subject=VOLUNTEER),
    "guest.checked_in": Sample(
        {
            "guest_id": GUEST,
            "building_ref": "W2",
            "people_count": 4,
            "language": "th",
            "phone": "+66812345678",
        },
        actor=GUEST,
        subject=GUEST,
    ),
    "guest.merged": Sample({"guest_id": GUEST, "household_id": HOME}, subject=GUEST),
    "guests.voided": Sample({"pass_id": "pass1", "guest_ids": [GUEST]}),
    "audit.pass_redeemed": Sample(
        {
            "pass_id": "pass1",
            "purpose": "volunteer_join",
            "token_id": "t9",
            "subject_id": VOLUNTEER,
            "subject_kind": "volunteer",
        },
        actor=VOLUNTEER,
        subject=VOLUNTEER,
    ),
    "supply.requested": Sample(
        {"supply_id": "s1", "kind": "ammunition", "calibre": "5.56", "quantity": 120},
        actor=PERSON,
    ),
    "supply.assigned": Sample({"supply_id": "s1", "runner_person_id": PERSON}),
    "supply.delivered": Sample({"supply_id": "s1"}, actor=PERSON),
    "supply.cancelled": Sample({"supply_id": "s1", "text": "found some"}),
    "inventory.set": Sample(
        {"kind": "ammunition", "calibre": "5.56", "quantity": 500, "low_below": 100},
        incident=False,
    ),
    "task.created": Sample(
        {"task_id": "k1", "title": "Open gate 3", "assignee_ids": [PERSON]}, subject=PERSON
    ),
    **{
        type_: Sample(
            {"task_id": "k1", "person_id": PERSON, "assignee_ids": [PERSON]},
            actor=PERSON,
            subject=PERSON,
        )
        for type_ in ("task.accepted", "task.completed", "task.failed")
    },
}


def _event(type_: str) -> Event:
    sample = SAMPLES[type_]
    etype = REGISTRY[type_]
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    return Event(
        site_id="site",
        seq=7,
        id="e7",
        type=type_,
        version=etype.version,
        incident_id=INCIDENT if sample.incident else None,
        occurred_at=moment,
        recorded_at=moment,
        actor=sample.actor,
        device="d-1",
        location={"lat": 30.43, "lon": 34.97},
        payload=etype.validate(sample.payload),
        drill=False,
    )


def _viewers(type_: str, roles: frozenset[Role]) -> dict[str, Viewer]:
    """The same roles as the one the event is about, a stranger in the same incident, and a
    stranger bound to another incident."""
    sample = SAMPLES[type_]
    about = sample.subject or sample.household or sample.actor
    return {
        "about-them": Viewer(
            roles, subject_id=about, household_id=sample.household or about, incident_id=INCIDENT
        ),
        "same-incident": Viewer(roles, *STRANGER, incident_id=INCIDENT),
        "other-incident": Viewer(roles, *STRANGER, incident_id=OTHER_INCIDENT),
    }


def _expected_visible(seen: Seen | None, event: Event, who: str) -> bool:
    if seen is None:
        return False
    if seen.scope is Scope.ALL:
        return True
    if seen.scope is Scope.INCIDENT:
        return event.incident_id is None or who != "other-incident"
    return who == "about-them"


# --- the table is complete, and it is what the registry says -----------------------------------
def test_every_event_type_has_a_decision_for_every_role() -> None:
    undecided = sorted(set(REGISTRY) - set(DECISIONS))
    assert not undecided, (
        f"decide who sees {', '.join(undecided)}: add a row for all nine roles to DECISIONS"
    )
    stale = sorted(set(DECISIONS) - set(REGISTRY))
    assert not stale, f"DECISIONS names types that are not registered: {stale}"
    for type_, decided in DECISIONS.items():
        assert set(decided) == set(Role), type_
    assert set(SAMPLES) == set(REGISTRY), "add a sample event for every registered type"


@pytest.mark.parametrize("type_", sorted(REGISTRY))
def test_registry_audience_matches_the_decision(type_: str) -> None:
    etype = REGISTRY[type_]
    assert set(etype.audience) <= set(Role)
    for role in Role:
        registered = etype.audience.get(role)
        actual = (
            None
            if registered is None
            else Seen(registered.scope, registered.envelope, registered.hide)
        )
        assert actual == DECISIONS[type_][role], f"{type_} for {role}"


@pytest.mark.parametrize("type_", sorted(REGISTRY))
def test_fields_named_by_the_registry_exist(type_: str) -> None:
    etype = REGISTRY[type_]
    fields = set(etype.payload.model_fields)
    named = set(etype.secret_fields) | {f for seen in etype.audience.values() for f in seen.hide}
    named |= {f for f in (etype.subject_field, etype.household_field, etype.targets_field) if f}
    named |= {etype.households_only_field} if etype.households_only_field else set()
    assert named <= fields, f"{type_} names fields it does not have: {named - fields}"


# --- view_for does what the table says ----------------------------------------------------------
@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("type_", sorted(REGISTRY))
def test_view_for_follows_the_decision(type_: str, role: Role) -> None:
    event = _event(type_)
    seen = DECISIONS[type_][role]
    etype = REGISTRY[type_]
    for who, viewer in _viewers(type_, frozenset({role})).items():
        shown = view_for(event, etype, viewer)
        if not _expected_visible(seen, event, who):
            assert shown is None, f"{role} ({who}) must not see {type_}"
            continue
        assert shown is not None and seen is not None, f"{role} ({who}) must see {type_}"
        full = event.to_json()
        hidden = seen.hide | etype.secret_fields
        assert shown["payload"] == {k: v for k, v in event.payload.items() if k not in hidden}
        envelope = ("actor", "device", "location")
        if seen.envelope:
            assert {k: shown[k] for k in envelope} == {k: full[k] for k in envelope}
        else:
            assert all(shown[k] is None for k in envelope), shown
        rest = set(full) - {"payload", *envelope}
        assert {k: shown[k] for k in rest} == {k: full[k] for k in rest}


ROLE_SETS = [frozenset(c) for n in range(1, len(Role) + 1) for c in combinations(Role, n)]


@pytest.mark.parametrize("type_", sorted(REGISTRY))
def test_secrets_never_leave_for_any_set_of_roles(type_: str) -> None:
    event = _event(type_)
    for roles in ROLE_SETS:
        for viewer in _viewers(type_, roles).values():
            shown = view_for(event, REGISTRY[type_], viewer)
            if shown is not None:
                assert not SECRETS & set(shown["payload"]), (type_, sorted(roles))


@pytest.mark.parametrize("type_", sorted(REGISTRY))
def test_households_never_see_the_squad_picture(type_: str) -> None:
    event = _event(type_)
    for roles in (
        frozenset({Role.RESIDENT}),
        frozenset({Role.GUEST}),
        frozenset({Role.RESIDENT, Role.GUEST}),
    ):
        for who, viewer in _viewers(type_, roles).items():
            shown = view_for(event, REGISTRY[type_], viewer)
            if type_ in NEVER_FOR_HOUSEHOLDS or type_.startswith("audit."):
                assert shown is None, (type_, who)
            if type_ == "sighting.reported" and who != "about-them":
                assert shown is None, "a resident sees only the sighting it reported"


def test_public_events_reach_residents_without_sender_or_place() -> None:
    for type_ in ("incident.opened", "incident.closed", "broadcast.sent", "site.configured"):
        shown = view_for(
            _event(type_), REGISTRY[type_], Viewer(frozenset({Role.RESIDENT}), HOME, HOME)
        )
        assert shown is not None, type_
        assert (shown["actor"], shown["device"], shown["location"]) == (None, None, None)
    site = view_for(
        _event("site.configured"),
        REGISTRY["site.configured"],
        Viewer(frozenset({Role.GUEST}), "g1", incident_id=INCIDENT),
    )
    assert site is not None and "plan" not in site["payload"]


def test_several_roles_see_through_the_most_capable() -> None:
    """A responder who lives in a household sees positions; a commander who also holds a
    household sees broadcasts with their sender."""
    position = _event("position.reported")
    both = Viewer(frozenset({Role.RESIDENT, Role.RESPONDER}), *STRANGER, incident_id=INCIDENT)
    assert view_for(position, REGISTRY["position.reported"], both) is not None
    broadcast = _event("broadcast.sent")
    shown = view_for(
        broadcast,
        REGISTRY["broadcast.sent"],
        Viewer(frozenset({Role.RESIDENT, Role.COMMANDER}), *STRANGER),
    )
    assert shown is not None and shown["actor"] == broadcast.actor
    # An admin who is also a resident still sees no positions (neither role does).
    admin_at_home = Viewer(frozenset({Role.ADMIN, Role.RESIDENT}), HOME, HOME)
    assert view_for(position, REGISTRY["position.reported"], admin_at_home) is None


def test_a_broadcast_reaches_the_households_it_is_for_and_says_nothing_of_the_others() -> None:
    to_all = _event("broadcast.sent")
    to_all = Event(**{**to_all.__dict__, "payload": {**to_all.payload, "household_ids": []}})
    targeted = _event("broadcast.sent")
    etype = REGISTRY["broadcast.sent"]
    home = Viewer(frozenset({Role.RESIDENT}), HOME, HOME)
    neighbour = Viewer(frozenset({Role.RESIDENT}), STRANGER[1], STRANGER[1])
    guest = Viewer(frozenset({Role.GUEST}), "g1", incident_id=INCIDENT)
    guest_elsewhere = Viewer(frozenset({Role.GUEST}), "g2", incident_id=OTHER_INCIDENT)
    assert view_for(targeted, etype, neighbour) is None
    assert view_for(targeted, etype, guest) is None
    shown = view_for(targeted, etype, home)
    assert shown is not None and "household_ids" not in shown["payload"]
    for viewer in (home, neighbour, guest):
        assert view_for(to_all, etype, viewer) is not None
    assert view_for(to_all, etype, guest_elsewhere) is None


def test_a_broadcast_that_tells_the_safe_word_reaches_households_and_never_a_guest() -> None:
    sent = _event("broadcast.sent")
    payload = {**sent.payload, "household_ids": [], "carries_safe_word": True}
    safe_word = Event(**{**sent.__dict__, "payload": payload})
    etype = REGISTRY["broadcast.sent"]
    home = Viewer(frozenset({Role.RESIDENT}), HOME, HOME)
    guest = Viewer(frozenset({Role.GUEST}), "g1", incident_id=INCIDENT)
    responder = Viewer(frozenset({Role.RESPONDER}), PERSON)
    assert view_for(safe_word, etype, guest) is None
    assert view_for(safe_word, etype, home) is not None
    assert view_for(safe_word, etype, responder) is not None
