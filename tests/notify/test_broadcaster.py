"""Broadcasts to the demo village: an area around the workers' quarters by the far fence gets
them by real Apprise SMS to a local receiver and real Web Push to a local push service, each
household in its own language; nobody outside the area gets anything."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import SITE, enrol, open_store
from konenut.api.routes.broadcasts import status_of
from konenut.app import commands as c
from konenut.app import handlers, muster
from konenut.app.broadcaster import Broadcaster
from konenut.app.channels import Channel
from konenut.app.identity import Actor
from konenut.app.registry import import_registry, read_sheet
from konenut.app.sms_text import sms_segments
from konenut.demo.seed import seed
from konenut.domain.events import NewEvent
from konenut.domain.ids import utcnow
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.state import SiteState
from konenut.i18n import LANGUAGES, catalogue
from konenut.notify.apprise_channel import AppriseChannel
from konenut.notify.router import Router
from konenut.notify.webpush import WebPushChannel, load_or_create_vapid_keys
from konenut.store.eventstore import EventStore
from notify.receivers import LOCAL_PUSH, Browser, Delivered, PushService, Receiver

BASE_URL = "https://konenut.example"
# The far fence: the four workers' quarters W1-W4 and nothing else (demo/site_plan.geojson).
WORKERS = {
    "type": "Polygon",
    "coordinates": [
        [
            [34.9725, 30.4294],
            [34.9731, 30.4294],
            [34.9731, 30.4306],
            [34.9725, 30.4306],
            [34.9725, 30.4294],
        ]
    ],
}
SHELTER = {lang: catalogue(lang)["instruction.stay_in_shelter"] for lang in LANGUAGES}
# The workers' quarters of a kibbutz no test has seen (issue 10): one group-housing household
# of 25 Thai and 16 Nepali speakers, each with a phone, a Thai foreman, in a building by the
# fence; and an area drawn around that building.
QUARTERS_PLAN = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {
                "type": "Polygon",
                "coordinates": [[[35.0, 31.0], [35.01, 31.0], [35.01, 31.01], [35.0, 31.0]]],
            },
            "properties": {"kind": "boundary", "ref": "B"},
        },
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [35.008, 31.002]},
            "properties": {"kind": "building", "ref": "W"},
        },
    ],
}
QUARTERS_AREA = {
    "type": "Polygon",
    "coordinates": [
        [[35.007, 31.001], [35.009, 31.001], [35.009, 31.003], [35.007, 31.003], [35.007, 31.001]]
    ],
}
THAI_WORKERS, NEPALI_WORKERS = 25, 16


def quarters_sheet() -> bytes:
    """The registry sheet: household_languages th;ne, each worker's own language and phone."""
    rows = [
        "household_ref,household_name,building_ref,safe_room,household_languages,foreman,"
        "person_ref,name,languages,phone"
    ]
    first = "w-1,Workers' quarters,W,shared_shelter,th;ne,t-1"
    for n in range(1, THAI_WORKERS + 1):
        rows.append(f"{first if n == 1 else 'w-1,,,,,'},t-{n},Somchai {n},th,+6681000{n:04d}")
    for n in range(1, NEPALI_WORKERS + 1):
        rows.append(f"w-1,,,,,,n-{n},Bishnu {n},ne,+97798000{n:04d}")
    return "\n".join(rows).encode()


def household_id(state: SiteState, ref: str) -> str:
    return next(h.household_id for h in state.households.values() if h.ref == ref)


def commander(state: SiteState) -> Actor:
    person = next(p for p in state.persons.values() if Role.COMMANDER.value in p.roles)
    return Actor(SITE, "t-cmd", person.person_id, SubjectKind.PERSON, frozenset({Role.COMMANDER}))


def subscribe_phone(
    store: EventStore,
    subject: str,
    browser: Browser,
    endpoint: str,
    kind: SubjectKind = SubjectKind.HOUSEHOLD,
    lang: str | None = None,
) -> str:
    """Enrol a phone for the subject (a household's resident phone, or a person's own) whose
    pages are in `lang`, and subscribe it to push; its token id."""
    roles = [Role.RESIDENT] if kind is SubjectKind.HOUSEHOLD else []  # a person's own: theirs
    enrol(store, c.IssueEnrollmentCode(subject_id=subject, subject_kind=kind, roles=roles))
    token_id = max(t.token_id for t in store.state(SITE).tokens.values() if t.subject_id == subject)
    actor = Actor(SITE, token_id, subject, kind, frozenset({Role.RESIDENT}))
    keys = browser.subscription(endpoint)
    body = c.SubscribePush(endpoint=keys.endpoint, p256dh=keys.p256dh, auth=keys.auth, lang=lang)
    store.execute(SITE, muster.subscribe_push(actor, body))
    return token_id


@pytest.fixture
def village(tmp_path: Path) -> Iterator[EventStore]:
    store = open_store(f"sqlite:///{tmp_path / 'konenut.db'}")
    try:
        assert seed(store, SITE)
        yield store
    finally:
        store.close()


def _open(store: EventStore) -> str:
    opened = store.execute(SITE, handlers.open_incident(None, c.OpenIncident(title="Infiltration")))
    return str(opened.body["incident_id"])


def _broadcast(store: EventStore, incident_id: str, **body: Any) -> str:
    cmd = c.SendBroadcast.model_validate(body)
    sent = store.execute(
        SITE, handlers.send_broadcast(commander(store.state(SITE)), incident_id, cmd)
    )
    return str(sent.body["broadcast_id"])


def sms_channel(sms: Receiver) -> AppriseChannel:
    """SMS through Apprise to the local receiver; the number is the path's last segment."""
    return AppriseChannel("sms", f"json://127.0.0.1:{sms.port}/sms/{{phone}}")


def push_channel(tmp_path: Path) -> WebPushChannel:
    """Web Push with the site's VAPID keys, to the local push service."""
    keys = load_or_create_vapid_keys(tmp_path)
    return WebPushChannel(keys, "mailto:squad@alumim.example", endpoints=LOCAL_PUSH)


def deliver(store: EventStore, channels: dict[str, Channel], passes: int = 1) -> list[int]:
    """The broadcaster's passes over what is waiting, through `channels`; what each sent."""
    broadcaster = Broadcaster(store, SITE, Router(channels), BASE_URL, auto=False)
    assert broadcaster.start()
    try:
        return [broadcaster.run_once() for _ in range(passes)]
    finally:
        broadcaster.stop()


def test_an_area_broadcast_reaches_exactly_the_households_inside_each_in_its_language(
    village: EventStore,
    receiver_factory: Callable[..., Receiver],
    push_service: PushService,
    tmp_path: Path,
) -> None:
    store = village
    incident_id = _open(store)
    state = store.state(SITE)
    w1 = household_id(state, "h-W1")
    # A worker's phone in W1 subscribed for push with its household's resident token.
    browser = Browser()
    endpoint, pushed = push_service(browser, 201)
    subscribe_phone(store, w1, browser, endpoint)
    sms = receiver_factory()
    broadcast_id = _broadcast(store, incident_id, template="stay_in_shelter", area=WORKERS)

    channels: dict[str, Channel] = {"sms": sms_channel(sms), "push": push_channel(tmp_path)}
    assert deliver(store, channels, passes=2)[1] == 0  # nothing twice

    state = store.state(SITE)
    inside = {h.household_id: h for h in state.households.values() if h.ref.startswith("h-W")}
    assert len(inside) == 4
    broadcast = state.incidents[incident_id].broadcasts[broadcast_id]
    assert set(broadcast.household_ids) == set(inside)
    # SMS: one to each phone of each household inside, in its owner's language; the foreman's
    # also in every language of his household (W4 is Thai and Nepali).
    phones = {p.phone: p for p in state.persons.values() if p.household_id in inside and p.phone}
    got = {r.path.rsplit("/", 1)[-1]: r.json()["message"] for r in sms.requests}
    assert len(sms.requests) == len(phones)
    assert set(got) == set(phones)
    for phone, person in phones.items():
        household = inside[str(person.household_id)]
        langs = [person.languages[0]]
        if person.ref == household.foreman_person_ref:
            langs = list(dict.fromkeys([*langs, *household.languages]))
        assert got[phone].split("\n") == [SHELTER[lang] for lang in langs]
        assert sms_segments(got[phone], langs[0]) == len(langs)
    # Web Push: the W1 phone decrypts the Thai text.
    reasons = [d.reason for d in broadcast.deliveries.values() if d.household_id == w1]
    assert len(pushed) == 1, reasons
    assert pushed[0].payload["body"] == catalogue("th")["instruction.stay_in_shelter"]
    # Delivery state: both channels delivered for W1, SMS for every household inside.
    for household in inside.values():
        outcomes = {
            d.channel: d.outcome
            for d in broadcast.deliveries.values()
            if d.household_id == household.household_id
        }
        assert outcomes["sms"] == "delivered"
        assert outcomes["push"] == ("delivered" if household.household_id == w1 else "failed")
    assert {d.household_id for d in broadcast.deliveries.values()} == set(inside)


def test_a_phone_whose_push_subscription_is_gone_is_dropped(
    village: EventStore, push_service: PushService, tmp_path: Path
) -> None:
    store = village
    incident_id = _open(store)
    w2 = household_id(store.state(SITE), "h-W2")
    browser = Browser()
    gone_endpoint, _ = push_service(browser, 410)
    token_id = subscribe_phone(store, w2, browser, gone_endpoint)
    assert token_id in store.state(SITE).push_subscriptions
    broadcast_id = _broadcast(store, incident_id, template="stay_in_shelter", area=WORKERS)

    deliver(store, {"push": push_channel(tmp_path)})

    state = store.state(SITE)
    assert token_id not in state.push_subscriptions  # the next broadcast does not try it again
    broadcast = state.incidents[incident_id].broadcasts[broadcast_id]
    (w2_push,) = [d for d in broadcast.deliveries.values() if d.household_id == w2]
    assert w2_push.outcome == "failed"
    assert w2_push.reason


def test_a_revoked_phone_gets_no_broadcast(
    village: EventStore, push_service: PushService, tmp_path: Path
) -> None:
    """A lost resident phone, revoked: its subscription ends in the revoking command, and the
    next broadcast (which may carry the safe word) reaches only the household's other phone;
    a subscription that outlived its revocation in an older log is skipped too (issue 11)."""
    store = village
    incident_id = _open(store)
    w1 = household_id(store.state(SITE), "h-W1")
    phones: dict[str, tuple[str, list[Delivered]]] = {}
    for name in ("lost", "kept", "revoked long ago"):
        browser = Browser()
        endpoint, pushed = push_service(browser, 201)
        phones[name] = (subscribe_phone(store, w1, browser, endpoint), pushed)

    revoke = handlers.revoke_device(None, phones["lost"][0], c.RevokeDevice(reason="lost"))
    revoked = store.execute(SITE, revoke)
    assert [(e.type, e.payload["token_id"]) for e in revoked.events] == [
        ("token.revoked", phones["lost"][0]),
        ("push.unsubscribed", phones["lost"][0]),
    ]
    assert phones["lost"][0] not in store.state(SITE).push_subscriptions
    old_revocation = {"token_id": phones["revoked long ago"][0], "reason": ""}
    store.append(
        SITE, [NewEvent(type="token.revoked", payload=old_revocation, occurred_at=utcnow())]
    )
    assert phones["revoked long ago"][0] in store.state(SITE).push_subscriptions

    broadcast_id = _broadcast(store, incident_id, template="stay_in_shelter", household_ids=[w1])
    deliver(store, {"push": push_channel(tmp_path)})

    assert phones["lost"][1] == [] and phones["revoked long ago"][1] == []
    assert len(phones["kept"][1]) == 1
    broadcast = store.state(SITE).incidents[incident_id].broadcasts[broadcast_id]
    (push,) = [d for d in broadcast.deliveries.values() if d.channel == "push"]
    assert push.outcome == "delivered" and push.to == "1 device"


def test_custom_text_reaches_other_languages_marked_not_translated(
    village: EventStore, receiver_factory: Callable[..., Receiver]
) -> None:
    store = village
    incident_id = _open(store)
    sms = receiver_factory()
    w3 = household_id(store.state(SITE), "h-W3")  # reads Nepali only
    _broadcast(store, incident_id, texts={"en": "Armed men near the fence"}, household_ids=[w3])
    deliver(store, {"sms": sms_channel(sms)})
    messages = [r.json()["message"] for r in sms.requests]
    assert messages
    marker = catalogue("ne")["resident.not_translated"]
    for message in messages:
        assert message.startswith("Armed men near the fence")
        assert marker in message


@pytest.fixture
def quarters(tmp_path: Path) -> Iterator[EventStore]:
    """A new kibbutz: its plan, then the workers' quarters imported from its registry sheet."""
    store = open_store(f"sqlite:///{tmp_path / 'quarters.db'}")
    try:
        site = c.ConfigureSite(name="Kfar Gvul", default_language="he", plan=QUARTERS_PLAN)
        store.execute(SITE, handlers.configure_site(None, site))
        store.execute(SITE, import_registry(None, read_sheet(quarters_sheet(), "text/csv")))
        commander = c.AddPerson(ref="cmd", name="Dana", roles=[Role.COMMANDER])
        store.execute(SITE, handlers.add_person(None, commander))
        yield store
    finally:
        store.close()


def subscribe(
    store: EventStore, subject: str, kind: SubjectKind, lang: str | None, push: PushService
) -> list[Delivered]:
    """What a new phone of `subject`, its pages in `lang`, receives from its push service."""
    browser = Browser()
    endpoint, pushed = push(browser, 201)
    subscribe_phone(store, subject, browser, endpoint, kind, lang)
    return pushed


def test_the_workers_quarters_get_each_worker_in_their_own_language_by_sms_and_push(
    quarters: EventStore,
    receiver_factory: Callable[..., Receiver],
    push_service: PushService,
    tmp_path: Path,
) -> None:
    store = quarters
    incident_id = _open(store)
    state = store.state(SITE)
    (household,) = state.households.values()
    assert household.languages == ["th", "ne"] and household.foreman_person_ref == "t-1"
    workers = {p.ref: p for p in state.persons.values() if p.household_id}
    assert len(workers) == THAI_WORKERS + NEPALI_WORKERS
    # Push: the household's shared phones with the page in Thai or in Nepali, the own phone of
    # a Nepali squad member who lives there (no language chosen on it: his own), and a
    # household phone with no choice made.
    w = household.household_id
    guard = c.AddPerson(
        ref="n-guard", name="Ram", roles=[Role.RESPONDER], languages=["ne", "en"], household_id=w
    )
    guard_id = str(store.execute(SITE, handlers.add_person(None, guard)).body["person_id"])
    devices = {
        "household, Thai page": subscribe(store, w, SubjectKind.HOUSEHOLD, "th", push_service),
        "household, Nepali page": subscribe(store, w, SubjectKind.HOUSEHOLD, "ne", push_service),
        "Ram's own": subscribe(store, guard_id, SubjectKind.PERSON, None, push_service),
        "household, no choice": subscribe(store, w, SubjectKind.HOUSEHOLD, None, push_service),
    }
    expected_push = {
        "household, Thai page": [SHELTER["th"]],
        "household, Nepali page": [SHELTER["ne"]],
        "Ram's own": [SHELTER["ne"]],
        "household, no choice": [SHELTER["th"], SHELTER["ne"]],
    }
    sms = receiver_factory()
    broadcast_id = _broadcast(store, incident_id, template="stay_in_shelter", area=QUARTERS_AREA)
    deliver(store, {"sms": sms_channel(sms), "push": push_channel(tmp_path)})

    # SMS: every Nepali speaker's in Nepali, every Thai speaker's in Thai, one segment; the
    # foreman's, who speaks for all of them, in Thai then Nepali, in two segments.
    got = {r.path.rsplit("/", 1)[-1]: r.json()["message"] for r in sms.requests}
    assert len(sms.requests) == len(got) == THAI_WORKERS + NEPALI_WORKERS
    for ref, worker in workers.items():
        text = got[str(worker.phone)]
        if ref == "t-1":
            assert text == f"{SHELTER['th']}\n{SHELTER['ne']}"
            assert sms_segments(text, "th") == 2
        else:
            assert text == SHELTER["ne" if ref.startswith("n-") else "th"], ref
            assert sms_segments(text, worker.languages[0]) == 1
    # Web Push: each device in the language chosen on it, else its owner's.
    for device, pushed in devices.items():
        (push,) = pushed
        assert push.payload["body"].split("\n") == expected_push[device], device
    # The board's delivery state stays one row per household and channel, with every language.
    state = store.state(SITE)
    broadcast = state.incidents[incident_id].broadcasts[broadcast_id]
    rows = {d.channel: d for d in broadcast.deliveries.values()}
    assert len(broadcast.deliveries) == 2
    assert {ch: (d.outcome, d.langs) for ch, d in rows.items()} == {
        "sms": ("delivered", ["th", "ne"]),
        "push": ("delivered", ["th", "ne"]),
    }
    status = status_of(state, state.incidents[incident_id], broadcast)
    (row,) = status["households"]
    assert row["channels"]["sms"]["langs"] == ["th", "ne"]  # it said "sms lang: th"
    assert status["counts"]["delivered"] == 1


def test_a_shared_phone_carries_the_language_of_each_person_it_serves(
    quarters: EventStore, receiver_factory: Callable[..., Receiver]
) -> None:
    store = quarters
    incident_id = _open(store)
    state = store.state(SITE)
    nepali = next(p for p in state.persons.values() if p.ref == "n-1")
    thai = next(p for p in state.persons.values() if p.ref == "t-2")
    # Bishnu 1 uses Somchai 2's phone (the sheet imported again: only the difference is stored).
    shared = quarters_sheet().replace(str(nepali.phone).encode(), str(thai.phone).encode())
    store.execute(SITE, import_registry(None, read_sheet(shared, "text/csv")))
    sms = receiver_factory()
    _broadcast(store, incident_id, template="stay_in_shelter")
    deliver(store, {"sms": sms_channel(sms)})
    to_shared = [r.json()["message"] for r in sms.requests if r.path.endswith(str(thai.phone)[1:])]
    assert to_shared == [f"{SHELTER['th']}\n{SHELTER['ne']}"]
    assert len(sms.requests) == THAI_WORKERS + NEPALI_WORKERS - 1
