"""The projection: applying events one by one equals a rebuild from the log, and a snapshot
at any point plus the events after it equals both (contracts §8).

Histories are generated with hypothesis: site configuration, people, households, codes,
enrollments, revocations, real incidents and drills opening and closing, muster calls, status
changes, positions (with device times out of order), sightings and their updates, check-ins,
broadcasts, orders and acknowledgements, audits. The same histories then go through the real
event store on SQLite and PostgreSQL.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helpers import open_store
from konenut.app.policies import CASUALTY
from konenut.bootstrap import policies_of
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import Event, NewEvent
from konenut.domain.ids import format_time, new_id, utcnow
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.state import SiteState
from konenut.store import schema
from konenut.store.eventstore import EventStore

LANGS = ["he", "ar", "en", "th", "ne", "ru", "am", "fr", "es"]
# Device times: up to 23 h old (offline reports) and up to 2 min ahead (clock drift).
OFFSETS = st.integers(min_value=-23 * 3600, max_value=120)
# Any text a log can keep (NUL characters and unpaired surrogates are refused).
CHARS = st.characters(codec="utf-8", exclude_characters="\x00")
TEXT = st.text(CHARS, max_size=40)
PHOTOS = ["a" * 64, "b" * 64, "c" * 64]  # sighting photo ids (SHA-256 hex)
NAME = st.text(CHARS, min_size=1, max_size=40).filter(lambda s: s.strip() != "")
HOME = st.none() | st.sampled_from(["12", "14", "W2"])  # a household's building, if any
LOCATION = st.fixed_dictionaries(
    {"lat": st.floats(-90, 90), "lon": st.floats(-180, 180)},
    optional={
        "accuracy_m": st.floats(0, 100_000),
        "heading_deg": st.floats(0, 359.99),
        "speed_mps": st.floats(0, 1_000),
    },
)
STAMP = format_time(datetime(2026, 3, 2, 12, tzinfo=UTC))


@dataclass
class Draft:
    """An event as generated: its time is an offset from whenever it is appended."""

    type: str
    payload: dict[str, Any]
    offset: int
    incident_id: str | None = None
    drill: bool = False
    actor: str | None = None
    location: dict[str, float] | None = None


@dataclass
class Model:
    """What exists so far, so each generated event refers to real things."""

    count: int = 0
    persons: list[str] = field(default_factory=list)
    households: list[str] = field(default_factory=list)
    open: dict[str, bool] = field(default_factory=dict)  # open incident -> drill
    sightings: dict[str, list[str]] = field(default_factory=dict)
    orders: dict[str, list[str]] = field(default_factory=dict)
    codes: list[dict[str, Any]] = field(default_factory=list)  # not yet used
    tokens: list[str] = field(default_factory=list)
    musters: dict[str, list[str]] = field(default_factory=dict)  # incident -> muster calls
    notifications: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # (id, person)
    assets: list[str] = field(default_factory=list)
    passes: list[str] = field(default_factory=list)
    volunteers: dict[str, list[str]] = field(default_factory=dict)  # incident -> volunteers
    hostages: dict[str, list[str]] = field(default_factory=dict)  # incident -> situations
    guests: dict[str, list[str]] = field(default_factory=dict)  # incident -> guests
    broadcasts: dict[str, list[str]] = field(default_factory=dict)  # incident -> broadcasts
    # incident -> (broadcast, delivery, household)
    deliveries: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    supplies: dict[str, list[str]] = field(default_factory=dict)  # incident -> requests
    tasks: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)  # (id, assignees)
    casualties: dict[str, list[str]] = field(default_factory=dict)  # incident -> casualties

    def new(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def secret_hash(self, prefix: str) -> str:
        return hashlib.sha256(self.new(prefix).encode()).hexdigest()

    def kinds(self) -> list[str]:
        kinds = [
            "site.configured",
            "household.added",
            "person.added",
            "device.enrolled",
            "incident.opened",
            "audit.access_denied",
            "audit.log_exported",
            "audit.registry_exported",
            "audit.inbound_rejected",
            "code_guessing.detected",
            "audit.liaison_viewed",
        ]
        if self.persons or self.households or self.open:
            kinds.append("enrollment.code_issued")
        if self.tokens:
            kinds.append("token.revoked")
        if self.households:
            kinds.append("household.updated")
        if self.persons:
            kinds.append("person.updated")
        kinds += ["escalation_policy.set", "asset.added"]
        if self.persons:
            kinds += ["contact_point.set", "push.subscribed", "push.unsubscribed"]
        if self.assets:
            kinds.append("asset.handed_over")
        if self.assets and self.persons and self.open:
            kinds.append("asset.requested")
        if self.persons and any(self.musters.get(i) for i in self.open):
            kinds += ["muster.seen", "notification.sent"]
        if any(self.notifications.get(i) for i in self.open):
            kinds += ["notification.delivered", "notification.failed"]
        if self.open:
            kinds += [
                "incident.closed",
                "muster.called",
                "responder.status_changed",
                "position.reported",
                "position.reported",
                "sighting.reported",
                "household.checked_in",
                "broadcast.sent",
                "order.sent",
                "accountability.recheck_set",
            ]
        if any(self.sightings.get(i) for i in self.open):
            kinds.append("sighting.updated")
        if any(self.orders.get(i) for i in self.open):
            kinds.append("order.acknowledged")
        if self.open:
            kinds += ["hostage.reported", "audit.sitrep_produced", "audit.sitrep_sent"]
        if any(self.hostages.get(i) for i in self.open):
            kinds.append("hostage.updated")
        if self.open:
            kinds.append("pass.issued")
        if self.passes:
            kinds += ["pass.revoked", "audit.pass_redeemed"]
        if self.passes and self.open:
            kinds.append("volunteer.joined")
        if any(self.volunteers.get(i) for i in self.open):
            kinds += ["volunteer.approved", "volunteer.declined"]
        if self.open:
            kinds.append("guest.checked_in")
        if self.open:
            kinds += ["challenge.set", "safe_word.set"]
        if self.open:
            kinds += ["caution.raised", "caution.raised", "responder.entering", "caution.failed"]
            kinds.append("intruder.cleared")
        if self.households and any(self.guests.get(i) for i in self.open):
            kinds.append("guest.merged")
        if any(self.guests.get(i) for i in self.open):
            kinds.append("guests.voided")
        if self.households and any(self.broadcasts.get(i) for i in self.open):
            kinds += ["broadcast.delivery_sent", "broadcast.read"]
        if any(self.deliveries.get(i) for i in self.open):
            kinds.append("broadcast.delivery_settled")
        kinds.append("inventory.set")
        if self.open:
            kinds.append("supply.requested")
        if any(self.supplies.get(i) for i in self.open):
            kinds += ["supply.assigned", "supply.delivered", "supply.cancelled"]
        if self.open and self.persons:
            kinds.append("task.created")
        if any(self.tasks.get(i) for i in self.open):
            kinds += ["task.accepted", "task.completed", "task.failed"]
        if self.open:
            kinds.append("casualty.reported")
        if any(self.casualties.get(i) for i in self.open):
            kinds += [t for t in CASUALTY_KINDS if t != "casualty.reported"]
        return kinds


def _subject(draw: st.DrawFn, model: Model) -> tuple[str, str, list[str], str | None]:
    """(subject id, kind, roles, incident) of someone who may hold a device."""
    options = []
    if model.persons:
        options.append("person")
    if model.households:
        options.append("household")
    if model.open:
        options.append("pass")
    kind = draw(st.sampled_from(options or ["guest"]))
    if kind == "person":
        roles = draw(
            st.lists(
                st.sampled_from(["admin", "commander", "operator", "responder", "medic"]),
                min_size=1,
                max_size=3,
                unique=True,
            )
        )
        return draw(st.sampled_from(model.persons)), SubjectKind.PERSON.value, roles, None
    if kind == "household":
        return (
            draw(st.sampled_from(model.households)),
            SubjectKind.HOUSEHOLD.value,
            [Role.RESIDENT.value],
            None,
        )
    incident = draw(st.sampled_from(sorted(model.open))) if model.open else None
    pass_kind = draw(st.sampled_from(["guest", "volunteer", "liaison"]))
    return model.new("g"), pass_kind, [pass_kind], incident


MUSTER_KINDS = {
    "escalation_policy.set",
    "asset.added",
    "contact_point.set",
    "push.subscribed",
    "push.unsubscribed",
    "asset.handed_over",
    "asset.requested",
    "muster.seen",
    "notification.sent",
    "notification.delivered",
    "notification.failed",
}
STEPS = st.lists(
    st.fixed_dictionaries(
        {
            "channel": st.sampled_from(["push", "sms", "telegram", "voice", "deputy"]),
            "after_secs": st.integers(0, 3600),
        }
    ),
    min_size=1,
    max_size=5,
).map(lambda steps: sorted(steps, key=lambda step: step["after_secs"]))


def _asset_holder(draw: st.DrawFn, model: Model) -> dict[str, str | None]:
    """A holder by id, none, or by a ref (a person's id is their ref here) that may be nobody's
    yet: the asset becomes theirs when a person with that ref is added (issue 10, item 17)."""
    holder = draw(st.none() | st.sampled_from(model.persons)) if model.persons else None
    later = st.sampled_from([f"p{n}" for n in range(1, model.count + 8)])
    return {"holder_person_id": holder, "holder_ref": None if holder else draw(st.none() | later)}


def _muster_step(draw: st.DrawFn, model: Model, kind: str, offset: int, actor: str | None) -> Draft:
    """The muster's events (issue 4): policy, contacts, push, notification attempts, assets."""
    if kind == "escalation_policy.set":
        return Draft(kind, {"steps": draw(STEPS)}, offset, actor=actor)
    if kind == "asset.added":
        asset = model.new("a")
        model.assets.append(asset)
        payload = {"asset_id": asset, "ref": asset, "kind": "gate_key", "name": draw(NAME)}
        return Draft(kind, {**payload, **_asset_holder(draw, model)}, offset, actor=actor)
    if kind == "asset.handed_over":
        payload = {"asset_id": draw(st.sampled_from(model.assets)), **_asset_holder(draw, model)}
        return Draft(kind, payload, offset, actor=actor)
    person = draw(st.sampled_from(model.persons))
    if kind == "contact_point.set":
        address = draw(st.none() | st.sampled_from(["123456789", "-100987654", "@kinamon_one"]))
        payload = {"person_id": person, "channel": "telegram", "address": address}
        return Draft(kind, payload, offset, actor=actor)
    if kind in ("push.subscribed", "push.unsubscribed"):
        token = draw(st.sampled_from(["t-a", "t-b"]))  # few devices: re-subscriptions happen
        payload = {"person_id": person, "token_id": token}
        if kind == "push.subscribed":
            payload |= {"endpoint": f"https://push.example/{draw(NAME)}", "p256dh": "B" * 87}
            payload["auth"] = "A" * 22
        return Draft(kind, payload, offset, actor=person)
    if kind == "asset.requested":
        incident = draw(st.sampled_from(sorted(model.open)))
        payload = {"asset_id": draw(st.sampled_from(model.assets)), "person_id": person}
        return Draft(kind, payload, offset, incident, model.open[incident], actor)
    if kind in ("muster.seen", "notification.sent"):
        incident = draw(st.sampled_from(sorted(i for i in model.open if model.musters.get(i))))
        muster = draw(st.sampled_from(model.musters[incident]))
        if kind == "muster.seen":
            payload = {"muster_id": muster, "person_id": person}
            return Draft(kind, payload, offset, incident, model.open[incident], person)
        notification = model.new("n")
        model.notifications.setdefault(incident, []).append((notification, person))
        payload = {
            "notification_id": notification,
            "muster_id": muster,
            "person_id": person,
            "step": draw(st.integers(0, 4)),
            "channel": draw(st.sampled_from(["push", "sms", "telegram", "voice"])),
        }
        return Draft(kind, payload, offset, incident, model.open[incident], None)
    incident = draw(st.sampled_from(sorted(i for i in model.open if model.notifications.get(i))))
    notification, person = draw(st.sampled_from(model.notifications[incident]))
    payload = {"notification_id": notification, "person_id": person}
    if kind == "notification.failed":
        payload["reason"] = draw(NAME)
    return Draft(kind, payload, offset, incident, model.open[incident], None)


VOLUNTEER_KINDS = {
    "pass.issued",
    "pass.revoked",
    "audit.pass_redeemed",
    "volunteer.joined",
    "volunteer.approved",
    "volunteer.declined",
}


def _volunteer_step(
    draw: st.DrawFn, model: Model, kind: str, offset: int, actor: str | None
) -> Draft:
    """Standing passes and the volunteers who join by them (issue 4 item 8)."""
    if kind == "pass.issued":
        incident = draw(st.sampled_from(sorted(model.open)))
        issued = model.new("pass")
        model.passes.append(issued)
        payload = {
            "pass_id": issued,
            "purpose": "volunteer_join",
            "role": "volunteer",
            "incident_id": incident,
            "max_devices": draw(st.none() | st.integers(1, 5)),
            "expires_at": STAMP,
            "code_hash": model.secret_hash("pass-code"),
        }
        return Draft(kind, payload, offset, incident, model.open[incident], actor)
    if kind == "pass.revoked":
        payload = {"pass_id": draw(st.sampled_from(model.passes)), "reason": draw(TEXT)}
        return Draft(kind, payload, offset, actor=actor)
    if kind == "audit.pass_redeemed":
        payload = {
            "pass_id": draw(st.sampled_from(model.passes)),
            "purpose": "volunteer_join",
            "token_id": model.new("t"),
            "subject_id": model.new("v"),
            "subject_kind": "volunteer",
        }
        return Draft(kind, payload, offset, actor=payload["subject_id"])
    incident = draw(st.sampled_from(sorted(model.open)))
    if kind == "volunteer.joined":
        volunteer = model.new("v")
        model.volunteers.setdefault(incident, []).append(volunteer)
        payload = {
            "volunteer_id": volunteer,
            "pass_id": draw(st.sampled_from(model.passes)),
            "name": draw(NAME),
            "phone": draw(st.none() | st.just("+972501234567")),
            "affiliation": draw(st.sampled_from(["police", "army", "medic", "civilian", "other"])),
            "armed": draw(st.booleans()),
        }
        return Draft(kind, payload, offset, incident, model.open[incident], volunteer)
    incident = draw(st.sampled_from(sorted(i for i in model.open if model.volunteers.get(i))))
    payload = {"volunteer_id": draw(st.sampled_from(model.volunteers[incident]))}
    return Draft(kind, payload, offset, incident, model.open[incident], actor)


GUEST_KINDS = {"guest.checked_in", "guest.merged", "guests.voided"}


def _guest_step(draw: st.DrawFn, model: Model, kind: str, offset: int) -> Draft:
    """Guests by a poster: a new one or a known one checks in again; a merge (issue 5)."""
    if kind == "guest.checked_in":
        incident = draw(st.sampled_from(sorted(model.open)))
        known = model.guests.get(incident, [])
        if known and draw(st.booleans()):
            guest = draw(st.sampled_from(known))
        else:
            guest = model.new("guest")
            model.guests.setdefault(incident, []).append(guest)
        payload: dict[str, Any] = {
            "guest_id": guest,
            "building_ref": draw(st.none() | st.sampled_from(["12", "W2"])),
            "people_count": draw(st.integers(1, 9)),
            "language": draw(st.sampled_from(LANGS)),
            "phone": draw(st.none() | st.just("+66812345678")),
            "status": draw(st.sampled_from(["safe", "intruder", "need_medic"])),
        }
        payload = {k: v for k, v in payload.items() if v is not None}
        return Draft(kind, payload, offset, incident, model.open[incident], guest)
    incident = draw(st.sampled_from(sorted(i for i in model.open if model.guests.get(i))))
    if kind == "guests.voided":  # an operator voids a poster's guests
        voided = draw(st.lists(st.sampled_from(model.guests[incident]), min_size=1, unique=True))
        payload = {"pass_id": model.new("pass"), "guest_ids": voided}
        return Draft(kind, payload, offset, incident, model.open[incident], None)
    payload = {
        "guest_id": draw(st.sampled_from(model.guests[incident])),
        "household_id": draw(st.sampled_from(model.households)),
    }
    return Draft(kind, payload, offset, incident, model.open[incident], None)


BROADCAST_KINDS = {"broadcast.delivery_sent", "broadcast.delivery_settled", "broadcast.read"}


def _broadcast_step(draw: st.DrawFn, model: Model, kind: str, offset: int) -> Draft:
    """A broadcast's deliveries, their outcomes and the households that read it (issue 5)."""
    if kind == "broadcast.delivery_settled":
        incident = draw(st.sampled_from(sorted(i for i in model.open if model.deliveries.get(i))))
        broadcast, delivery, household = draw(st.sampled_from(model.deliveries[incident]))
        outcome = draw(st.sampled_from(["delivered", "failed"]))
        payload = {"broadcast_id": broadcast, "delivery_id": delivery, "household_id": household}
        payload |= {"outcome": outcome, "reason": draw(NAME) if outcome == "failed" else ""}
        return Draft(kind, payload, offset, incident, model.open[incident], None)
    incident = draw(st.sampled_from(sorted(i for i in model.open if model.broadcasts.get(i))))
    broadcast = draw(st.sampled_from(model.broadcasts[incident]))
    household = draw(st.sampled_from(model.households))
    payload = {"broadcast_id": broadcast, "household_id": household}
    if kind == "broadcast.read":
        return Draft(kind, payload, offset, incident, model.open[incident], household)
    delivery = model.new("d")
    model.deliveries.setdefault(incident, []).append((broadcast, delivery, household))
    payload |= {
        "delivery_id": delivery,
        "channel": draw(st.sampled_from(["push", "sms"])),
        "lang": draw(st.sampled_from(LANGS)),
    }
    return Draft(kind, payload, offset, incident, model.open[incident], None)


SUPPLY_TASK_KINDS = {
    "inventory.set",
    "supply.requested",
    "supply.assigned",
    "supply.delivered",
    "supply.cancelled",
    "task.created",
    "task.accepted",
    "task.completed",
    "task.failed",
}
AMMUNITION = st.sampled_from([("ammunition", "5.56"), ("ammunition", "9mm"), ("water", None)])


def _supply_task_step(
    draw: st.DrawFn, model: Model, kind: str, offset: int, actor: str | None
) -> Draft:
    """Supply requests in any order of steps (the fold does not judge them), the inventory
    they draw on, and tasks (issue 14)."""
    if kind == "inventory.set":
        item, calibre = draw(AMMUNITION)
        payload = {"kind": item, "quantity": draw(st.integers(0, 1000))}
        payload |= {"low_below": draw(st.integers(0, 500))}
        return Draft(kind, payload | ({"calibre": calibre} if calibre else {}), offset, actor=actor)
    if kind in ("supply.requested", "task.created"):
        incident = draw(st.sampled_from(sorted(model.open)))
    elif kind.startswith("supply."):
        incident = draw(st.sampled_from(sorted(i for i in model.open if model.supplies.get(i))))
    else:
        incident = draw(st.sampled_from(sorted(i for i in model.open if model.tasks.get(i))))
    drill = model.open[incident]
    if kind == "supply.requested":
        supply = model.new("s")
        model.supplies.setdefault(incident, []).append(supply)
        item, calibre = draw(AMMUNITION)
        payload = {"supply_id": supply, "kind": item, "quantity": draw(st.integers(1, 300))}
        payload |= {"urgency": "urgent"} | ({"calibre": calibre} if calibre else {})
        return Draft(kind, payload, offset, incident, drill, actor, draw(st.none() | LOCATION))
    if kind.startswith("supply."):
        payload = {"supply_id": draw(st.sampled_from(model.supplies[incident]))}
        if kind == "supply.assigned":
            payload["runner_person_id"] = draw(st.sampled_from(model.persons or ["p0"]))
        return Draft(kind, payload, offset, incident, drill, actor)
    if kind == "task.created":
        task = model.new("k")
        assignees = draw(st.lists(st.sampled_from(model.persons), min_size=1, max_size=2))
        model.tasks.setdefault(incident, []).append((task, assignees))
        payload = {"task_id": task, "title": draw(NAME), "assignee_ids": assignees}
        if draw(st.booleans()):
            payload["deadline"] = STAMP
        return Draft(kind, payload, offset, incident, drill, actor)
    task, assignees = draw(st.sampled_from(model.tasks[incident]))
    person = draw(st.sampled_from(assignees))
    payload = {"task_id": task, "person_id": person, "assignee_ids": assignees}
    return Draft(kind, payload, offset, incident, drill, person)


CASUALTY_KINDS = (
    "casualty.reported",
    "casualty.triaged",
    "casualty.treated",
    "casualty.assigned",
    "casualty.status_changed",
    "casualty.moved",
)


def _casualty_step(
    draw: st.DrawFn, model: Model, kind: str, offset: int, actor: str | None
) -> Draft:
    """Casualties and every step of theirs in any order (the fold does not judge them)."""
    if kind == "casualty.reported":
        incident = draw(st.sampled_from(sorted(model.open)))
        casualty = model.new("c")
        model.casualties.setdefault(incident, []).append(casualty)
        household = draw(st.none() | st.sampled_from(model.households or ["h0"]))
        payload = {
            "casualty_id": casualty,
            "tag": f"C-{model.count:02d}",
            "household_id": household,
        }
        payload |= {"count": draw(st.integers(1, 100)), "name": draw(st.none() | NAME)}
        location = draw(st.none() | LOCATION)
        return Draft(kind, payload, offset, incident, model.open[incident], actor, location)
    incident = draw(st.sampled_from(sorted(i for i in model.open if model.casualties.get(i))))
    payload = {"casualty_id": draw(st.sampled_from(model.casualties[incident]))}
    medic = draw(st.sampled_from(model.persons or ["p0"]))
    payload |= {
        "casualty.triaged": {"category": draw(st.sampled_from(["immediate", "minor", "dead"]))},
        "casualty.treated": {"treatment": "tourniquet", "applied_at": STAMP},
        "casualty.assigned": {"medic_id": medic, "medic_ids": [medic]},
        "casualty.status_changed": {"state": draw(st.sampled_from(["treating", "died"]))},
        "casualty.moved": {"collection_point_ref": "C1"},
    }[kind]
    return Draft(kind, payload, offset, incident, model.open[incident], actor)


def _step(draw: st.DrawFn, model: Model, kind: str) -> Draft:
    offset = draw(OFFSETS)
    actor = draw(st.sampled_from(model.persons)) if model.persons else None
    if kind in MUSTER_KINDS:
        return _muster_step(draw, model, kind, offset, actor)
    if kind in VOLUNTEER_KINDS:
        return _volunteer_step(draw, model, kind, offset, actor)
    if kind in GUEST_KINDS:
        return _guest_step(draw, model, kind, offset)
    if kind in BROADCAST_KINDS:
        return _broadcast_step(draw, model, kind, offset)
    if kind in SUPPLY_TASK_KINDS:
        return _supply_task_step(draw, model, kind, offset, actor)
    if kind in CASUALTY_KINDS:
        return _casualty_step(draw, model, kind, offset, actor)
    if kind == "site.configured":
        payload: dict[str, Any] = {
            "name": draw(NAME),
            "default_language": draw(st.sampled_from(LANGS)),
            "names": draw(st.dictionaries(st.sampled_from(LANGS), NAME, max_size=2)),
        }
        if draw(st.booleans()):
            payload["plan"] = {
                "type": "FeatureCollection",
                "features": [
                    {
                        "type": "Feature",
                        "properties": {"kind": "boundary", "ref": "b"},
                        "geometry": {
                            "type": "Polygon",
                            "coordinates": [
                                [[34.9, 30.4], [35.0, 30.4], [34.9, 30.5], [34.9, 30.4]]
                            ],
                        },
                    }
                ],
            }
        return Draft(kind, payload, offset, actor=actor)
    if kind == "household.added":
        household = model.new("h")
        model.households.append(household)
        return Draft(
            kind,
            {
                "household_id": household,
                "ref": household,
                "name": draw(NAME),
                "building_ref": draw(HOME),
                "safe_room": draw(st.sampled_from(["in_home", "shared_shelter", "none"])),
            },
            offset,
            actor=actor,
        )
    if kind == "household.updated":
        household = draw(st.sampled_from(model.households))
        payload = {
            "household_id": household,
            "ref": household,
            "name": draw(NAME),
            "safe_room": draw(st.sampled_from(["in_home", "shared_shelter", "none"])),
            "languages": draw(st.lists(st.sampled_from(LANGS), min_size=1, max_size=2)),
            "building_ref": draw(HOME),  # moved house, say
        }
        if draw(st.booleans()):
            payload["pets"] = draw(NAME)
        return Draft(kind, payload, offset, actor=actor)
    if kind == "person.updated":
        payload = {
            "person_id": (person := draw(st.sampled_from(model.persons))),
            "ref": person,
            "name": draw(NAME),
            "phone": draw(st.none() | st.sampled_from(["+972501234567", "+66812345678"])),
        }
        if model.households and draw(st.booleans()):
            payload["household_id"] = draw(st.sampled_from(model.households))
        return Draft(kind, payload, offset, actor=actor)
    if kind == "person.added":
        person = model.new("p")
        payload = {
            "person_id": person,
            "ref": person,
            "name": draw(NAME),
            "roles": draw(
                st.lists(st.sampled_from([r.value for r in Role]), max_size=3, unique=True)
            ),
            "callsign": draw(st.none() | NAME),
        }
        if model.households and draw(st.booleans()):
            payload["household_id"] = draw(st.sampled_from(model.households))
        model.persons.append(person)
        return Draft(kind, payload, offset, actor=actor)
    if kind == "enrollment.code_issued":
        subject, subject_kind, roles, incident = _subject(draw, model)
        code = {
            "code_id": model.new("c"),
            "code_hash": model.secret_hash("code"),
            "subject_id": subject,
            "subject_kind": subject_kind,
            "roles": roles,
            "incident_id": incident,
            "expires_at": STAMP,
            "token_expires_at": draw(st.none() | st.just(STAMP)),
        }
        model.codes.append(code)
        return Draft(kind, code, offset, actor=actor)
    if kind == "device.enrolled":
        token = model.new("t")
        model.tokens.append(token)
        payload = {
            "token_id": token,
            "token_hash": model.secret_hash("token"),
            "device_name": draw(TEXT.map(lambda s: s[:100])),
        }
        if model.codes and draw(st.booleans()):
            code = model.codes.pop(draw(st.integers(0, len(model.codes) - 1)))
            payload.update(
                {
                    k: code[k]
                    for k in ("subject_id", "subject_kind", "roles", "incident_id", "code_id")
                }
            )
            payload["expires_at"] = code["token_expires_at"]
        else:
            subject, subject_kind, roles, incident = _subject(draw, model)
            payload.update(
                {
                    "subject_id": subject,
                    "subject_kind": subject_kind,
                    "roles": roles,
                    "incident_id": incident,
                }
            )
        if payload["subject_kind"] == "household":
            payload["household_id"] = payload["subject_id"]
        return Draft(
            kind,
            {k: v for k, v in payload.items() if v is not None},
            offset,
            actor=payload["subject_id"],
        )
    if kind == "token.revoked":
        return Draft(
            kind,
            {"token_id": draw(st.sampled_from(model.tokens)), "reason": draw(TEXT)},
            offset,
            actor=actor,
        )
    if kind == "incident.opened":
        incident = model.new("i")
        real_open = any(not drill for drill in model.open.values())
        drill = True if real_open else draw(st.booleans())
        model.open[incident] = drill
        return Draft(
            kind,
            {
                "incident_id": incident,
                "ref": incident,
                "title": draw(NAME),
                "kind": draw(st.sampled_from(["hostile_infiltration", "fire"])),
            },
            offset,
            incident_id=incident,
            drill=drill,
            actor=actor,
        )
    if kind in (
        "audit.access_denied",
        "audit.log_exported",
        "audit.registry_exported",
        "audit.inbound_rejected",
        "code_guessing.detected",
        "audit.liaison_viewed",
    ):
        payload = {
            "audit.access_denied": {"operation": "list_people", "reason": draw(TEXT)},
            "audit.log_exported": {"event_count": draw(st.integers(0, 10_000))},
            "audit.liaison_viewed": {"token_id": model.new("t")},
            "audit.registry_exported": {"format": "xlsx", "households": 1, "people": 3},
            "audit.inbound_rejected": {
                "channel": "sms",
                "sender": "•••567",
                "reason": draw(st.sampled_from(["unknown sender", "not an answer"])),
            },
            "code_guessing.detected": {
                "code_space": draw(st.sampled_from(["enrollment_code", "pass"])),
                "failures": draw(st.integers(1, 10_000)),
                "window_secs": 60,
            },
        }[kind]
        return Draft(kind, payload, offset, actor=actor)

    # Everything else happens inside an open incident.
    incident = draw(st.sampled_from(sorted(model.open)))
    drill = model.open[incident]

    def inside(
        payload: dict[str, Any], location: dict[str, float] | None = None, who: str | None = actor
    ) -> Draft:
        return Draft(kind, payload, offset, incident, drill, who, location)

    if kind == "incident.closed":
        del model.open[incident]
        return inside({"incident_id": incident, "summary": draw(TEXT)})
    if kind == "muster.called":
        muster = model.new("m")
        model.musters.setdefault(incident, []).append(muster)
        return inside(
            {
                "muster_id": muster,
                "rally_point_ref": "R1",
                "targets": draw(st.lists(st.sampled_from(model.persons), max_size=3))
                if model.persons
                else [],
            }
        )
    if kind == "responder.status_changed":
        person = draw(st.sampled_from(model.persons)) if model.persons else model.new("p")
        return inside(
            {
                "person_id": person,
                "status": draw(
                    st.sampled_from(["coming", "cannot", "en_route", "in_position", "wounded"])
                ),
                "eta_secs": draw(st.none() | st.integers(0, 3600)),
            },
            draw(st.none() | LOCATION),
            person,
        )
    if kind == "position.reported":
        # Few subjects, so late reports about the same unit are common.
        subject = draw(st.sampled_from(["u1", "u2", *model.persons[:2]]))
        return inside(
            {"subject_id": subject, "callsign": draw(st.none() | NAME)}, draw(LOCATION), subject
        )
    if kind == "sighting.reported":
        sighting = model.new("s")
        model.sightings.setdefault(incident, []).append(sighting)
        return inside(
            {
                "sighting_id": sighting,
                "category": draw(st.sampled_from(["hostile", "unknown", "friendly_unknown"])),
                "count": draw(st.integers(1, 500)),
                "armed": draw(st.none() | st.booleans()),
                "text": draw(TEXT),
                "direction_deg": draw(st.none() | st.floats(0, 359.99)),
                # Few distinct photos, so merges fold shared ones together.
                "photo_ids": draw(st.lists(st.sampled_from(PHOTOS), max_size=2, unique=True)),
            },
            draw(LOCATION),
        )
    if kind == "sighting.updated":
        incident = draw(st.sampled_from(sorted(i for i in model.open if model.sightings.get(i))))
        sightings = model.sightings[incident]
        payload = {
            "sighting_id": draw(st.sampled_from(sightings)),
            "status": draw(
                st.sampled_from(["confirmed", "dismissed", "moved", "neutralised", "merged"])
            ),
            "count": draw(st.none() | st.integers(1, 500)),
            "note": draw(TEXT),
        }
        if payload["status"] == "merged":
            payload["merged_into"] = draw(st.sampled_from(sightings))
        return Draft(
            kind,
            {k: v for k, v in payload.items() if v is not None},
            offset,
            incident,
            model.open[incident],
            actor,
            draw(st.none() | LOCATION),
        )
    if kind == "household.checked_in":
        household = draw(st.sampled_from(model.households)) if model.households else model.new("h")
        return inside(
            {
                "household_id": household,
                "status": draw(
                    st.sampled_from(["safe", "need_medic", "intruder", "smoke", "not_home"])
                ),
                "people_count": draw(st.none() | st.integers(0, 500)),
                "text": draw(TEXT),
                "injured_count": draw(st.none() | st.integers(1, 500)),
                "severity": draw(st.sampled_from([None, "minor", "serious", "critical"])),
            },
            who=household,
        )
    if kind == "broadcast.sent":
        broadcast = model.new("b")
        model.broadcasts.setdefault(incident, []).append(broadcast)
        return inside(
            {
                "broadcast_id": broadcast,
                "texts": draw(
                    st.dictionaries(st.sampled_from(LANGS), NAME, min_size=1, max_size=2)
                ),
                "household_ids": draw(st.lists(st.sampled_from(model.households), max_size=2))
                if model.households
                else [],
            }
        )
    if kind == "accountability.recheck_set":
        return inside({"every_mins": draw(st.integers(0, 240))})
    if kind == "audit.sitrep_produced":
        return inside(
            {"format": draw(st.sampled_from(["html", "pdf", "text", "png"])), "lang": "he"}
        )
    if kind == "audit.sitrep_sent":
        sent = draw(st.booleans())
        return inside({"channel": "sms", "to": "•••567", "lang": "en", "sent": sent})
    if kind == "hostage.reported":
        situation = model.new("x")
        model.hostages.setdefault(incident, []).append(situation)
        households = st.sampled_from(model.households) if model.households else st.none()
        household = draw(st.none() | households)
        return inside(
            {
                "situation_id": situation,
                "household_id": household,
                "building_ref": draw(st.sampled_from(["31", "W2"])),
                "people_inside": draw(st.none() | st.integers(0, 500)),
                "attackers_inside": draw(st.none() | st.integers(0, 500)),
                "text": draw(TEXT),
            }
        )
    if kind == "hostage.updated":
        incident = draw(st.sampled_from(sorted(i for i in model.open if model.hostages.get(i))))
        return Draft(
            kind,
            {
                "situation_id": draw(st.sampled_from(model.hostages[incident])),
                "text": draw(TEXT),
                "people_inside": draw(st.none() | st.integers(0, 500)),
                "status": draw(st.sampled_from(["ongoing", "resolved"])),
            },
            offset,
            incident,
            model.open[incident],
            "u1",
        )
    if kind == "challenge.set":
        pair = draw(st.lists(st.sampled_from(["olive", "river", "זית", "נהר"]), min_size=2,
                             max_size=2, unique=True))  # fmt: skip
        grace = draw(st.integers(0, 60))
        return inside({"challenge": pair[0], "password": pair[1], "grace_mins": grace})
    if kind == "safe_word.set":
        return inside({"word": draw(st.sampled_from(["lemon", "לימון"])), "lang": "en"})
    if kind == "caution.raised":
        # Few keys and persons, so repeats within and after the window are common.
        to = draw(
            st.lists(st.sampled_from(["u1", "u2", *model.persons[:2]]), min_size=1, max_size=3)
        )
        civilians = draw(
            st.sampled_from([[], [{"building_ref": "12", "people": 2, "status": "safe"}]])
        )
        return inside(
            {
                "caution_id": model.new("k"),
                "kind": draw(st.sampled_from(["near_civilians", "near_friendly", "converging"])),
                "key": draw(st.sampled_from(["near:s1", "near:intruder:12:t", "converge:u1,u2"])),
                "to_person_ids": to,
                "civilians": civilians,
            }
        )
    if kind == "responder.entering":
        return inside({"person_id": "u1", "building_ref": draw(st.sampled_from(["14", "W2"]))})
    if kind == "caution.failed":
        return inside(
            {"reason": "StoreUnavailable", "triggers": ["position.reported"], "failures": 1}
        )
    if kind == "intruder.cleared":
        return inside({"building_ref": draw(st.sampled_from(["12", "W2"]))})
    if kind == "order.sent":
        order = model.new("o")
        model.orders.setdefault(incident, []).append(order)
        to = draw(st.lists(st.sampled_from(model.persons), max_size=3)) if model.persons else []
        teams = draw(st.lists(st.sampled_from(["north", "south"]), max_size=2, unique=True))
        return inside({"order_id": order, "text": draw(NAME), "to_person_ids": to,
                       "to_teams": teams})  # fmt: skip
    assert kind == "order.acknowledged", kind
    incident = draw(st.sampled_from(sorted(i for i in model.open if model.orders.get(i))))
    person = draw(st.sampled_from(["u1", *model.persons[:3]]))
    return Draft(
        kind,
        {"order_id": draw(st.sampled_from(model.orders[incident])), "person_id": person},
        offset,
        incident,
        model.open[incident],
        person,
    )


@st.composite
def histories(draw: st.DrawFn, max_size: int = 60) -> list[Draft]:
    model = Model()
    drafts = []
    for _ in range(draw(st.integers(1, max_size))):
        draft = _step(draw, model, draw(st.sampled_from(model.kinds())))
        # Exactly what the store would keep: the registry's own validation and normal form.
        draft.payload = REGISTRY[draft.type].validate(draft.payload)
        drafts.append(draft)
    return drafts


def test_histories_reach_every_event_type() -> None:
    """The generator knows every registered type (a new type must be added to it)."""
    generated = {k for kind_list in (Model().kinds(),) for k in kind_list}
    model = Model(
        persons=["p"],
        households=["h"],
        open={"i": False},
        sightings={"i": ["s"]},
        orders={"i": ["o"]},
        tokens=["t"],
        musters={"i": ["m"]},
        notifications={"i": [("n", "p")]},
        assets=["a"],
        passes=["pass"],
        volunteers={"i": ["v"]},
        hostages={"i": ["x"]},
        guests={"i": ["g"]},
        broadcasts={"i": ["b"]},
        deliveries={"i": [("b", "d", "h")]},
        supplies={"i": ["s"]},
        tasks={"i": [("k", ["p"])]},
        casualties={"i": ["c"]},
    )
    generated |= set(model.kinds())
    assert generated == set(REGISTRY), sorted(set(REGISTRY) ^ generated)


# --- pure: one by one, rebuild, snapshots ------------------------------------------------------
NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def _events(drafts: list[Draft]) -> list[Event]:
    return [
        Event(
            site_id="site",
            seq=seq,
            id=new_id(),
            type=d.type,
            version=REGISTRY[d.type].version,
            incident_id=d.incident_id,
            occurred_at=NOW + timedelta(seconds=d.offset),
            recorded_at=NOW + timedelta(milliseconds=seq),
            actor=d.actor,
            device=None,
            location=d.location,
            payload=d.payload,
            drill=d.drill,
        )
        for seq, d in enumerate(drafts, start=1)
    ]


def _same(a: SiteState, b: SiteState) -> None:
    """Equal states: every field, and the lookups kept beside them (secret hashes; who lives
    and hides in which building, the plan's grid)."""
    assert a.model_dump() == b.model_dump()
    assert a == b  # pydantic compares the private lookups too
    for token in a.tokens.values():
        assert b.token_by_hash(token.token_hash) == token
    for code in a.codes.values():
        assert b.code_by_hash(code.code_hash) == code


def _through_json(state: SiteState) -> dict[str, Any]:
    """A snapshot as the database gives it back."""
    data: dict[str, Any] = json.loads(json.dumps(state.snapshot()))
    return data


@settings(max_examples=50, deadline=None)
@given(histories())
def test_one_by_one_equals_rebuild_and_any_snapshot_plus_tail(drafts: list[Draft]) -> None:
    events = _events(drafts)
    live = SiteState(site_id="site")
    snapshots = [_through_json(live)]
    for event in events:
        live.apply(event)
        snapshots.append(_through_json(live))
    assert live.seq == len(events)

    rebuilt = SiteState(site_id="site")
    rebuilt.apply_all(events)
    _same(rebuilt, live)

    for cut, snapshot in enumerate(snapshots):
        restored = SiteState.from_snapshot(snapshot)
        assert restored is not None and restored.seq == cut
        assert restored.model_dump() == snapshot["state"]  # the snapshot is the state then
        restored.apply_all(events[cut:])
        _same(restored, live)


def test_snapshot_of_another_state_version_is_ignored() -> None:
    state = SiteState(site_id="site")
    assert SiteState.from_snapshot({**state.snapshot(), "version": -1}) is None


def test_events_out_of_seq_order_are_refused() -> None:
    drafts = [Draft("audit.log_exported", {"event_count": 1}, 0)] * 2
    first, second = _events(drafts)
    state = SiteState(site_id="site")
    with pytest.raises(ValueError, match="expected seq 1"):
        state.apply(second)
    state.apply(first)
    with pytest.raises(ValueError, match="expected seq 2"):
        state.apply(first)


def test_a_late_position_does_not_move_a_unit_back_in_time() -> None:
    opened = Draft(
        "incident.opened", {"incident_id": "i1", "ref": "1", "title": "x", "kind": "fire"}, 0, "i1"
    )
    newer = Draft(
        "position.reported",
        {"subject_id": "u1", "source": "app"},
        -60,
        "i1",
        location={"lat": 30.5, "lon": 34.9},
    )
    older = Draft(
        "position.reported",
        {"subject_id": "u1", "source": "app"},
        -3600,
        "i1",
        location={"lat": 30.1, "lon": 34.1},
    )
    state = SiteState(site_id="site")
    state.apply_all(_events([opened, newer, older]))
    position = state.incidents["i1"].positions["u1"]
    assert position.location == {"lat": 30.5, "lon": 34.9} and position.seq == 2


# --- through the real store, SQLite and PostgreSQL -----------------------------------------------
@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'konenut.db'}"
    else:
        yield request.getfixturevalue("fresh_postgres_url")


def _new_events(drafts: list[Draft]) -> list[NewEvent]:
    now = utcnow()
    return [
        NewEvent(
            type=d.type,
            payload=d.payload,
            occurred_at=now + timedelta(seconds=d.offset),
            actor=d.actor,
            incident_id=d.incident_id,
            location=d.location,
            drill=d.drill,
        )
        for d in drafts
    ]


def _append(store: EventStore, site: str, drafts: list[Draft], sizes: list[int]) -> None:
    """Append in commands of several events each (each command is atomic)."""
    start = 0
    for size in [*sizes, len(drafts)]:
        chunk = drafts[start : start + max(size, 1)]
        if not chunk:
            break
        head = store.head(site)
        appended = store.append(site, _new_events(chunk))
        assert [e.seq for e in appended] == list(range(head + 1, head + 1 + len(chunk)))
        start += len(chunk)


def _snapshot_seq(store: EventStore, site: str) -> int | None:
    s = schema.snapshots.c
    with store.reader_engine.connect() as connection:
        seq = connection.execute(sa.select(s.seq).where(s.site_id == site)).scalar()
    return None if seq is None else int(seq)


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    drafts=histories(max_size=40),
    cut=st.integers(0, 40),
    sizes=st.lists(st.integers(1, 6), max_size=20),
)
def test_store_projection_equals_rebuild_and_restart(
    database_url: str, drafts: list[Draft], cut: int, sizes: list[int]
) -> None:
    site = new_id()  # one site per example: examples share the database
    cut = min(cut, len(drafts))
    store = open_store(database_url)
    # The generated history is the whole log: no casualty opened by a generated check-in.
    policies_of(store).unbind(CASUALTY)
    restarted: EventStore | None = None
    try:
        _append(store, site, drafts[:cut], sizes)
        _same(store.rebuild(site), store.state(site))
        store.write_snapshot(site)
        _append(store, site, drafts[cut:], sizes)
        live = store.state(site)
        assert live.seq == store.head(site) == len(drafts)
        _same(store.rebuild(site), live)
        stored = store.read(site)
        assert [(e.type, e.payload, e.location, e.drill) for e in stored] == [
            (d.type, d.payload, d.location, d.drill) for d in drafts
        ]

        restarted = open_store(database_url)  # start(): the snapshot, then the tail
        assert _snapshot_seq(restarted, site) == cut
        _same(restarted.state(site), live)
    finally:
        store.close()
        if restarted is not None:
            restarted.close()
