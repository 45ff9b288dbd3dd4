"""The escalator on a controllable clock, sending through real Apprise to a local receiver and
real Web Push to a local push service that verifies VAPID and decrypts."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from helpers import SITE, enrol, open_store
from konenut.app import challenge, handlers, muster
from konenut.app import commands as c
from konenut.app.channels import Channel, DeliveryResult, OutboundMessage
from konenut.app.escalator import Escalator
from konenut.app.identity import Actor
from konenut.app.policies import ESCALATION
from konenut.app.sms_text import sms_length
from konenut.bootstrap import run_sender, stop_sender
from konenut.domain.errors import Conflict
from konenut.domain.escalation import Channel as Step
from konenut.domain.events import NewEvent
from konenut.domain.ids import format_time, new_id, utcnow
from konenut.domain.muster import board
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.state import IncidentView, NotificationView
from konenut.i18n import catalogue
from konenut.notify.apprise_channel import AppriseChannel
from konenut.notify.router import Router
from konenut.notify.webpush import WebPushChannel, load_or_create_vapid_keys
from konenut.store.eventstore import EventStore
from notify.receivers import LOCAL_PUSH, Browser, Delivered, PushService, Receiver, free_port

BASE_URL = "https://konenut.example"
SUBJECT = "mailto:squad@alumim.example"
POLICY = [
    {"channel": "push", "after_secs": 0},
    {"channel": "sms", "after_secs": 30},
    {"channel": "voice", "after_secs": 90},
    {"channel": "deputy", "after_secs": 120},
]
PLAN = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[34.96, 30.42], [34.98, 30.42], [34.98, 30.44], [34.96, 30.42]]],
            },
            "properties": {"kind": "boundary", "ref": "B"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [34.97, 30.43]},
            "properties": {
                "kind": "rally_point",
                "ref": "R1",
                "name": "Armory",
                "name_he": "נשקייה",
                "name_th": "คลังอาวุธ",
            },
        },
    ],
}
HEBREW = range(0x0590, 0x0600)
THAI = range(0x0E00, 0x0E80)


def written_in(text: str, script: range) -> bool:
    return any(ord(ch) in script for ch in text)


class Clock:
    def __init__(self) -> None:
        self.start = utcnow()
        self.now = self.start

    def at(self, secs: float) -> None:
        self.now = self.start + timedelta(seconds=secs)


@dataclass
class World:
    store: EventStore
    clock: Clock
    sms: Receiver
    voice: Receiver
    pushes: list[Delivered]
    browser: Browser
    people: dict[str, str] = field(default_factory=dict)
    escalator: Escalator | None = None

    def actor(self, name: str, role: Role = Role.COMMANDER) -> Actor:
        return Actor(
            site_id=SITE,
            token_id=new_id(),
            subject_id=self.people[name],
            subject_kind=SubjectKind.PERSON,
            roles=frozenset({role}),
        )

    def activate(self, *names: str, drill: bool = False, text: str = "") -> str:
        cmd = c.ActivateSquad(person_ids=[self.people[n] for n in names], drill=drill, text=text)
        outcome = self.store.execute(SITE, muster.activate_squad(self.actor("avi"), cmd))
        return str(outcome.body["incident_id"])

    def run_at(self, secs: float) -> None:
        self.clock.at(secs)
        assert self.escalator is not None
        self.escalator.run_once()

    def answer(self, incident_id: str, name: str, status: str, via: str) -> None:
        payload = {"person_id": self.people[name], "status": status, "via": via}
        event = NewEvent(
            type="responder.status_changed",
            payload=payload,
            occurred_at=self.clock.now,
            incident_id=incident_id,
        )
        self.store.append(SITE, [event])

    def incident(self, incident_id: str) -> IncidentView:
        return self.store.state(SITE).incidents[incident_id]

    def tried(self, incident_id: str, name: str) -> list[NotificationView]:
        person_id = self.people[name]
        found = self.incident(incident_id).notifications.values()
        return sorted((n for n in found if n.person_id == person_id), key=lambda n: n.sent_at)

    def messages(self, receiver: Receiver) -> list[dict[str, Any]]:
        return [r.json() for r in receiver.requests]


def _add_person(store: EventStore, ref: str, name: str, role: Role, lang: str, phone: str) -> str:
    cmd = c.AddPerson(ref=ref, name=name, roles=[role], languages=[lang], phone=phone)
    return str(store.execute(SITE, handlers.add_person(None, cmd)).body["person_id"])


@pytest.fixture
def make_world(
    tmp_path: Path,
    receiver_factory: Callable[..., Receiver],
    push_service: PushService,
) -> Iterator[Callable[..., World]]:
    worlds: list[World] = []

    def make(
        sms_status: int = 200, voice_url: str | None = None, extra: dict[str, Channel] | None = None
    ) -> World:
        store = open_store(f"sqlite:///{tmp_path / f'k{len(worlds)}.db'}")
        clock = Clock()
        store.clock = lambda: clock.now
        browser = Browser()
        endpoint, pushes = push_service(browser, 201)
        world = World(
            store, clock, receiver_factory(status=sms_status), receiver_factory(), pushes, browser
        )
        worlds.append(world)
        configure = c.ConfigureSite(name="Alumim", default_language="he", plan=PLAN)
        store.execute(SITE, handlers.configure_site(None, configure))
        world.people["dana"] = _add_person(
            store, "p1", "Dana Cohen", Role.RESPONDER, "he", "+972501111111"
        )
        world.people["somchai"] = _add_person(
            store, "p2", "Somchai Wong", Role.RESPONDER, "th", "+66812345678"
        )
        world.people["avi"] = _add_person(
            store, "p3", "Avi Levi", Role.COMMANDER, "he", "+972502222222"
        )
        policy = c.SetEscalationPolicy.model_validate({"steps": POLICY})
        store.execute(SITE, muster.set_escalation_policy(None, policy))
        subscribe = c.SubscribePush(
            **browser.subscription(endpoint).as_info()["keys"], endpoint=endpoint
        )  # type: ignore[arg-type]
        store.execute(SITE, muster.subscribe_push(world.actor("dana", Role.RESPONDER), subscribe))
        keys = load_or_create_vapid_keys(tmp_path / f"data{len(worlds)}")
        voice = voice_url or f"json://127.0.0.1:{world.voice.port}/call/{{phone}}"
        channels: dict[str, Channel] = {
            "push": WebPushChannel(keys, SUBJECT, endpoints=LOCAL_PUSH),
            "sms": AppriseChannel("sms", f"json://127.0.0.1:{world.sms.port}/sms/{{phone}}"),
            "voice": AppriseChannel("voice", voice),
            **(extra or {}),
        }
        world.escalator = Escalator(store, SITE, Router(channels), BASE_URL, auto=False)
        assert world.escalator.start()
        return world

    yield make
    for world in worlds:
        assert world.escalator is not None
        world.escalator.stop()
        world.store.close()


def test_no_answer_push_then_sms_at_30_then_a_call_at_90_then_the_deputy(
    make_world: Callable[..., World],
) -> None:
    world = make_world()
    incident_id = world.activate("dana", "somchai", text="Gate 3 open")

    world.run_at(0)
    (push,) = world.pushes  # Somchai has no push subscription; Dana's browser got the call
    assert push.payload["lang"] == "he"
    assert written_in(push.payload["title"], HEBREW)
    assert "נשקייה" in push.payload["body"] and "Gate 3 open" in push.payload["body"]
    assert push.payload["ack_url"] == f"{BASE_URL}/he/responder"
    assert push.payload["data"]["incident_id"] == incident_id
    assert push.payload["data"]["kind"] == "muster"
    assert [(n.channel, n.outcome, n.reason) for n in world.tried(incident_id, "somchai")] == [
        ("push", "failed", "no push subscription")
    ]

    world.run_at(29)
    assert world.sms.requests == [] and len(world.pushes) == 1

    world.run_at(30)
    by_phone = {r.path.rsplit("/", 1)[-1]: r.json()["message"] for r in world.sms.requests}
    assert set(by_phone) == {"+972501111111", "+66812345678"}
    hebrew, thai = by_phone["+972501111111"], by_phone["+66812345678"]
    assert written_in(hebrew, HEBREW) and "נשקייה" in hebrew
    assert written_in(thai, THAI) and "คลังอาวุธ" in thai
    # What to do first and whole, then where (short of room, "what happened" is left out).
    assert hebrew.startswith("להגיע חמושים לנשקייה. כינוס: נשקייה. ")
    assert thai.startswith("มาพร้อมอาวุธที่คลังอาวุธ. จุดรวมพล: คลังอาวุธ. ")
    for text, lang in ((hebrew, "he"), (thai, "th")):
        length, limit = sms_length(text, lang)
        assert length <= limit == 70  # one UCS-2 segment
        assert "1=" in text and "2=" in text  # how to answer by SMS

    world.run_at(89)
    assert world.voice.requests == []
    world.run_at(90)
    assert len(world.voice.requests) == 2

    world.run_at(120)
    (deputy,) = [
        m for m in world.messages(world.sms) if "2" in m["message"] and "Dana" in m["message"]
    ]
    assert "Somchai" in deputy["message"]
    assert len(world.sms.requests) == 3  # one message to the commander for both

    rows = {
        r["name"]: r
        for r in board(world.store.state(SITE), world.incident(incident_id), world.clock.now, True)[
            "people"
        ]
    }
    assert [(t["channel"], t["outcome"]) for t in rows["Dana Cohen"]["channels"]] == [
        ("push", "delivered"),
        ("sms", "delivered"),
        ("voice", "delivered"),
        ("deputy", "delivered"),
    ]
    assert rows["Dana Cohen"]["state"] == "delivered"
    assert rows["Somchai Wong"]["channels"][0]["reason"] == "no push subscription"
    assert rows["Somchai Wong"]["channels"][1]["to"].startswith("+668")

    world.run_at(600)  # the chain is over
    assert len(world.sms.requests) == 3 and len(world.voice.requests) == 2


def test_an_answer_at_40_s_stops_everything_after(make_world: Callable[..., World]) -> None:
    world = make_world()
    incident_id = world.activate("dana", "somchai")
    for secs in (0, 30):
        world.run_at(secs)
    world.clock.at(40)
    world.answer(incident_id, "dana", "coming", via="app")
    for secs in (41, 90, 120, 400):
        world.run_at(secs)
    calls = [r.path for r in world.voice.requests]
    assert calls == ["/call/+66812345678"]  # Somchai only
    assert [n.channel for n in world.tried(incident_id, "dana")] == ["push", "sms"]
    assert len(world.pushes) == 1  # and no confirmation for an answer in the app


def test_who_has_not_seen_the_call_when_the_chain_is_over_is_not_reached(
    make_world: Callable[..., World],
) -> None:
    """Every channel failed (Somchai) or the call was delivered and never opened (Dana): once
    the last step (the deputy at 120 s) and its grace time are over, the board says "not
    reached" with every channel tried, and the key Somchai holds is missing (issue 10, item 7).
    """
    dead_line = f"json://127.0.0.1:{free_port()}/call/{{phone}}"
    world = make_world(sms_status=500, voice_url=dead_line)
    key = c.AddAsset(
        ref="key-gate-3",
        kind="gate_key",
        name="Gate 3 key",
        holder_person_id=world.people["somchai"],
    )
    world.store.execute(SITE, muster.add_asset(None, key))
    incident_id = world.activate("dana", "somchai")

    def read() -> dict[str, Any]:
        found = board(world.store.state(SITE), world.incident(incident_id), world.clock.now, True)
        return found

    for secs in (0, 30, 90, 120, 179):
        world.run_at(secs)
    before = read()
    assert {r["name"]: r["state"] for r in before["people"]} == {
        "Dana Cohen": "delivered",
        "Somchai Wong": "notified",
    }
    assert before["not_reached_at"] == format_time(world.clock.start + timedelta(seconds=180))
    assert [(a["holder_state"], a["missing"]) for a in before["assets"]] == [("notified", False)]

    world.run_at(180)
    after = read()
    rows = {r["name"]: r for r in after["people"]}
    assert {name: r["state"] for name, r in rows.items()} == {
        "Dana Cohen": "not_reached",
        "Somchai Wong": "not_reached",
    }
    assert after["counts"] == {"not_reached": 2}
    tried = rows["Somchai Wong"]["channels"]
    assert {t["channel"] for t in tried} == {"push", "sms", "voice", "deputy"}
    assert all(t["outcome"] == "failed" and t["reason"] for t in tried), tried
    assert rows["Dana Cohen"]["channels"][0]["outcome"] == "delivered"  # push, never opened
    assert [(a["holder_state"], a["missing"]) for a in after["assets"]] == [("not_reached", True)]

    # Reached after all (someone went to his door): he answers, and the key is coming.
    world.answer(incident_id, "somchai", "coming", via="app")
    again = read()
    assert {r["name"]: r["state"] for r in again["people"]}["Somchai Wong"] == "coming"
    assert [(a["coming"], a["missing"]) for a in again["assets"]] == [(True, False)]


def test_a_failing_sms_gateway_is_recorded_retried_with_backoff_and_the_call_still_goes(
    make_world: Callable[..., World],
) -> None:
    world = make_world(sms_status=500)
    incident_id = world.activate("dana")
    counts = {}
    for secs in (0, 30, 39, 40, 69, 70, 90, 160, 400):
        world.run_at(secs)
        counts[secs] = len([r for r in world.sms.requests if r.path == "/sms/+972501111111"])
    assert counts == {0: 0, 30: 1, 39: 1, 40: 2, 69: 2, 70: 3, 90: 3, 160: 4, 400: 4}
    sms = [n for n in world.tried(incident_id, "dana") if n.channel == "sms"]
    assert [n.retry for n in sms] == [0, 1, 2, 3]
    assert all(n.outcome == "failed" and "500" in n.reason for n in sms), sms
    (call,) = [n for n in world.tried(incident_id, "dana") if n.channel == "voice"]
    assert call.outcome == "delivered" and len(world.voice.requests) == 1


def test_an_unreachable_gateway_and_a_raising_channel_are_failures_with_reasons(
    make_world: Callable[..., World],
) -> None:
    class Broken:
        name = "telegram"

        async def send(self, message: OutboundMessage) -> DeliveryResult:
            raise RuntimeError("provider library bug")

    world = make_world(
        voice_url=f"json://127.0.0.1:{free_port()}/call/{{phone}}", extra={"sms": Broken()}
    )
    incident_id = world.activate("dana")
    for secs in (0, 30, 90, 120):
        world.run_at(secs)
    tried = {n.channel: n for n in world.tried(incident_id, "dana") if n.retry == 0}
    assert tried["sms"].outcome == "failed" and "provider library bug" in tried["sms"].reason
    assert tried["voice"].outcome == "failed" and tried["voice"].reason
    # The next steps ran on time all the same (the commander is told by SMS: broken too).
    assert tried["deputy"].sent_at > tried["voice"].sent_at > tried["sms"].sent_at
    assert "provider library bug" in tried["deputy"].reason


def test_an_answer_by_sms_is_confirmed_once_on_sms_in_the_persons_language(
    make_world: Callable[..., World],
) -> None:
    world = make_world()
    incident_id = world.activate("somchai")
    world.run_at(0)
    world.run_at(30)
    assert len(world.sms.requests) == 1
    world.clock.at(35)
    world.answer(incident_id, "somchai", "coming", via="sms")
    world.run_at(36)
    world.run_at(37)
    assert len(world.sms.requests) == 2
    confirmation = world.sms.requests[1]
    assert confirmation.path == "/sms/+66812345678"
    text = confirmation.json()["message"]
    assert written_in(text, THAI) and "2" in text  # "got it: coming; reply 2 to change"
    (sent,) = [n for n in world.tried(incident_id, "somchai") if n.question == "confirmation"]
    assert sent.channel == "sms" and sent.outcome == "delivered"

    world.clock.at(50)
    world.answer(incident_id, "somchai", "cannot", via="sms")  # a changed answer: confirmed too
    world.run_at(51)
    assert len(world.sms.requests) == 3 and "1" in world.sms.requests[2].json()["message"]
    world.run_at(200)
    assert len(world.sms.requests) == 3 and world.voice.requests == []


def _quiet_now(world: World) -> dict[str, str]:
    local = world.clock.start.astimezone(ZoneInfo("Asia/Jerusalem"))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=2)).strftime("%H:%M")
    return {"quiet_from": start, "quiet_until": end}


def test_quiet_hours_hold_back_a_drill_but_not_a_real_incident(
    make_world: Callable[..., World],
) -> None:
    world = make_world()
    contact = c.SetContactPoint(address="+972503333333", **_quiet_now(world))
    world.store.execute(SITE, muster.set_contact_point(None, world.people["dana"], "sms", contact))

    drill = world.activate("dana", drill=True)
    for secs in (0, 30, 45, 100):
        world.run_at(secs)
    sms = [n for n in world.tried(drill, "dana") if n.channel == "sms"]
    assert [(n.outcome, n.reason) for n in sms] == [("failed", "quiet hours")]  # not retried
    assert world.sms.requests == []
    store = world.store
    store.execute(SITE, handlers.close_incident(None, drill, c.CloseIncident()))

    world.clock.start = world.clock.now
    real = world.activate("dana")
    world.run_at(0)
    world.run_at(30)
    (request,) = world.sms.requests
    assert request.path == "/sms/+972503333333"  # the contact point overrides the phone
    assert [n.outcome for n in world.tried(real, "dana") if n.channel == "sms"] == ["delivered"]


def test_a_channel_not_configured_is_recorded_once_and_the_chain_goes_on(
    make_world: Callable[..., World],
) -> None:
    world = make_world()
    policy = [{"channel": "telegram", "after_secs": 0}, {"channel": "sms", "after_secs": 10}]
    cmd = c.SetEscalationPolicy.model_validate({"steps": policy})
    world.store.execute(SITE, muster.set_escalation_policy(None, cmd))
    incident_id = world.activate("dana")
    for secs in (0, 10, 30, 200):
        world.run_at(secs)
    assert [(n.channel, n.outcome, n.reason) for n in world.tried(incident_id, "dana")] == [
        ("telegram", "failed", "no Telegram bot configured"),
        ("sms", "delivered", ""),
    ]


def test_a_gone_push_subscription_is_dropped(
    make_world: Callable[..., World], push_service: PushService
) -> None:
    world = make_world()
    gone_endpoint, _ = push_service(world.browser, 410)
    subscribe = c.SubscribePush(
        **world.browser.subscription(gone_endpoint).as_info()["keys"],  # type: ignore[arg-type]
        endpoint=gone_endpoint,
    )
    world.store.execute(SITE, muster.subscribe_push(world.actor("dana", Role.RESPONDER), subscribe))
    assert len([p for p in world.store.state(SITE).push_subscriptions.values()]) == 2
    incident_id = world.activate("dana")
    world.run_at(0)
    (push,) = world.tried(incident_id, "dana")
    assert push.outcome == "delivered" and push.to == "2 devices"  # one of two still works
    endpoints = [p.endpoint for p in world.store.state(SITE).push_subscriptions.values()]
    assert endpoints and gone_endpoint not in endpoints


def test_a_revoked_squad_phone_gets_no_muster_call(
    make_world: Callable[..., World], push_service: PushService
) -> None:
    """Dana's second phone is lost and revoked: the muster call goes to her other device only,
    and the lost phone's push service never hears of it (issue 11, item 1)."""
    world = make_world()
    lost = Browser()
    lost_endpoint, lost_pushes = push_service(lost, 201)
    enrol(world.store, c.IssueEnrollmentCode(subject_id=world.people["dana"]))
    token_id = max(
        t.token_id
        for t in world.store.state(SITE).tokens.values()
        if t.subject_id == world.people["dana"]
    )
    phone = Actor(SITE, token_id, world.people["dana"], SubjectKind.PERSON, frozenset())
    keys = lost.subscription(lost_endpoint)
    subscribe = c.SubscribePush(endpoint=keys.endpoint, p256dh=keys.p256dh, auth=keys.auth)
    world.store.execute(SITE, muster.subscribe_push(phone, subscribe))

    revoked = world.store.execute(SITE, handlers.revoke_device(None, token_id, c.RevokeDevice()))
    assert [e.type for e in revoked.events] == ["token.revoked", "push.unsubscribed"]
    incident_id = world.activate("dana")
    world.run_at(0)

    (push,) = world.tried(incident_id, "dana")
    assert push.outcome == "delivered" and push.to == "1 device"
    assert len(world.pushes) == 1 and lost_pushes == []
    with pytest.raises(Conflict):  # a subscription racing the revocation is refused
        world.store.execute(SITE, muster.subscribe_push(phone, subscribe))


def test_activation_wakes_the_running_escalator(tmp_path: Path, push_service: PushService) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'k.db'}")
    browser = Browser()
    endpoint, pushes = push_service(browser, 201)
    person = _add_person(store, "p1", "Dana Cohen", Role.RESPONDER, "en", "+972501111111")
    actor = Actor(SITE, new_id(), person, SubjectKind.PERSON, frozenset({Role.COMMANDER}))
    subscribe = c.SubscribePush(
        **browser.subscription(endpoint).as_info()["keys"], endpoint=endpoint
    )  # type: ignore[arg-type]
    store.execute(SITE, muster.subscribe_push(actor, subscribe))
    keys = load_or_create_vapid_keys(tmp_path)
    router = Router({"push": WebPushChannel(keys, SUBJECT, endpoints=LOCAL_PUSH)})
    escalator = Escalator(store, SITE, router, BASE_URL, tick_secs=60.0)  # only a wake-up is fast
    assert run_sender(store, escalator, ESCALATION)  # woken by its policy (app/policies.py)
    assert not Escalator(store, SITE, router, BASE_URL).start()  # one per site and store
    try:
        store.execute(SITE, muster.activate_squad(actor, c.ActivateSquad(person_ids=[person])))
        deadline = time.monotonic() + 5
        while not pushes and time.monotonic() < deadline:
            time.sleep(0.05)
        assert pushes and pushes[0].payload["lang"] == "en"
        assert "Open to answer" in pushes[0].payload["body"]
    finally:
        stop_sender(store, escalator, ESCALATION)
        store.close()


def test_times_are_the_store_clock(make_world: Callable[..., World]) -> None:
    """The attempts are stamped with the store's clock, so a replay tells when each was made."""
    world = make_world()
    incident_id = world.activate("dana")
    world.run_at(0)
    world.run_at(30)
    sent = [
        datetime.fromisoformat(n.sent_at.replace("Z", "+00:00"))
        for n in world.tried(incident_id, "dana")
    ]
    assert [(s - world.clock.start).total_seconds() for s in sent] == [0.0, 30.0]
    assert Step.SMS.value == world.tried(incident_id, "dana")[1].channel


def test_a_holder_asked_to_bring_a_key_is_told_once_by_push_and_sms(
    make_world: Callable[..., World],
) -> None:
    world = make_world()
    incident_id = world.activate("dana", "somchai")
    world.run_at(0)
    key = c.AddAsset(
        ref="key-gate-2",
        kind="gate_key",  # type: ignore[arg-type]
        name="Gate 2 key",
        holder_person_id=world.people["somchai"],
    )
    asset_id = world.store.execute(SITE, muster.add_asset(None, key)).body["asset_id"]
    world.clock.at(5)
    ask = muster.request_asset(world.actor("avi"), incident_id, str(asset_id), c.RequestAsset())
    world.store.execute(SITE, ask)
    world.run_at(6)
    (asked,) = [m["message"] for m in world.messages(world.sms) if "Gate 2 key" in m["message"]]
    assert written_in(asked, THAI) and "คลังอาวุธ" in asked  # his language, the rally point
    told = [n for n in world.tried(incident_id, "somchai") if n.question == "bring"]
    assert [(n.channel, n.outcome) for n in told] == [
        ("push", "failed"),  # no push subscription: recorded, and SMS still went
        ("sms", "delivered"),
    ]
    world.run_at(10)
    assert len([m for m in world.messages(world.sms) if "Gate 2 key" in m["message"]]) == 1
    # The request is not an answer, nor a step of the chain: SMS still comes at 30 s.
    state = board(world.store.state(SITE), world.incident(incident_id), world.clock.now, True)
    (row,) = [r for r in state["people"] if r["name"] == "Somchai Wong"]
    assert row["state"] == "notified"
    world.run_at(30)
    assert any("1=" in m["message"] for m in world.messages(world.sms))


def test_the_challenge_and_password_are_never_in_a_notification(
    make_world: Callable[..., World],
) -> None:
    """A captured phone shows notifications on its lock screen: the squad's words stay in the
    app (issue 6). Push, SMS, the call and the deputy's message all go out after it is set."""
    world = make_world()
    incident_id = world.activate("dana", "somchai")
    pair = challenge.SetChallenge(challenge="olive", password="river", lang="en")
    world.store.execute(SITE, challenge.set_challenge(world.actor("avi"), incident_id, pair))
    safe = challenge.SetSafeWord(word="lemon", lang="en")
    world.store.execute(SITE, challenge.set_safe_word(world.actor("avi"), incident_id, safe))
    for secs in (0, 30, 90, 120, 160):
        world.run_at(secs)
    sent = [r.body.decode() for r in world.sms.requests + world.voice.requests]
    sent += [repr(p.payload) for p in world.pushes]
    assert world.sms.requests and world.pushes, "the muster went out on SMS and push"
    for word in ("olive", "river"):
        assert not any(word in text.lower() for text in sent), (word, sent)


def test_a_call_pushed_to_a_phone_is_in_the_language_chosen_on_it(
    make_world: Callable[..., World], push_service: PushService
) -> None:
    """Somchai reads Thai, but his phone's pages are in English: its push is in English."""
    world = make_world()
    browser = Browser()
    endpoint, pushes = push_service(browser, 201)
    keys = browser.subscription(endpoint)
    english_phone = c.SubscribePush(
        endpoint=keys.endpoint, p256dh=keys.p256dh, auth=keys.auth, lang="en"
    )
    actor = world.actor("somchai", Role.RESPONDER)
    world.store.execute(SITE, muster.subscribe_push(actor, english_phone))
    incident_id = world.activate("somchai")
    world.run_at(0)
    (push,) = pushes
    assert push.payload["lang"] == "en"
    assert push.payload["title"] == catalogue("en")["muster.template.hostile_infiltration"]
    assert push.payload["ack_url"] == f"{BASE_URL}/en/responder"
    world.run_at(30)  # his SMS is in his own language
    (sms,) = world.messages(world.sms)
    assert written_in(sms["message"], THAI)
    assert [n.lang for n in world.tried(incident_id, "somchai")] == ["th", "th"]
