"""The broadcaster: brings each broadcast to its households by Web Push and SMS.

The app already shows a broadcast through the stream. For every `broadcast.sent` in an open
incident that has no delivery yet, one command records a `broadcast.delivery_sent` per household
and channel (and at once a failed `broadcast.delivery_settled` where the household cannot be
reached: no subscribed device, no phone, no gateway); the sends then run concurrently on the
broadcaster's own loop and thread pool, and their outcomes are appended many per commit.
Runs on app/sending.py's machinery, like the escalator, on a thread of its own: a slow SMS
gateway never holds back a muster.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import datetime

from pydantic import Field

from konenut.app import commands as c
from konenut.app import texts
from konenut.app.channels import Channel as Sender
from konenut.app.channels import DeliveryResult, OutboundMessage, Recipient
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import in_open_incident, new_event
from konenut.app.identity import Actor, links_url
from konenut.app.routing import NO_ADDRESS, PUSH, Target, Unreachable
from konenut.app.sending import (
    BackgroundSender,
    GoneSubscription,
    gone_subscription,
    unsubscribe_events,
)
from konenut.domain.broadcasts import text_for
from konenut.domain.event_types import Id
from konenut.domain.events import JsonDict, NewEvent
from konenut.domain.ids import new_id
from konenut.domain.languages import device_language, household_languages, reader_languages
from konenut.domain.state import (
    BroadcastView,
    HouseholdView,
    IncidentView,
    PersonView,
    SiteState,
)
from konenut.i18n import catalogue

SMS = "sms"
CHANNELS = (PUSH, SMS)
REASON_MAX = 500
PROVIDER_ID_MAX = 200


@dataclass(frozen=True)
class Delivery:
    """The sends behind one `broadcast.delivery_sent`: one household on one channel."""

    incident_id: str
    drill: bool
    broadcast_id: str
    delivery_id: str
    household_id: str
    # Each send with the device whose push subscription it used (None: not a push send).
    sends: list[tuple[Sender, OutboundMessage, str | None]] = field(default_factory=list)


@dataclass(frozen=True)
class _Send:
    """One send of a delivery: the channel, the address, and each reader's languages there
    (best first; a shared phone or a household's device has several readers)."""

    sender: Sender
    target: Target
    readers: list[list[str]]

    @property
    def token_id(self) -> str | None:
        return self.target.token_id


@dataclass
class _Part:
    """One language's share of a message."""

    lang: str  # the language `text` is written in
    text: str
    markers: list[str]  # "(not translated)" in each language that reads it untranslated


def _address(recipient: Recipient) -> str | None:
    return recipient.phone or recipient.telegram_chat or recipient.email


# A delivery settled, or a push subscription the push service said is gone.
Outcome = tuple[Delivery, DeliveryResult] | GoneSubscription


class Broadcaster(BackgroundSender[Outcome]):
    """One per site and store in a process. `start()` runs it on a thread of its own."""

    name = "broadcaster"

    def _setup(self) -> None:
        self._planned: set[str] = set()  # broadcasts handled (some reach nobody: no events)

    # --- one tick ----------------------------------------------------------------------------
    async def tick(self) -> int:
        """Record and start the deliveries of every new broadcast; returns how many."""
        if not self._pending(self.store.state(self.site_id)):
            return 0
        planned: list[Delivery] = []
        handled: list[str] = []

        def decide(state: SiteState, now: datetime) -> Decision:
            planned.clear()
            handled.clear()
            events: list[NewEvent] = []
            for incident, broadcast in self._pending(state):
                events += _Planner(self, state, incident, broadcast, now).plan(planned)
                handled.append(broadcast.broadcast_id)
            return Decision(events)

        await asyncio.wrap_future(self.store.submit(self.site_id, decide))
        self._planned.update(handled)  # also those that reached nobody: no event says so
        for delivery in planned:
            if delivery.sends:
                self._start_delivery(self._deliver(delivery))
        return len(planned)

    def _pending(self, state: SiteState) -> list[tuple[IncidentView, BroadcastView]]:
        return [
            (incident, broadcast)
            for incident in list(state.incidents.values())
            if incident.is_open
            for broadcast in list(incident.broadcasts.values())
            if not broadcast.deliveries and broadcast.broadcast_id not in self._planned
        ]

    # --- sending and outcomes ----------------------------------------------------------------
    async def _deliver(self, delivery: Delivery) -> None:
        results = await asyncio.gather(*(self._send(s, m) for s, m, _ in delivery.sends))
        gone = [
            gone_subscription(message.recipient, token_id, result)
            for (_, message, token_id), result in zip(delivery.sends, results, strict=True)
        ]
        accepted = [r for r in results if r.sent]
        if accepted:
            outcome = next((r for r in accepted if r.provider_message_id), accepted[0])
        else:
            reasons = "; ".join(dict.fromkeys(r.detail or "failed" for r in results))
            outcome = DeliveryResult(sent=False, detail=reasons)
        self._collect([(delivery, outcome), *(g for g in gone if g is not None)])

    def _outcome_events(
        self, state: SiteState, pending: list[Outcome], now: datetime
    ) -> list[NewEvent]:
        settled = [_settled(*o, now) for o in pending if isinstance(o, tuple)]
        gone = [o for o in pending if isinstance(o, GoneSubscription)]
        return settled + unsubscribe_events(state, gone, now)


def _settled(delivery: Delivery, result: DeliveryResult, now: datetime) -> NewEvent:
    payload: JsonDict = {
        "broadcast_id": delivery.broadcast_id,
        "delivery_id": delivery.delivery_id,
        "household_id": delivery.household_id,
        "outcome": "delivered" if result.sent else "failed",
    }
    if not result.sent:
        payload["reason"] = result.detail[:REASON_MAX]
    elif result.provider_message_id:
        payload["provider_message_id"] = result.provider_message_id[:PROVIDER_ID_MAX]
    return NewEvent(
        type="broadcast.delivery_settled",
        payload=payload,
        occurred_at=now,
        incident_id=delivery.incident_id,
        drill=delivery.drill,
    )


class _Planner:
    """Turns one broadcast into a delivery per household and channel (runs on the writer)."""

    def __init__(
        self,
        broadcaster: Broadcaster,
        state: SiteState,
        incident: IncidentView,
        broadcast: BroadcastView,
        now: datetime,
    ) -> None:
        self.router = broadcaster.router
        self.base_url = links_url(state.site, broadcaster.base_url)
        self.state = state
        self.incident = incident
        self.broadcast = broadcast
        self.now = now
        self.events: list[NewEvent] = []
        self.members: dict[str, list[PersonView]] = {}  # household id -> its members
        for person in list(state.persons.values()):
            if person.household_id:
                self.members.setdefault(person.household_id, []).append(person)

    def plan(self, planned: list[Delivery]) -> list[NewEvent]:
        targets = self.broadcast.household_ids or [
            h.household_id for h in list(self.state.households.values())
        ]
        for household_id in targets:
            household = self.state.households.get(household_id)
            if household is None:
                continue
            # A channel the site has not configured is left out, not failed per household:
            # 10,000 "no SMS gateway configured" events would tell the board nothing.
            for channel in (ch for ch in CHANNELS if self.router.configured(ch)):
                planned.append(self._delivery(household, channel))
        return self.events

    def _delivery(self, household: HouseholdView, channel: str) -> Delivery:
        delivery = Delivery(
            self.incident.incident_id,
            self.incident.drill,
            self.broadcast.broadcast_id,
            new_id(),
            household.household_id,
        )
        addressed = self._addressed(household, channel)
        if isinstance(addressed, Unreachable):
            readers = [[lang] for lang in household_languages(self.state, household)]
            self._sent(delivery, channel, [self._parts(readers)[0].lang], "")
            self.events.append(
                _settled(delivery, DeliveryResult(sent=False, detail=addressed.reason), self.now)
            )
            return delivery
        sends, to = addressed
        langs: list[str] = []
        for send in sends:
            message, written_in = self._message(channel, send.readers)
            langs += written_in
            delivery.sends.append(
                (send.sender, replace(message, recipient=send.target.recipient), send.token_id)
            )
        self._sent(delivery, channel, list(dict.fromkeys(langs)), to)
        return delivery

    def _sent(self, delivery: Delivery, channel: str, langs: list[str], to: str) -> None:
        self._event(
            "broadcast.delivery_sent",
            {
                "broadcast_id": delivery.broadcast_id,
                "delivery_id": delivery.delivery_id,
                "household_id": delivery.household_id,
                "channel": channel,
                "lang": langs[0],
                "langs": langs,
                "to": to,
            },
        )

    def _addressed(
        self, household: HouseholdView, channel: str
    ) -> tuple[list[_Send], str] | Unreachable:
        """Each send of the household on `channel` with who reads it, and the masked addresses."""
        if channel != PUSH:
            return self._phones(household, channel)
        route = self.router.household_push_route(self.state, household.household_id, self.now)
        if isinstance(route, Unreachable):
            return route
        sends = [_Send(route.channel, t, self._device_readers(t, household)) for t in route.targets]
        return sends, route.to

    def _device_readers(self, target: Target, household: HouseholdView) -> list[list[str]]:
        """A device is read in the language chosen on it; without one, in its owner's: a
        member's own device in theirs, the household's shared device in all of the household's."""
        chosen = device_language(self.state, target.token_id)
        if chosen is not None:
            return [[chosen]]
        subscription = self.state.push_subscriptions.get(target.token_id or "")
        person = self.state.persons.get(subscription.person_id) if subscription else None
        if person is not None:
            return [reader_languages(self.state, person, household)]
        return [[lang] for lang in household_languages(self.state, household)]

    def _phones(
        self, household: HouseholdView, channel: str
    ) -> tuple[list[_Send], str] | Unreachable:
        """Each member's phone once, read by everyone whose phone it is (a shared phone by
        several); the foreman's also in every language of the household he speaks for."""
        by_address: dict[str, _Send] = {}
        shown: list[str] = []
        reasons: list[str] = []
        for person in self.members.get(household.household_id, []):
            route = self.router.route(
                self.state, person.person_id, channel, drill=self.incident.drill, now=self.now
            )
            if isinstance(route, Unreachable):
                reasons.append(route.reason)
                continue
            readers = [reader_languages(self.state, person, household)]
            if person.ref == household.foreman_person_ref:
                readers += [[lang] for lang in household_languages(self.state, household)]
            for target in route.targets:
                address = _address(target.recipient) or person.person_id
                known = by_address.get(address)
                if known is None:
                    by_address[address] = _Send(route.channel, target, readers)
                    shown.append(route.to)
                else:
                    by_address[address] = replace(known, readers=known.readers + readers)
        if not by_address:
            return Unreachable(reasons[0] if reasons else NO_ADDRESS[channel])
        return list(by_address.values()), ", ".join(shown)[:200]

    def _message(self, channel: str, readers: list[list[str]]) -> tuple[OutboundMessage, list[str]]:
        """The message these readers get, in each one's language; and the languages it is in."""
        parts = self._parts(readers)
        if channel == SMS:  # no title: SMS gateways put it before the text, past the segment
            title = ""
            body = texts.sms_in_languages([(p.text, p.markers, p.lang) for p in parts])
        else:
            titles = (catalogue(langs[0])["resident.instruction"] for langs in readers)
            title = " / ".join(dict.fromkeys(titles))
            body = texts.LANGUAGE_SEPARATOR.join(
                texts.join_sentences([p.text, *p.markers]) for p in parts
            )
        message = OutboundMessage(
            channel=channel,
            recipient=Recipient(),
            title=title,
            body=body,
            lang=parts[0].lang,
            ack_url=f"{self.base_url}/{readers[0][0]}/resident",
            tag=f"broadcast-{self.broadcast.broadcast_id}",
            data={
                "kind": "broadcast",
                "incident_id": self.incident.incident_id,
                "broadcast_id": self.broadcast.broadcast_id,
            },
        )
        return message, [p.lang for p in parts]

    def _parts(self, readers: list[list[str]]) -> list[_Part]:
        """Each reader's best text once (readers of one text share it), marked "not translated"
        in the language of each reader who gets it untranslated."""
        parts: dict[str, _Part] = {}
        for langs in readers:
            lang, text, translated = text_for(
                self.broadcast.texts, self.broadcast.translated, langs
            )
            part = parts.setdefault(text, _Part(lang, text, []))
            marker = f"({catalogue(langs[0])['resident.not_translated']})"
            if not translated and marker not in part.markers:
                part.markers.append(marker)
        return list(parts.values())

    def _event(self, type_: str, payload: JsonDict) -> None:
        self.events.append(
            NewEvent(
                type=type_,
                payload=payload,
                occurred_at=self.now,
                incident_id=self.incident.incident_id,
                drill=self.incident.drill,
            )
        )


def broadcast_counts(state: SiteState, broadcast: BroadcastView) -> dict[str, int]:
    """Its households counted as the broadcasts board counts them: reached on some channel, read,
    and not reached (every channel tried failed, the latest attempt of each)."""
    targets = set(broadcast.household_ids or list(state.households))
    latest: dict[str, dict[str, str | None]] = {}  # household -> channel -> latest outcome
    delivered: set[str] = set()
    for delivery in sorted(list(broadcast.deliveries.values()), key=lambda d: d.sent_at):
        if delivery.household_id in targets:
            latest.setdefault(delivery.household_id, {})[delivery.channel] = delivery.outcome
            if delivery.outcome == "delivered":
                delivered.add(delivery.household_id)
    failed = (all(o == "failed" for o in outcomes.values()) for outcomes in latest.values())
    return {
        "households": len(targets),
        "delivered": len(delivered),
        "read": len(targets.intersection(list(broadcast.read))),
        "not_reached": sum(failed),
    }


class MarkBroadcastRead(c.Command):
    household_id: Id | None = Field(default=None, description="Default: the caller's")


def mark_read(
    actor: Actor, incident_id: str, broadcast_id: str, household_id: str, cmd: MarkBroadcastRead
) -> Decide:
    """`broadcast.read` the first time the household's app showed it; nothing after that."""

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        broadcast = incident.broadcasts.get(broadcast_id)
        if broadcast is None or household_id in broadcast.read:
            return []
        payload = {"broadcast_id": broadcast_id, "household_id": household_id}
        return [
            new_event("broadcast.read", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner)
