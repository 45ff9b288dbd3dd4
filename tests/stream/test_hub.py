"""The stream hub without sockets: catch-up from any `since`, coalescing, resync, role filter.

A hub over an in-memory log (the `read` a store would give it) and clients whose sinks record
frames. Everything runs on a real asyncio loop; nothing of the hub is mocked.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from itertools import count
from typing import Any

import orjson
import pytest

from konenut.app.broadcaster import broadcast_counts
from konenut.bus import hub as hub_module
from konenut.bus.hub import (
    CLOSE_IDLE,
    CLOSE_UNAUTHORISED,
    Entry,
    Span,
    StreamClient,
    StreamHub,
    StreamLimits,
)
from konenut.bus.local import LocalBus
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import Event, Viewer, view_for
from konenut.domain.roles import Role
from konenut.domain.state import SiteState

SITE = "site"
INCIDENT, OTHER_INCIDENT = "inc-1", "inc-2"
HOME, OTHER_HOME = "hh-cohen", "hh-levi"  # a resident token's subject is its household
GUEST = "g-1"
WHEN = datetime(2026, 1, 1, tzinfo=UTC)
HASH = "ab" * 32
HERE = {"lat": 30.4301, "lon": 34.9702}
PLAN = {"type": "FeatureCollection", "features": []}

VIEWERS: dict[Role, Viewer] = {
    Role.ADMIN: Viewer(frozenset({Role.ADMIN}), subject_id="p-admin"),
    Role.COMMANDER: Viewer(frozenset({Role.COMMANDER}), subject_id="p-commander"),
    Role.OPERATOR: Viewer(frozenset({Role.OPERATOR}), subject_id="p-operator"),
    Role.RESPONDER: Viewer(frozenset({Role.RESPONDER}), subject_id="p-responder",
                           household_id=OTHER_HOME),
    Role.MEDIC: Viewer(frozenset({Role.MEDIC}), subject_id="p-medic"),
    Role.RESIDENT: Viewer(frozenset({Role.RESIDENT}), subject_id=HOME, household_id=HOME),
    Role.GUEST: Viewer(frozenset({Role.GUEST}), subject_id=GUEST, incident_id=INCIDENT),
    Role.VOLUNTEER: Viewer(frozenset({Role.VOLUNTEER}), subject_id="v-1", incident_id=INCIDENT),
    Role.LIAISON: Viewer(frozenset({Role.LIAISON}), subject_id="l-1", incident_id=INCIDENT),
}


def sample_payload(
    type_: str, subject: str, household: str, incident: str | None
) -> dict[str, Any]:
    """A payload of each registered type, about `subject` / `household`."""
    return {
        "site.configured": {"name": "Tel Kinamon", "plan": PLAN},
        "person.added": {"person_id": subject, "ref": "p1", "name": "Yael",
                         "household_id": household},
        "household.added": {"household_id": household, "ref": "31", "name": "Cohen"},
        "person.updated": {"person_id": subject, "ref": "p1", "name": "Yael",
                           "household_id": household},
        "household.updated": {"household_id": household, "ref": "31", "name": "Cohen"},
        "enrollment.code_issued": {"code_id": "c1", "code_hash": HASH, "subject_id": subject,
                                   "subject_kind": "person", "roles": ["responder"],
                                   "expires_at": "2026-01-02T00:00:00Z"},
        "device.enrolled": {"token_id": "t1", "token_hash": HASH, "subject_id": subject,
                            "subject_kind": "person", "roles": ["responder"],
                            "household_id": household},
        "token.revoked": {"token_id": "t1", "reason": "lost"},
        "incident.opened": {"incident_id": incident, "ref": "1", "title": "Infiltration"},
        "incident.closed": {"incident_id": incident, "summary": "over"},
        "muster.called": {"muster_id": "m1", "rally_point_ref": "R1"},
        "responder.status_changed": {"person_id": subject, "status": "coming"},
        "position.reported": {"subject_id": subject, "callsign": "alpha-1"},
        "sighting.reported": {"sighting_id": "s1", "category": "hostile", "count": 2},
        "sighting.updated": {"sighting_id": "s1", "status": "confirmed"},
        "household.checked_in": {"household_id": household, "status": "safe"},
        "broadcast.sent": {"broadcast_id": "b1", "texts": {"en": "Stay inside"},
                           **({"household_ids": [household]} if household else {})},
        "order.sent": {"order_id": "o1", "text": "Hold gate 3"},
        "challenge.set": {"challenge": "olive", "password": "river", "lang": "en"},
        "safe_word.set": {"word": "lemon", "lang": "en"},
        "caution.raised": {"caution_id": "k1", "kind": "near_friendly", "key": "near:s1:",
                           "sighting_id": "s1", "to_person_ids": [subject]},
        "responder.entering": {"person_id": subject, "building_ref": "14"},
        "caution.failed": {"reason": "InvalidEvent: invalid payload",
                           "triggers": ["sighting.reported"], "failures": 1},
        "intruder.cleared": {"building_ref": "31", "text": "two survivors"},
        "broadcast.delivery_sent": {"broadcast_id": "b1", "delivery_id": "d1",
                                    "household_id": household or "h1", "channel": "sms",
                                    "lang": "th"},
        "broadcast.delivery_settled": {"broadcast_id": "b1", "delivery_id": "d1",
                                       "household_id": household or "h1", "outcome": "delivered"},
        "broadcast.read": {"broadcast_id": "b1", "household_id": household or "h1"},
        "accountability.recheck_set": {"every_mins": 30},
        "order.acknowledged": {"order_id": "o1", "person_id": subject},
        "audit.access_denied": {"operation": "list_people", "reason": "not allowed"},
        "audit.log_exported": {"event_count": 3},
        "audit.liaison_viewed": {"token_id": "t-liaison", "pass_id": "pass1"},
        "audit.registry_exported": {"format": "csv", "households": 2, "people": 5},
        "pass.issued": {"pass_id": "pass1", "purpose": "volunteer_join", "role": "volunteer",
                        "incident_id": incident, "code_hash": HASH},
        "pass.revoked": {"pass_id": "pass1"},
        "volunteer.joined": {"volunteer_id": subject, "pass_id": "pass1", "name": "Avi",
                             "phone": "+972501234567", "affiliation": "police", "armed": True},
        "volunteer.approved": {"volunteer_id": subject},
        "volunteer.declined": {"volunteer_id": subject},
        "audit.pass_redeemed": {"pass_id": "pass1", "purpose": "volunteer_join",
                                "token_id": "t9", "subject_id": subject,
                                "subject_kind": "volunteer"},
        "guest.checked_in": {"guest_id": subject, "building_ref": "W2", "people_count": 3,
                             "language": "th", "phone": "+66812345678"},
        "guest.merged": {"guest_id": subject, "household_id": household or "hh1"},
        "guests.voided": {"pass_id": "pass1", "guest_ids": [subject]},
        "audit.inbound_rejected": {"channel": "sms", "sender": "•••567",
                                   "reason": "unknown sender"},
        "muster.seen": {"muster_id": "m1", "person_id": subject},
        "escalation_policy.set": {"steps": [{"channel": "push", "after_secs": 0}]},
        "contact_point.set": {"person_id": subject, "channel": "telegram",
                              "address": "123456789"},
        "push.subscribed": {"person_id": subject, "token_id": "t1",
                            "endpoint": "https://push.example.net/s/1", "p256dh": "B" * 87,
                            "auth": "A" * 22},
        "push.unsubscribed": {"person_id": subject, "token_id": "t1"},
        "notification.sent": {"notification_id": "n1", "muster_id": "m1", "person_id": subject,
                              "step": 0, "channel": "push"},
        "notification.delivered": {"notification_id": "n1", "person_id": subject},
        "notification.failed": {"notification_id": "n1", "person_id": subject,
                                "reason": "no SMS gateway configured"},
        "asset.added": {"asset_id": "a1", "ref": "key-3", "kind": "gate_key",
                        "name": "Gate 3 key"},
        "asset.handed_over": {"asset_id": "a1", "holder_person_id": subject},
        "asset.requested": {"asset_id": "a1", "person_id": subject},
        "hostage.reported": {"situation_id": "x1", "household_id": household,
                             "building_ref": "31", "people_inside": 3},
        "hostage.updated": {"situation_id": "x1", "text": "phone contact", "status": "ongoing"},
        "code_guessing.detected": {"code_space": "enrollment_code", "failures": 300,
                                   "window_secs": 60},
        **{type_: {"casualty_id": "c1", "household_id": household or None,
                   "medic_ids": [subject], **fields} for type_, fields in {
            "casualty.reported": {"tag": "C-01", "name": "Yael", "text": "leg"},
            "casualty.triaged": {"category": "immediate", "injuries": ["leg"]},
            "casualty.treated": {"treatment": "tourniquet",
                                 "applied_at": "2026-01-01T00:00:00.000Z"},
            "casualty.assigned": {"medic_id": subject},
            "casualty.status_changed": {"state": "treating"},
            "casualty.moved": {"collection_point_ref": "C1"},
        }.items()},
        "supply.requested": {"supply_id": "s1", "kind": "ammunition", "calibre": "5.56",
                             "quantity": 120},
        "supply.assigned": {"supply_id": "s1", "runner_person_id": subject},
        "supply.delivered": {"supply_id": "s1"},
        "supply.cancelled": {"supply_id": "s1", "text": "found some"},
        "inventory.set": {"kind": "ammunition", "calibre": "5.56", "quantity": 500,
                          "low_below": 100},
        "task.created": {"task_id": "k1", "title": "Open gate 3", "assignee_ids": [subject]},
        **{type_: {"task_id": "k1", "person_id": subject, "assignee_ids": [subject]}
           for type_ in ("task.accepted", "task.completed", "task.failed")},
        "audit.sitrep_produced": {"format": "pdf", "lang": "he"},
        "audit.sitrep_sent": {"channel": "sms", "to": "•••567", "lang": "en", "sent": True,
                              "detail": "200"},
    }[type_]


def test_every_registered_type_has_a_sample() -> None:
    for type_ in REGISTRY:
        assert sample_payload(type_, "p", "h", INCIDENT) is not None  # KeyError for a new type


# --- a log, a hub over it, sinks that record -----------------------------------------------------
class Log:
    """An in-memory site log that hands out seqs, like the store."""

    def __init__(self) -> None:
        self.events: list[Event] = []
        self._ids = count(1)

    @property
    def head(self) -> int:
        return self.events[-1].seq if self.events else 0

    def add(self, type_: str, payload: dict[str, Any], *, incident: str | None = INCIDENT,
            actor: str | None = "p-commander") -> Event:
        event = Event(
            site_id=SITE, seq=self.head + 1, id=f"e{next(self._ids)}", type=type_, version=1,
            incident_id=incident if REGISTRY[type_].requires_incident else None,
            occurred_at=WHEN, recorded_at=WHEN, actor=actor, device="t-device",
            location=HERE if REGISTRY[type_].requires_location else None,
            payload=payload, drill=False,
        )
        self.events.append(event)
        return event

    async def read(self, since: int, limit: int) -> list[Event]:
        return [e for e in self.events if e.seq > since][:limit]


def limits(**changes: Any) -> StreamLimits:
    base = dict(buffer_events=64, max_replay_events=1_000, heartbeat_secs=25.0,
                heartbeat_jitter_secs=5.0, idle_timeout_secs=75.0, sweep_secs=3_600.0)
    return StreamLimits(**{**base, **changes})


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


def make_hub(log: Log, *, revoked: dict[str, str] | None = None, clock: Clock | None = None,
             **limit_changes: Any) -> StreamHub:
    refused = revoked if revoked is not None else {}
    return StreamHub(SITE, read=log.read, latest_seq=lambda: log.head,
                     authorise=refused.get, limits=limits(**limit_changes), clock=clock)


class Sink:
    """Frames as the client would parse them; `hold()` makes the next send wait."""

    def __init__(self) -> None:
        self.raw: list[str] = []
        self.closed: tuple[int, str] | None = None
        self._gate: asyncio.Event | None = None

    @property
    def frames(self) -> list[dict[str, Any]]:
        return [orjson.loads(frame) for frame in self.raw]

    @property
    def events(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if "." in f["type"]]

    @property
    def controls(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if "." not in f["type"]]

    def hold(self) -> None:
        self._gate = asyncio.Event()

    def release(self) -> None:
        assert self._gate is not None
        self._gate.set()
        self._gate = None

    async def send(self, frame: str) -> None:
        if self._gate is not None:
            await self._gate.wait()
        self.raw.append(frame)

    async def close(self, code: int, reason: str) -> None:
        self.closed = (code, reason)


async def settle() -> None:
    """Let every task the hub started run to completion."""
    for _ in range(50):
        await asyncio.sleep(0)


async def connect(hub: StreamHub, viewer: Viewer, since: int = 0,
                  token_id: str = "t-client") -> tuple[StreamClient, Sink]:
    sink = Sink()
    client = hub.join(token_id, viewer, sink)
    await hub.catch_up(client, since)
    return client, sink


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(test())


def publish(hub: StreamHub, *events: Event) -> None:
    hub.publish(list(events))


# --- role filter ---------------------------------------------------------------------------------
def variants(log: Log, type_: str) -> list[Event]:
    """Events of a type about the resident's household, a stranger and the guest, in and out of
    the incident."""
    made = []
    for subject, household, actor in ((HOME, HOME, HOME), ("p-stranger", OTHER_HOME, "p-responder"),
                                      (GUEST, OTHER_HOME, GUEST)):
        for incident in (INCIDENT, OTHER_INCIDENT):
            payload = sample_payload(type_, subject, household, incident)
            made.append(log.add(type_, payload, incident=incident, actor=actor))
    if type_ == "broadcast.sent":  # to everyone, as well as to one household
        made.append(log.add(type_, sample_payload(type_, "", "", INCIDENT)))
    return made


@pytest.mark.parametrize("role", list(Role), ids=str)
@pytest.mark.parametrize("type_", sorted(REGISTRY))
def test_role_filter_matches_view_for(type_: str, role: Role) -> None:
    """Replayed and live, a client gets exactly the events `view_for` lets it see, in the
    same shape as the REST reads."""
    viewer = VIEWERS[role]

    async def scenario() -> None:
        log = Log()
        replayed = variants(log, type_)
        hub = make_hub(log)
        await hub.start()
        _client, sink = await connect(hub, viewer)
        live = variants(log, type_)
        publish(hub, *live)
        await settle()
        expected = [view_for(e, REGISTRY[type_], viewer) for e in replayed + live]
        assert sink.events == [body for body in expected if body is not None]
        await hub.close()

    run(scenario)


NEVER_FOR_RESIDENTS = {"position.reported", "sighting.updated", "muster.called",
                       "responder.status_changed", "order.sent", "order.acknowledged",
                       "enrollment.code_issued", "device.enrolled", "token.revoked",
                       "audit.access_denied", "audit.log_exported",
                       "hostage.reported", "hostage.updated", "challenge.set",
                       "caution.raised", "responder.entering", "caution.failed",
                       "intruder.cleared"}
GUEST_MAY_SEE = {"site.configured", "incident.opened", "incident.closed", "broadcast.sent",
                 # its own check-in by a poster, and its merge into a household
                 "guest.checked_in", "guest.merged"}


def test_households_and_guests_get_only_their_own_and_public_events() -> None:
    """The issue's promises, stated outright for every type (view_for is the rule; this is
    what the rule must amount to on the stream)."""

    async def scenario() -> None:
        log = Log()
        for type_ in sorted(REGISTRY):
            variants(log, type_)
        hub = make_hub(log, buffer_events=1_024)
        await hub.start()
        _c, resident = await connect(hub, VIEWERS[Role.RESIDENT])
        _c, guest = await connect(hub, VIEWERS[Role.GUEST])
        for frame in resident.events:
            assert frame["type"] not in NEVER_FOR_RESIDENTS, frame
            assert OTHER_HOME not in orjson.dumps(frame["payload"]).decode(), frame
            if frame["type"] == "sighting.reported":  # only its own, stripped bare
                assert frame["actor"] is None and frame["location"] is None
        assert {f["type"] for f in resident.events} >= {"household.checked_in", "broadcast.sent"}
        assert {f["type"] for f in guest.events} <= GUEST_MAY_SEE
        assert all(f["incident_id"] in (None, INCIDENT) for f in guest.events)
        assert {f["type"] for f in guest.events} >= {"broadcast.sent"}
        # The safe word: households hear it, a guest (anyone who scanned a poster) never.
        assert "safe_word.set" in {f["type"] for f in resident.events}
        assert "lemon" not in orjson.dumps(guest.events).decode()
        for frame in resident.events + guest.events:
            assert "token_hash" not in frame["payload"] and "code_hash" not in frame["payload"]
        await hub.close()

    run(scenario)


def test_an_event_is_encoded_once_per_audience() -> None:
    """A broadcast to 200 residents and 50 responders is serialised twice, not 250 times."""

    async def scenario() -> None:
        log = Log()
        hub = make_hub(log)
        await hub.start()
        residents = [await connect(hub, Viewer(frozenset({Role.RESIDENT}), subject_id=f"h{i}",
                                               household_id=f"h{i}")) for i in range(200)]
        responders = [await connect(hub, Viewer(frozenset({Role.RESPONDER}),
                                                subject_id=f"p{i}")) for i in range(50)]
        publish(hub, log.add("broadcast.sent", sample_payload("broadcast.sent", "", "", INCIDENT)))
        await settle()
        resident_frames = {id(sink.raw[-1]) for _c, sink in residents}
        responder_frames = {id(sink.raw[-1]) for _c, sink in responders}
        assert len(resident_frames) == 1 and len(responder_frames) == 1
        assert resident_frames != responder_frames  # residents get it without the envelope
        assert orjson.loads(residents[0][1].raw[-1])["actor"] is None
        assert orjson.loads(responders[0][1].raw[-1])["actor"] == "p-commander"
        await hub.close()

    run(scenario)


# --- catch-up from any since ---------------------------------------------------------------------
MIXED = ["household.checked_in", "broadcast.sent", "order.sent", "responder.status_changed",
         "sighting.reported", "person.added", "incident.opened", "muster.called"]


def mixed_log(length: int) -> Log:
    log = Log()
    for i in range(length):
        type_ = MIXED[i % len(MIXED)]
        household = HOME if i % 3 == 0 else OTHER_HOME
        log.add(type_, sample_payload(type_, f"p-{i % 4}", household, INCIDENT))
    return log


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.RESIDENT, Role.VOLUNTEER], ids=str)
def test_catch_up_from_any_since(role: Role, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every since from 0 to past the head: the visible events after it, each once, in order,
    whether they come from the log (older than the buffer) or the buffer; then live."""
    monkeypatch.setattr(hub_module, "REPLAY_PAGE_EVENTS", 7)  # several log pages per replay
    viewer = VIEWERS[role]

    async def scenario() -> None:
        log = mixed_log(60)
        hub = make_hub(log, buffer_events=16)
        await hub.start()
        for since in range(0, log.head + 3):
            _client, sink = await connect(hub, viewer, since)
            expected = [view_for(e, REGISTRY[e.type], viewer) for e in log.events if e.seq > since]
            if since > log.head:  # a log it never saw: start over
                assert sink.controls[0] == {"type": "resync", "seq": log.head}
            assert sink.events == [body for body in expected if body is not None], since
            assert sink.controls[-1] == {"type": "live", "seq": log.head}
        await hub.close()

    run(scenario)


def test_catch_up_then_live_without_gap_or_repeat() -> None:
    """Events appended while a client replays from the log reach it once, after the replay."""

    async def scenario() -> None:
        log = mixed_log(40)
        hub = make_hub(log, buffer_events=8)
        await hub.start()
        sink = Sink()
        client = hub.join("t", VIEWERS[Role.OPERATOR], sink)
        catching_up = asyncio.create_task(hub.catch_up(client, 0))
        await asyncio.sleep(0)
        more = [log.add("order.sent", sample_payload("order.sent", "p", HOME, INCIDENT))
                for _ in range(5)]
        publish(hub, *more)
        await catching_up
        publish(hub, log.add("broadcast.sent", sample_payload("broadcast.sent", "", "", INCIDENT)))
        await settle()
        seqs = [f["seq"] for f in sink.events]
        assert seqs == list(range(1, log.head + 1))
        await hub.close()

    run(scenario)


def test_replay_beyond_the_limit_is_a_resync() -> None:
    async def scenario() -> None:
        log = mixed_log(50)
        hub = make_hub(log, buffer_events=8, max_replay_events=20)
        await hub.start()
        _c, far = await connect(hub, VIEWERS[Role.OPERATOR], since=10)
        assert far.frames == [{"type": "resync", "seq": 50}, {"type": "live", "seq": 50}]
        _c, near = await connect(hub, VIEWERS[Role.OPERATOR], since=35)
        assert [f["seq"] for f in near.events] == list(range(36, 51))
        publish(hub, log.add("order.sent", sample_payload("order.sent", "p", HOME, INCIDENT)))
        await settle()
        assert far.frames[-1]["seq"] == near.frames[-1]["seq"] == 51  # both live now
        await hub.close()

    run(scenario)


# --- coalescing ----------------------------------------------------------------------------------
def position(log: Log, unit: str) -> Event:
    return log.add("position.reported", sample_payload("position.reported", unit, "", INCIDENT),
                   actor=unit)


def test_a_caught_up_client_gets_every_position() -> None:
    async def scenario() -> None:
        log = Log()
        hub = make_hub(log)
        await hub.start()
        _c, sink = await connect(hub, VIEWERS[Role.COMMANDER])
        for _ in range(5):
            publish(hub, position(log, "p-alpha"))
            await settle()
        assert [f["seq"] for f in sink.events] == [1, 2, 3, 4, 5]
        assert [f["type"] for f in sink.controls] == ["live"]
        await hub.close()

    run(scenario)


def test_a_client_behind_gets_the_latest_position_per_unit() -> None:
    async def scenario() -> None:
        log = Log()
        hub = make_hub(log)
        await hub.start()
        _c, slow = await connect(hub, VIEWERS[Role.COMMANDER])
        _c, resident = await connect(hub, VIEWERS[Role.RESIDENT])
        slow.hold()  # the next send waits: the client is stuck on a slow link
        publish(hub, position(log, "p-alpha"))
        await settle()
        for _ in range(10):
            publish(hub, position(log, "p-alpha"), position(log, "p-bravo"))
        broadcast = log.add("broadcast.sent", sample_payload("broadcast.sent", "", "", INCIDENT))
        publish(hub, broadcast)
        last_alpha, last_bravo = log.events[-3], log.events[-2]
        await settle()
        slow.release()
        await settle()
        assert [f["seq"] for f in slow.events] == [1, last_alpha.seq, last_bravo.seq,
                                                   broadcast.seq]
        coalesced = {"type": "coalesced", "seq": broadcast.seq, "dropped": 18}
        assert [f for f in slow.controls if f["type"] == "coalesced"] == [coalesced]
        assert slow.frames[-1] == coalesced  # after the batch it sums up
        # Positions it may not see are neither sent nor counted.
        assert [f["type"] for f in resident.frames] == ["live", "broadcast.sent"]
        await hub.close()

    run(scenario)


def test_replay_from_the_log_coalesces_positions() -> None:
    async def scenario() -> None:
        log = Log()
        for _ in range(30):
            position(log, "p-alpha")
        log.add("order.sent", sample_payload("order.sent", "p", HOME, INCIDENT))
        hub = make_hub(log, buffer_events=4)
        await hub.start()
        _c, sink = await connect(hub, VIEWERS[Role.OPERATOR])
        assert [f["seq"] for f in sink.events] == [27, 30, 31]  # log page, then the buffer
        assert sink.frames[1] == {"type": "coalesced", "seq": 27, "dropped": 26}  # after it
        await hub.close()

    run(scenario)


# --- resync on lag -------------------------------------------------------------------------------
def test_a_client_that_falls_out_of_the_buffer_is_told_to_resync() -> None:
    async def scenario() -> None:
        log = Log()
        hub = make_hub(log, buffer_events=8)
        await hub.start()
        stuck_client, stuck = await connect(hub, VIEWERS[Role.OPERATOR])
        stuck.hold()
        order = sample_payload("order.sent", "p", HOME, INCIDENT)
        publish(hub, log.add("order.sent", order))
        await settle()
        for _ in range(20):
            publish(hub, log.add("order.sent", order))
        await settle()
        stuck.release()
        await settle()
        assert [(f["type"], f["seq"]) for f in stuck.frames] == [
            ("live", 0), ("order.sent", 1), ("resync", 21)]
        assert hub.clients == 1 and stuck.closed is None  # told, never dropped
        publish(hub, log.add("order.sent", order))
        await settle()
        assert stuck.frames[-1]["seq"] == 22 and stuck_client.cursor == 22
        await hub.close()

    run(scenario)


# --- heartbeats, idle clients, revoked tokens ----------------------------------------------------
def test_heartbeats_have_jitter_and_idle_clients_are_closed() -> None:
    async def scenario() -> None:
        clock = Clock()
        log = mixed_log(3)
        hub = make_hub(log, clock=clock, heartbeat_secs=10.0, heartbeat_jitter_secs=2.0,
                       idle_timeout_secs=30.0)
        await hub.start()
        clients = [await connect(hub, VIEWERS[Role.OPERATOR]) for _ in range(50)]
        due = [client.next_ping_at - clock.now for client, _sink in clients]
        assert all(8.0 <= d <= 12.0 for d in due) and len(set(due)) > 1  # not in step
        clock.now += 12.5
        hub.sweep()
        await settle()
        for client, sink in clients:
            assert sink.frames[-1] == {"type": "ping", "seq": 3}
            assert client.next_ping_at > clock.now
        talker, _ = clients[0]
        clock.now += 20.0
        hub.heard(talker)
        clock.now += 15.0  # 35 s since the others said anything
        hub.sweep()
        await settle()
        closed = [sink.closed for _c, sink in clients]
        assert closed[0] is None
        assert all(c is not None and c[0] == CLOSE_IDLE for c in closed[1:])
        assert hub.clients == 1
        await hub.close()

    run(scenario)


def test_a_revoked_token_ends_its_open_stream() -> None:
    async def scenario() -> None:
        log = Log()
        revoked: dict[str, str] = {}
        hub = make_hub(log, revoked=revoked)
        await hub.start()
        _c, kept = await connect(hub, VIEWERS[Role.OPERATOR], token_id="t-kept")
        _c, lost = await connect(hub, VIEWERS[Role.OPERATOR], token_id="t-lost")
        revoked["t-lost"] = "this device was revoked"
        publish(hub, log.add("token.revoked", {"token_id": "t-lost"}))
        await settle()
        assert lost.closed == (CLOSE_UNAUTHORISED, "this device was revoked")
        assert kept.closed is None and hub.clients == 1
        await hub.close()

    run(scenario)


def test_passes_of_a_closed_incident_hear_the_news_then_are_closed() -> None:
    async def scenario() -> None:
        log = Log()
        refused: dict[str, str] = {}
        hub = make_hub(log, revoked=refused)
        await hub.start()
        _c, guest = await connect(hub, VIEWERS[Role.GUEST], token_id="t-guest")
        refused["t-guest"] = "this pass was for incident 1, which is closed"
        closed = log.add("incident.closed", sample_payload("incident.closed", "", "", INCIDENT))
        publish(hub, closed)
        await settle()
        assert guest.events[-1]["type"] == "incident.closed"
        assert guest.closed == (CLOSE_UNAUTHORISED, refused["t-guest"])
        await hub.close()

    run(scenario)


# --- events appended elsewhere -------------------------------------------------------------------
def test_a_gap_is_read_from_the_log() -> None:
    """Events another process appended (the CLI) arrive through the log, in order."""

    async def scenario() -> None:
        log = mixed_log(5)
        hub = make_hub(log)
        await hub.start()
        _c, sink = await connect(hub, VIEWERS[Role.OPERATOR])
        elsewhere = [log.add("order.sent", sample_payload("order.sent", "p", HOME, INCIDENT))
                     for _ in range(3)]
        here = log.add("broadcast.sent", sample_payload("broadcast.sent", "", "", INCIDENT))
        publish(hub, here)
        await settle()
        assert [f["seq"] for f in sink.events][-4:] == [e.seq for e in [*elsewhere, here]]
        log.add("order.sent", sample_payload("order.sent", "p", HOME, INCIDENT))  # nobody tells
        hub.sweep()
        hub.sweep()  # behind twice in a row: not a commit in flight
        await settle()
        assert sink.events[-1]["seq"] == log.head
        await hub.close()

    run(scenario)


# --- the in-process bus --------------------------------------------------------------------------
def test_local_bus_hands_writer_thread_events_to_the_loop() -> None:
    async def scenario() -> None:
        bus = LocalBus()
        await bus.start()
        got: list[tuple[int, bool]] = []
        loop_thread = threading.current_thread()
        unsubscribe = bus.subscribe(SITE, lambda events: got.append(
            (events[0].seq, threading.current_thread() is loop_thread)))
        event = mixed_log(1).events[0]
        writer = threading.Thread(target=bus.publish, args=(SITE, [event]))
        writer.start()
        writer.join()
        bus.publish("another-site", [event])
        await settle()
        assert got == [(1, True)]
        unsubscribe()
        await bus.close()
        bus.publish(SITE, [event])  # after close: ignored, never raises
        await settle()
        assert got == [(1, True)]

    run(scenario)


# --- a broadcast's bookkeeping: progress for the squad, its own state for a household -------------
def test_a_broadcasts_bookkeeping_reaches_squad_viewers_as_throttled_progress_counts() -> None:
    households = [HOME, *(f"hh-{n}" for n in range(1, 40))]
    log, state = Log(), SiteState(site_id=SITE)

    def added(type_: str, payload: dict[str, Any]) -> Event:
        """Appended and projected, as the store does before the bus hands it on."""
        event = log.add(type_, REGISTRY[type_].validate(payload))
        state.apply(event)
        return event

    def bookkeeping(household: str, outcome: str) -> list[Event]:
        ids = {"broadcast_id": "b1", "delivery_id": f"d-{household}", "household_id": household}
        return [added("broadcast.delivery_sent", {**ids, "channel": "push", "lang": "en"}),
                added("broadcast.delivery_settled", {**ids, "outcome": outcome})]

    def progress(incident_id: str | None, broadcast_id: str) -> dict[str, int] | None:
        broadcast = state.incidents[incident_id or ""].broadcasts.get(broadcast_id)
        return None if broadcast is None else broadcast_counts(state, broadcast)

    def progress_frames(sink: Sink) -> list[dict[str, Any]]:
        return [f for f in sink.controls if f["type"] == "progress"]

    async def scenario() -> None:
        for n, household in enumerate(households):
            added("household.added", {"household_id": household, "ref": str(n), "name": "H",
                                      "languages": ["en"]})
        added("incident.opened", {"incident_id": INCIDENT, "ref": "1", "title": "Infiltration"})
        hub = StreamHub(SITE, read=log.read, latest_seq=lambda: log.head, authorise={}.get,
                        progress=progress, limits=limits(buffer_events=1_024))
        await hub.start()
        _c, desk = await connect(hub, VIEWERS[Role.COMMANDER], since=log.head, token_id="t-desk")
        _r, home = await connect(hub, VIEWERS[Role.RESIDENT], since=log.head, token_id="t-home")
        publish(hub, added("broadcast.sent", {"broadcast_id": "b1", "texts": {"en": "Inside"}}))
        # Every household's bookkeeping, one commit per household: one progress frame.
        for household in households:
            publish(hub, *bookkeeping(household, "failed" if household == "hh-1" else "delivered"))
        await settle()
        assert [f["counts"] for f in progress_frames(desk)] == [
            {"households": 40, "delivered": 39, "read": 0, "not_reached": 1}]
        assert [f["type"] for f in desk.events] == ["broadcast.sent"]
        # Then 40 reads: a household's own page sees its own; the desk, the counts, at most
        # one frame a second.
        for household in households:
            publish(hub, added("broadcast.read", {"broadcast_id": "b1",
                                                   "household_id": household}))
        await settle()
        assert len(progress_frames(desk)) == 1  # the second waits for its turn
        for _ in range(int(5 / hub_module.PROGRESS_SECS) * 100):
            if len(progress_frames(desk)) == 2:
                break
            await asyncio.sleep(hub_module.PROGRESS_SECS / 100)
        assert [f["counts"]["read"] for f in progress_frames(desk)] == [0, 40]
        assert [f["broadcast_id"] for f in progress_frames(desk)] == ["b1", "b1"]
        assert [f["type"] for f in desk.events] == ["broadcast.sent"]
        assert [(f["type"], f["payload"].get("household_id")) for f in home.events] == [
            ("broadcast.sent", None), ("broadcast.read", HOME)]
        assert not progress_frames(home)
        await hub.close()

    run(scenario)


def test_a_batch_reaches_live_clients_a_share_per_turn_of_the_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What else waits on the loop (the appending command's HTTP answer) waits for one share
    of the fan-out, not for every client's send."""
    monkeypatch.setattr(hub_module, "PUSH_SHARE_CLIENTS", 2)

    async def scenario() -> None:
        log = Log()
        hub = make_hub(log)
        await hub.start()
        sinks = [(await connect(hub, VIEWERS[Role.OPERATOR], token_id=f"t-{n}"))[1]
                 for n in range(5)]
        event = log.add("broadcast.sent", sample_payload("broadcast.sent", "", "", INCIDENT))
        served_when_answered: list[int] = []
        asyncio.get_running_loop().call_soon(
            lambda: served_when_answered.append(sum(1 for sink in sinks if sink.events)))
        publish(hub, event)
        await settle()
        assert served_when_answered == [2]
        assert [[f["seq"] for f in sink.events] for sink in sinks] == [[event.seq]] * 5
        await hub.close()

    run(scenario)


def test_a_live_client_gets_what_follows_more_events_than_a_turn_holds_that_it_may_not_see(
) -> None:
    async def scenario() -> None:
        log = Log()
        hub = make_hub(log, buffer_events=1_024)
        await hub.start()
        _c, home = await connect(hub, VIEWERS[Role.RESIDENT], since=log.head)
        unseen = [log.add("broadcast.delivery_sent",
                          sample_payload("broadcast.delivery_sent", "p", OTHER_HOME, INCIDENT))
                  for _ in range(hub_module.MAX_BATCH_EVENTS + 44)]
        sent = log.add("broadcast.sent", sample_payload("broadcast.sent", "", "", INCIDENT))
        publish(hub, *unseen, sent)
        await settle()
        assert [f["seq"] for f in home.events] == [sent.seq]
        await hub.close()

    run(scenario)


def test_residents_a_batch_does_not_concern_share_one_filtering_of_it() -> None:
    """Issue 13 item 1: a batch of check-ins is filtered once per household it names plus once
    for every other resident (counted, not timed), and each resident still gets exactly what
    view_for gives them."""
    log = Log()
    named = [f"h-{n}" for n in range(3)]
    events = [
        log.add("household.checked_in", {"household_id": h, "status": "safe"}, actor=h)
        for h in named
    ] + [log.add("position.reported", {"subject_id": "p-responder", "callsign": "alpha-1"})]
    span = Span([Entry(e) for e in events], log.head)
    residents = [
        Viewer(frozenset({Role.RESIDENT}), subject_id=h, household_id=h)
        for h in named + [f"h-other-{n}" for n in range(200)]
    ]
    for viewer in residents:
        got = [orjson.loads(frame) for frame in span.frames_for(viewer)]
        expected = [view_for(e, REGISTRY[e.type], viewer) for e in events]
        assert got == [body for body in expected if body is not None]
    assert len(span._frames) == len(named) + 1
