"""Inbound SMS and Telegram replies: which person sent it, which call it answers, what it says.

Runs in the store's writer, so "the latest open question" is decided on the state the answer
is appended to. A rejected reply is an `audit.inbound_rejected` event (never the text) and a
problem answer; both are kept under the provider's message id, so a retry is answered alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from konenut.app.decisions import Decide, Decision
from konenut.domain.accountability import last_asked
from konenut.domain.events import NewEvent
from konenut.domain.muster import called_people
from konenut.domain.phones import normalise_phone, site_country_code
from konenut.domain.replies import Answer, HouseholdAnswer, household_answer, responder_answer
from konenut.domain.state import IncidentView, SiteState

InboundChannel = Literal["sms", "telegram"]
# Contact point channels whose address is the phone an SMS reply comes from.
PHONE_CHANNELS = ("sms", "whatsapp", "signal")
MASK = "•••"


@dataclass(frozen=True)
class InboundReply:
    """A reply as a provider delivered it.

    `senders` are the sender's addresses, most specific first: an E.164 phone for SMS; for
    Telegram the user id, the @username, then the chat id (a group's id names nobody).
    """

    channel: InboundChannel
    senders: tuple[str, ...]
    text: str
    message_id: str | None = None


@dataclass(frozen=True)
class Rejection:
    status: int
    slug: str
    reason: Literal["unknown sender", "no open question", "not an answer"]
    detail: str


UNKNOWN_SENDER = Rejection(
    403, "unknown-sender", "unknown sender", "this sender is not a contact point of anyone here"
)
NO_QUESTION = Rejection(
    409, "no-open-question", "no open question", "nothing open was asked of this person"
)
NOT_AN_ANSWER = Rejection(422, "not-an-answer", "not an answer", "reply 1 (coming) or 2 (cannot)")
NOT_A_CHECK_IN = Rejection(
    422,
    "not-an-answer",
    "not an answer",
    "reply 1 (safe), 2 (need a medic), 3 (someone in the house), 4 (smoke/fire) or 5 (not home)",
)


@dataclass(frozen=True)
class Question:
    """The muster call a reply answers."""

    person_id: str
    incident: IncidentView
    muster: dict[str, Any]
    asked_at: str


@dataclass(frozen=True)
class HouseholdQuestion:
    """The latest broadcast to the household of someone who replied: 1-5 checks it in."""

    person_id: str
    household_id: str
    incident: IncidentView
    asked_at: str


def mask(sender: str) -> str:
    """The sender as the audit log keeps it: only its last 3 characters."""
    return MASK + sender[-3:]


def answer_reply(reply: InboundReply) -> Decide:
    """Record the reply as the person's answer to the latest open call they were asked."""

    def decide(state: SiteState, now: datetime) -> Decision:
        people = senders_people(state, reply)
        if not people:
            return _rejected(reply, UNKNOWN_SENDER, None, now)
        question = latest_question(state, people, reply.channel)
        # A responder who lives in a household answers whichever was asked last (contracts §4).
        asked = latest_household_question(state, people)
        if asked is not None and (question is None or asked.asked_at > question.asked_at):
            status = household_answer(reply.text)
            if status is None:
                return _rejected(reply, NOT_A_CHECK_IN, asked.person_id, now)
            return _checked_in(reply, asked, status, now)
        if question is None:
            return _rejected(reply, NO_QUESTION, people[0], now)
        answer = responder_answer(reply.text)
        if answer is None:
            return _rejected(reply, NOT_AN_ANSWER, question.person_id, now)
        return _answered(reply, question, answer, now)

    return decide


def senders_people(state: SiteState, reply: InboundReply) -> list[str]:
    """People reached at the first of the reply's addresses that is anyone's."""
    for address in reply.senders:
        found = [
            person_id
            for person_id in list(state.persons)
            if address in _addresses(state, person_id, reply.channel)
        ]
        if found:
            return found
    return []


def _addresses(state: SiteState, person_id: str, channel: InboundChannel) -> set[str]:
    contacts = state.contacts.get(person_id, {})
    if channel == "telegram":
        point = contacts.get("telegram")
        return {point.address.casefold()} if point is not None else set()
    person = state.persons[person_id]
    raw = [person.phone or ""] + [
        point.address for name, point in contacts.items() if name in PHONE_CHANNELS
    ]
    country_code = site_country_code(state)
    return {phone for phone in (normalise_phone(r, country_code) for r in raw) if phone}


def latest_question(
    state: SiteState, people: list[str], channel: InboundChannel
) -> Question | None:
    """The latest muster call in an open incident sent to one of `people` on `channel` (the
    reply answers what that number or chat was asked); else the latest open call for them."""
    sent = [q for person_id in people if (q := _latest_sent(state, person_id, channel))]
    if sent:
        return max(sent, key=lambda q: q.asked_at)
    called = [q for person_id in people if (q := _latest_call(state, person_id))]
    return max(called, key=lambda q: q.asked_at) if called else None


def latest_household_question(state: SiteState, people: list[str]) -> HouseholdQuestion | None:
    """The latest broadcast in an open incident to the household of one of `people`."""
    best: HouseholdQuestion | None = None
    for person_id in people:
        household_id = state.persons[person_id].household_id
        if household_id is None or household_id not in state.households:
            continue
        for incident in list(state.incidents.values()):
            asked_at = last_asked(incident, household_id) if incident.is_open else None
            if asked_at is not None and (best is None or asked_at > best.asked_at):
                best = HouseholdQuestion(person_id, household_id, incident, asked_at)
    return best


def _latest_sent(state: SiteState, person_id: str, channel: InboundChannel) -> Question | None:
    best: Question | None = None
    for incident in list(state.incidents.values()):
        if not incident.is_open:
            continue
        musters = {m["muster_id"]: m for m in incident.musters}
        for note in list(incident.notifications.values()):
            if (note.person_id, note.question, note.channel) != (person_id, "muster", channel):
                continue
            muster = musters.get(note.muster_id)
            if muster is not None and (best is None or note.sent_at > best.asked_at):
                best = Question(person_id, incident, muster, note.sent_at)
    return best


def _latest_call(state: SiteState, person_id: str) -> Question | None:
    best: Question | None = None
    for incident in list(state.incidents.values()):
        if not incident.is_open:
            continue
        for muster in reversed(incident.musters):
            if person_id in called_people(state, muster):
                if best is None or muster["called_at"] > best.asked_at:
                    best = Question(person_id, incident, muster, muster["called_at"])
                break
    return best


def _answered(reply: InboundReply, question: Question, answer: Answer, now: datetime) -> Decision:
    incident = question.incident
    extra = {"answer": answer, "incident_id": incident.incident_id}
    current = incident.responders.get(question.person_id)
    if (
        current is not None
        and current.status == answer
        and current.changed_at >= question.muster["called_at"]
    ):
        return Decision(extra=extra)  # the same answer again (to this call): nothing new
    payload = {"person_id": question.person_id, "status": answer, "via": reply.channel}
    event = NewEvent(
        type="responder.status_changed",
        payload=payload,
        occurred_at=now,
        actor=question.person_id,
        incident_id=incident.incident_id,
        drill=incident.drill,
    )
    return Decision([event], extra=extra)


def _checked_in(
    reply: InboundReply, asked: HouseholdQuestion, status: HouseholdAnswer, now: datetime
) -> Decision:
    incident = asked.incident
    extra = {"answer": status, "incident_id": incident.incident_id}
    current = incident.checkins.get(asked.household_id)
    if current is not None and current.status == status and current.at >= asked.asked_at:
        return Decision(extra=extra)  # the same answer again (to this broadcast): nothing new
    payload = {"household_id": asked.household_id, "status": status, "via": reply.channel}
    event = NewEvent(
        type="household.checked_in",
        payload=payload,
        occurred_at=now,
        actor=asked.person_id,
        incident_id=incident.incident_id,
        drill=incident.drill,
    )
    return Decision([event], extra=extra)


def _rejected(
    reply: InboundReply, why: Rejection, person_id: str | None, now: datetime
) -> Decision:
    payload: dict[str, Any] = {
        "channel": reply.channel,
        "sender": mask(reply.senders[0] if reply.senders else ""),
        "reason": why.reason,
    }
    if reply.message_id is not None:
        payload["message_id"] = reply.message_id
    event = NewEvent(
        type="audit.inbound_rejected", payload=payload, occurred_at=now, actor=person_id
    )
    problem = {"slug": why.slug, "detail": why.detail}
    return Decision([event], extra={"problem": problem}, status=why.status)
