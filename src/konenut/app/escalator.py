"""The escalator: sends each muster call down the site's escalation chain until people answer.

Every tick (once a second, and at once when a call or an answer is appended: its policy,
app/policies.py) it reads the site's projection, asks the pure rule (domain/escalation.py)
which attempts are due, records them as `notification.sent` in one command, sends them
concurrently and records each outcome.
Sending runs on a loop and thread pool of its own, so a hanging provider never holds back the
API or the other channels.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import partial

from konenut.app import texts
from konenut.app.channels import SEND_TIMEOUT_SECS, DeliveryResult, OutboundMessage, Recipient
from konenut.app.channels import Channel as Sender
from konenut.app.decisions import Decision
from konenut.app.identity import links_url
from konenut.app.routing import Route, Target, Unreachable
from konenut.app.sending import (
    BackgroundSender,
    GoneSubscription,
    gone_subscription,
    unsubscribe_events,
)
from konenut.domain.escalation import Attempt, Channel, Due, EscalationPolicy, due_attempts
from konenut.domain.events import JsonDict, NewEvent
from konenut.domain.ids import new_id, parse_time
from konenut.domain.languages import device_language
from konenut.domain.muster import answers, called_people, latest_muster, policy_of
from konenut.domain.roles import Role
from konenut.domain.state import IncidentView, ResponderView, SiteState
from konenut.i18n import catalogue

# An attempt with no outcome after this long counts as failed: a crash mid-send must not
# stall a person's chain forever (each send gives up after SEND_TIMEOUT_SECS).
STALE_SENDING = timedelta(seconds=3 * SEND_TIMEOUT_SECS)
# Answers given on these channels are confirmed back on the same one (issue 4, item 4).
CONFIRMED_VIA = frozenset({"sms", "telegram", "push"})
# Attempts that belong to the escalation chain (not confirmations or "bring the key" requests).
CHAIN_QUESTIONS = frozenset({"muster", "deputy"})
BRING_CHANNELS = ("push", "sms")
TEXT_REPLY_CHANNELS = frozenset({"sms", "telegram"})
ONE_SEGMENT_CHANNELS = frozenset({"sms", "telegram", "signal", "whatsapp", "voice"})
PROVIDER_ID_MAX = 200
REASON_MAX = 500
PUSH = "push"


@dataclass(frozen=True)
class Send:
    sender: Sender
    message: OutboundMessage
    target: Target


@dataclass
class Job:
    """The sends behind one or more `notification.sent` (several for an aggregated deputy)."""

    incident_id: str
    drill: bool
    notifications: list[tuple[str, str]]  # (notification id, person id)
    sends: list[Send] = field(default_factory=list)
    confirms: tuple[str, str, str] | None = None  # (muster, person, answer time) it confirms


@dataclass
class Plan:
    """What one tick decided: the events to append and the jobs to run once they are durable."""

    events: list[NewEvent] = field(default_factory=list)
    jobs: list[Job] = field(default_factory=list)


# An outcome to record: (event type, payload, incident, drill), or a push subscription to drop.
Outcome = tuple[str, JsonDict, str | None, bool] | GoneSubscription


class Escalator(BackgroundSender[Outcome]):
    """One per site and store in a process. `start()` runs it on a thread of its own."""

    name = "escalator"

    def _setup(self) -> None:
        self._confirmed: set[tuple[str, str, str]] = set()

    # --- one tick ----------------------------------------------------------------------------
    async def tick(self) -> int:
        """Record and start every attempt due now; returns how many were recorded."""
        state = self.store.state(self.site_id)
        if not self._anything_due(state, self.store.clock()):
            return 0
        plan = Plan()

        def decide(state: SiteState, now: datetime) -> Decision:
            plan.events.clear()
            plan.jobs.clear()
            self._plan(state, now, plan)
            return Decision(plan.events)

        await asyncio.wrap_future(self.store.submit(self.site_id, decide))
        for job in plan.jobs:
            if job.confirms is not None:
                self._confirmed.add(job.confirms)
            if job.sends:
                self._start_delivery(self._deliver(job))
        return sum(1 for e in plan.events if e.type == "notification.sent")

    def _anything_due(self, state: SiteState, now: datetime) -> bool:
        for incident, muster in _open_calls(state):
            if _due(state, incident, muster, now) or self._to_confirm(incident, muster):
                return True
            if _to_bring(incident, muster):
                return True
        return False

    def _to_confirm(self, incident: IncidentView, muster: JsonDict) -> list[ResponderView]:
        """Answers given on a channel that confirms back, not yet confirmed."""
        confirmed: dict[str, str] = {}  # person -> latest confirmation sent
        for n in list(incident.notifications.values()):
            if n.question == "confirmation" and n.muster_id == muster["muster_id"]:
                confirmed[n.person_id] = max(n.sent_at, confirmed.get(n.person_id, ""))
        wanted = []
        for person_id in answers(incident, muster):
            answer = incident.responders[person_id]
            if answer.via not in CONFIRMED_VIA:
                continue
            if (muster["muster_id"], person_id, answer.changed_at) in self._confirmed:
                continue
            if confirmed.get(person_id, "") >= answer.changed_at:
                continue
            wanted.append(answer)
        return wanted

    def _plan(self, state: SiteState, now: datetime, plan: Plan) -> None:
        """Runs on the store's writer thread against the current state."""
        for incident, muster in _open_calls(state):
            planner = _CallPlanner(self, state, incident, muster, now, plan)
            planner.escalate(_due(state, incident, muster, now))
            planner.confirm(self._to_confirm(incident, muster))
            planner.bring(_to_bring(incident, muster))

    # --- sending and outcomes ----------------------------------------------------------------
    async def _deliver(self, job: Job) -> None:
        results = await asyncio.gather(*(self._send(s.sender, s.message) for s in job.sends))
        self._collect(_outcome_events(job, list(zip(job.sends, results, strict=True))))

    def _outcome_events(
        self, state: SiteState, pending: list[Outcome], now: datetime
    ) -> list[NewEvent]:
        return _outcomes_to_events(state, pending, now)


def _open_calls(state: SiteState) -> Iterable[tuple[IncidentView, JsonDict]]:
    for incident in list(state.incidents.values()):
        if incident.is_open:
            muster = latest_muster(incident)
            if muster is not None:
                yield incident, muster


def attempts_of(incident: IncidentView, muster_id: str, now: datetime) -> list[Attempt]:
    """The chain's attempts so far, as the pure rule sees them."""
    attempts = []
    for n in list(incident.notifications.values()):
        if n.muster_id != muster_id or n.question not in CHAIN_QUESTIONS:
            continue
        sent_at = parse_time(n.sent_at)
        failed: bool | None = {"failed": True, "delivered": False}.get(n.outcome or "")
        if failed is None and now - sent_at > STALE_SENDING:
            failed = True
        attempts.append(Attempt(n.person_id, n.step, sent_at, failed, final=n.gone))
    return attempts


def _to_bring(incident: IncidentView, muster: JsonDict) -> list[JsonDict]:
    """Requests to bring a key (or radio) since the call whose holder has not been told yet."""
    told: dict[str, str] = {}  # person -> latest "bring" message
    for n in list(incident.notifications.values()):
        if n.question == "bring" and n.muster_id == muster["muster_id"]:
            told[n.person_id] = max(n.sent_at, told.get(n.person_id, ""))
    return [
        request
        for request in list(incident.asset_requests)
        if request["at"] >= muster["called_at"]
        and told.get(request["person_id"], "") < request["at"]
    ]


def _due(state: SiteState, incident: IncidentView, muster: JsonDict, now: datetime) -> list[Due]:
    return due_attempts(
        policy_of(state),
        parse_time(muster["called_at"]),
        called_people(state, muster),
        answers(incident, muster),
        attempts_of(incident, muster["muster_id"], now),
        now,
    )


class _CallPlanner:
    """Turns the attempts due for one muster call into events and jobs."""

    def __init__(
        self,
        escalator: Escalator,
        state: SiteState,
        incident: IncidentView,
        muster: JsonDict,
        now: datetime,
        plan: Plan,
    ) -> None:
        self.router = escalator.router
        self.base_url = links_url(state.site, escalator.base_url)
        self.state = state
        self.incident = incident
        self.muster = muster
        self.now = now
        self.plan = plan
        self.policy: EscalationPolicy = policy_of(state)
        self._texts: dict[str, texts.CallText] = {}

    def escalate(self, due: list[Due]) -> None:
        deputy = [d for d in due if d.channel is Channel.DEPUTY]
        for d in due:
            if d.channel is not Channel.DEPUTY:
                self._attempt(d)
        if deputy:
            self._deputy(deputy)

    def confirm(self, answered: list[ResponderView]) -> None:
        for answer in answered:
            person = self.state.persons.get(answer.person_id)
            lang = texts.language_of(self.state, person)
            channel = answer.via
            content = partial(
                texts.confirmation_text,
                status=answer.status,
                replies_by_text=channel in TEXT_REPLY_CHANNELS,
            )
            step = next(
                (i for i, s in enumerate(self.policy.steps) if s.channel.value == channel), 0
            )
            job = self._record(answer.person_id, step, 0, channel, lang, "confirmation", content)
            job.confirms = (self.muster["muster_id"], answer.person_id, answer.changed_at)

    def bring(self, requests: list[JsonDict]) -> None:
        """Tell each holder asked for a key (or radio) to bring it, by push and SMS."""
        for request in requests:
            asset = self.state.assets.get(request["asset_id"])
            person_id = request["person_id"]
            if asset is None:
                continue
            lang = texts.language_of(self.state, self.state.persons.get(person_id))
            content = partial(texts.bring_text, self.state, self.muster, asset.name, request)
            for channel in BRING_CHANNELS:
                self._record(person_id, 0, 0, channel, lang, "bring", content)

    def _attempt(self, due: Due) -> None:
        person = self.state.persons.get(due.person_id)
        lang = texts.language_of(self.state, person)
        content = partial(self._content, due.channel.value)
        self._record(due.person_id, due.step, due.retry, due.channel.value, lang, "muster", content)

    def _record(
        self,
        person_id: str,
        step: int,
        retry: int,
        channel: str,
        lang: str,
        question: str,
        content: Callable[[str], tuple[str, str]],
    ) -> Job:
        """A `notification.sent`, and either the job sending it or its final failure. Each send
        is in the person's language, or on a device that chose one, in the device's
        (`content`: the title and body in a language)."""
        route = self.router.route(
            self.state, person_id, channel, drill=self.incident.drill, now=self.now
        )
        notification_id = new_id()
        to = route.to if isinstance(route, Route) else ""
        self._sent(notification_id, person_id, step, retry, channel, lang, to, question)
        job = Job(self.incident.incident_id, self.incident.drill, [(notification_id, person_id)])
        if isinstance(route, Unreachable):
            self._failed(notification_id, person_id, route.reason)
        else:
            for target in route.targets:
                shown = device_language(self.state, target.token_id) or lang
                message = self._message(channel, shown, *content(shown), question)
                job.sends.append(Send(route.channel, _to(message, target), target))
        self.plan.jobs.append(job)
        return job

    def _deputy(self, due: list[Due]) -> None:
        """One message per commander listing who has not answered; one record per person."""
        waiting = [d.person_id for d in due]
        job = Job(self.incident.incident_id, self.incident.drill, [])
        for d in due:
            notification_id = new_id()
            self._sent(notification_id, d.person_id, d.step, d.retry, "deputy", "", "", "deputy")
            job.notifications.append((notification_id, d.person_id))
        for commander in self._commanders():
            names = [_first_name(self.state, p) for p in waiting if p != commander]
            if not names:
                continue
            lang = texts.language_of(self.state, self.state.persons.get(commander))
            title, body = texts.deputy_text(lang, names)
            for channel in (PUSH, "sms"):
                route = self.router.route(
                    self.state, commander, channel, drill=self.incident.drill, now=self.now
                )
                if isinstance(route, Route):
                    message = self._message(channel, lang, title, body, "deputy")
                    job.sends.extend(Send(route.channel, _to(message, t), t) for t in route.targets)
        if not job.sends:
            for notification_id, person_id in job.notifications:
                self._failed(notification_id, person_id, "no commander reachable")
        self.plan.jobs.append(job)

    def _commanders(self) -> list[str]:
        return [
            p.person_id
            for p in list(self.state.persons.values())
            if Role.COMMANDER.value in p.roles
        ]

    def _content(self, channel: str, lang: str) -> tuple[str, str]:
        text = self._texts.get(lang)
        if text is None:
            text = self._texts[lang] = texts.call_text(self.state, self.muster, lang)
        if channel == PUSH:
            return texts.push_call(text)
        if channel in ONE_SEGMENT_CHANNELS:
            return "", texts.sms_call(text, self._ack_url(lang))
        reply = catalogue(lang)["notify.reply"]
        body = texts.join_sentences(
            [text.what, text.rally, text.custom, reply, self._ack_url(lang)]
        )
        return text.what or text.rally, body

    def _ack_url(self, lang: str) -> str:
        return f"{self.base_url}/{lang}/responder"

    def _message(
        self, channel: str, lang: str, title: str, body: str, question: str
    ) -> OutboundMessage:
        muster_id = self.muster["muster_id"]
        kind = question if question in ("deputy", "bring") else "muster"
        return OutboundMessage(
            channel=channel,
            recipient=Recipient(),  # each send gets its own (_to)
            title=title,
            body=body,
            lang=lang,
            ack_url=self._ack_url(lang),
            tag=f"{kind}-{muster_id}",
            data={
                "kind": kind if question != "confirmation" else "confirmation",
                "incident_id": self.incident.incident_id,
                "muster_id": muster_id,
            },
        )

    def _sent(
        self,
        notification_id: str,
        person_id: str,
        step: int,
        retry: int,
        channel: str,
        lang: str,
        to: str,
        question: str,
    ) -> None:
        payload: JsonDict = {
            "notification_id": notification_id,
            "muster_id": self.muster["muster_id"],
            "person_id": person_id,
            "step": step,
            "retry": retry,
            "channel": channel,
            "to": to,
            "question": question,
        }
        if lang:
            payload["lang"] = lang
        self.plan.events.append(self._event("notification.sent", payload))

    def _failed(self, notification_id: str, person_id: str, reason: str) -> None:
        payload = {
            "notification_id": notification_id,
            "person_id": person_id,
            "reason": reason,
            "gone": True,
        }
        self.plan.events.append(self._event("notification.failed", payload))

    def _event(self, type_: str, payload: JsonDict) -> NewEvent:
        return NewEvent(
            type=type_,
            payload=payload,
            occurred_at=self.now,
            incident_id=self.incident.incident_id,
            drill=self.incident.drill,
        )


def _first_name(state: SiteState, person_id: str) -> str:
    person = state.persons.get(person_id)
    return person.name.split()[0] if person and person.name.split() else person_id


def _to(message: OutboundMessage, target: Target) -> OutboundMessage:
    return replace(message, recipient=target.recipient)


def _outcome_events(job: Job, results: list[tuple[Send, DeliveryResult]]) -> list[Outcome]:
    """Delivered if any send of the job was accepted, else failed with every reason."""
    events: list[Outcome] = []
    accepted = [r for _, r in results if r.sent]
    for notification_id, person_id in job.notifications:
        if accepted:
            payload: JsonDict = {"notification_id": notification_id, "person_id": person_id}
            provider_id = next(
                (r.provider_message_id for r in accepted if r.provider_message_id), None
            )
            if provider_id:
                payload["provider_message_id"] = provider_id[:PROVIDER_ID_MAX]
            events.append(("notification.delivered", payload, job.incident_id, job.drill))
        else:
            reasons = list(dict.fromkeys(r.detail or "failed" for _, r in results))
            payload = {
                "notification_id": notification_id,
                "person_id": person_id,
                "reason": "; ".join(reasons)[:REASON_MAX],
                "gone": bool(results) and all(r.gone for _, r in results),
            }
            events.append(("notification.failed", payload, job.incident_id, job.drill))
    for send, result in results:
        gone = gone_subscription(send.target.recipient, send.target.token_id, result)
        if gone is not None:
            events.append(gone)
    return events


def _outcomes_to_events(state: SiteState, pending: list[Outcome], now: datetime) -> list[NewEvent]:
    events = [
        NewEvent(type=type_, payload=payload, occurred_at=now, incident_id=incident, drill=drill)
        for type_, payload, incident, drill in (o for o in pending if isinstance(o, tuple))
    ]
    gone = [o for o in pending if isinstance(o, GoneSubscription)]
    return events + unsubscribe_events(state, gone, now)
