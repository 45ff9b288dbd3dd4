"""The challenge and password, and the safe word, in the projection."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from konenut.domain.challenge import GRACE_MINS, previous_until
from konenut.domain.events import Event
from konenut.domain.ids import format_time
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class ChallengeView(View):
    """A challenge and password pair (domain/challenge.py): squad eyes only."""

    challenge: str
    password: str
    lang: str = "he"
    set_at: str
    set_by: str | None = None
    until: str | None = None  # a replaced pair: when it stops answering


class ChallengeSetPayload(TypedDict):
    challenge: str
    password: str
    lang: NotRequired[str]
    grace_mins: NotRequired[int]


class SafeWordSetPayload(TypedDict):
    word: str


def _challenge_set(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        p = cast(ChallengeSetPayload, event.payload)
        replaced = incident.challenge
        until = previous_until(event.occurred_at, p.get("grace_mins", GRACE_MINS))
        if replaced is not None and until is not None:
            incident.previous_challenge = replaced.model_copy(update={"until": format_time(until)})
        else:
            incident.previous_challenge = None
        incident.challenge = ChallengeView(
            challenge=p["challenge"],
            password=p["password"],
            lang=p.get("lang", "he"),
            set_at=at(event),
            set_by=event.actor,
        )


def _safe_word_set(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        incident.safe_word = cast(SafeWordSetPayload, event.payload)["word"]


APPLIERS: dict[str, Applier] = {
    "challenge.set": _challenge_set,
    "safe_word.set": _safe_word_set,
}
