"""Broadcasts to the demo village: an area around the workers' quarters by the far fence gets
them by real Apprise SMS to a local receiver and real Web Push to a local push service, each
household in its own language; nobody outside the area gets anything."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import SITE, enrol, open_store
from konenut.app import commands as c
from konenut.app import handlers, muster
from konenut.app.broadcaster import Broadcaster
from konenut.app.identity import Actor
from konenut.demo.seed import seed
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.state import SiteState
from konenut.i18n import catalogue
from konenut.notify.apprise_channel import AppriseChannel
from konenut.notify.router import Router
from konenut.notify.sms_text import sms_length
from konenut.notify.webpush import WebPushChannel, load_or_create_vapid_keys
from konenut.store.eventstore import EventStore
from notify.receivers import Browser, PushService, Receiver

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
THAI = range(0x0E00, 0x0E80)
DEVANAGARI = range(0x0900, 0x0980)


def written_in(text: str, script: range) -> bool:
    return any(ord(ch) in script for ch in text)


def household_id(state: SiteState, ref: str) -> str:
    return next(h.household_id for h in state.households.values() if h.ref == ref)


def commander(state: SiteState) -> Actor:
    person = next(p for p in state.persons.values() if Role.COMMANDER.value in p.roles)
    return Actor(SITE, "t-cmd", person.person_id, SubjectKind.PERSON, frozenset({Role.COMMANDER}))


def subscribe_household_phone(
    store: EventStore, household: str, browser: Browser, endpoint: str
) -> str:
    """Enrol a resident phone for the household and subscribe it to push; its token id."""
    enrol(
        store,
        c.IssueEnrollmentCode(
            subject_id=household, subject_kind=SubjectKind.HOUSEHOLD, roles=[Role.RESIDENT]
        ),
    )
    token_id = next(
        t.token_id for t in store.state(SITE).tokens.values() if t.subject_id == household
    )
    resident = Actor(
        SITE, token_id, household, SubjectKind.HOUSEHOLD, frozenset({Role.RESIDENT}), household
    )
    keys = browser.subscription(endpoint)
    store.execute(
        SITE,
        muster.subscribe_push(
            resident, c.SubscribePush(endpoint=keys.endpoint, p256dh=keys.p256dh, auth=keys.auth)
        ),
    )
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
    subscribe_household_phone(store, w1, browser, endpoint)
    sms = receiver_factory()
    router = Router(
        {
            "sms": AppriseChannel("sms", f"json://127.0.0.1:{sms.port}/sms/{{phone}}"),
            "push": WebPushChannel(
                load_or_create_vapid_keys(tmp_path), "mailto:squad@alumim.example"
            ),
        }
    )
    broadcast_id = _broadcast(store, incident_id, template="stay_in_shelter", area=WORKERS)

    broadcaster = Broadcaster(store, SITE, router, BASE_URL, auto=False)
    assert broadcaster.start()
    try:
        broadcaster.run_once()
        assert broadcaster.run_once() == 0  # nothing twice
    finally:
        broadcaster.stop()

    state = store.state(SITE)
    inside = {h.household_id: h for h in state.households.values() if h.ref.startswith("h-W")}
    assert len(inside) == 4
    broadcast = state.incidents[incident_id].broadcasts[broadcast_id]
    assert set(broadcast.household_ids) == set(inside)
    # SMS: one to each phone of each household inside, in its first language, one segment.
    phones = {
        p.phone: inside[p.household_id]
        for p in state.persons.values()
        if p.household_id in inside and p.phone
    }
    got = {r.path.rsplit("/", 1)[-1]: r.json()["message"] for r in sms.requests}
    assert len(sms.requests) == len(phones)
    assert set(got) == set(phones)
    for phone, household in phones.items():
        text = got[phone]
        lang = household.languages[0]
        assert text == catalogue(lang)["instruction.stay_in_shelter"]
        assert written_in(text, THAI if lang == "th" else DEVANAGARI)
        length, limit = sms_length(text, lang)
        assert length <= limit
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
    token_id = subscribe_household_phone(store, w2, browser, gone_endpoint)
    assert token_id in store.state(SITE).push_subscriptions
    keys = load_or_create_vapid_keys(tmp_path)
    router = Router({"push": WebPushChannel(keys, "mailto:squad@alumim.example")})
    broadcast_id = _broadcast(store, incident_id, template="stay_in_shelter", area=WORKERS)

    broadcaster = Broadcaster(store, SITE, router, BASE_URL, auto=False)
    assert broadcaster.start()
    try:
        broadcaster.run_once()
    finally:
        broadcaster.stop()

    state = store.state(SITE)
    assert token_id not in state.push_subscriptions  # the next broadcast does not try it again
    broadcast = state.incidents[incident_id].broadcasts[broadcast_id]
    (w2_push,) = [d for d in broadcast.deliveries.values() if d.household_id == w2]
    assert w2_push.outcome == "failed"
    assert w2_push.reason


def test_custom_text_reaches_other_languages_marked_not_translated(
    village: EventStore, receiver_factory: Callable[..., Receiver]
) -> None:
    store = village
    incident_id = _open(store)
    sms = receiver_factory()
    router = Router({"sms": AppriseChannel("sms", f"json://127.0.0.1:{sms.port}/{{phone}}")})
    w3 = household_id(store.state(SITE), "h-W3")  # reads Nepali only
    _broadcast(store, incident_id, texts={"en": "Armed men near the fence"}, household_ids=[w3])
    broadcaster = Broadcaster(store, SITE, router, BASE_URL, auto=False)
    assert broadcaster.start()
    try:
        broadcaster.run_once()
    finally:
        broadcaster.stop()
    messages = [r.json()["message"] for r in sms.requests]
    assert messages
    marker = catalogue("ne")["resident.not_translated"]
    for message in messages:
        assert message.startswith("Armed men near the fence")
        assert marker in message
