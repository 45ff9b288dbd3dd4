"""Enrollment codes, device tokens and Web Push subscriptions in the projection."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from konenut.domain.events import Event
from konenut.domain.ids import format_time
from konenut.domain.state.view import Applier, View, at

if TYPE_CHECKING:
    from konenut.domain.state.people import PersonView
    from konenut.domain.state.site import SiteState


class CodeView(View):
    code_id: str
    code_hash: str
    subject_id: str
    subject_kind: str
    roles: list[str]
    incident_id: str | None = None
    expires_at: str
    token_expires_at: str | None = None
    used_by_token: str | None = None


class TokenView(View):
    """A device token. For a person's device, `roles` and `household_id` follow the registry
    (`_follow_registry`): the roles granted at enrollment that the person still holds, and the
    household they live in now; an empty `roles` means the device no longer works."""

    token_id: str
    token_hash: str
    subject_id: str
    subject_kind: str
    roles: list[str]
    granted_roles: list[str]  # the roles the enrollment code granted
    household_id: str | None = None
    incident_id: str | None = None
    expires_at: str | None = None
    revoked_at: str | None = None
    device_name: str = ""
    enrolled_at: str
    pass_id: str | None = None  # the standing pass it was redeemed by: revoking the pass ends it


class PushView(View):
    token_id: str
    person_id: str
    endpoint: str
    p256dh: str
    auth: str
    subscribed_at: str
    lang: str | None = None  # chosen on the device; None: its owner's languages


class DeviceEnrolledPayload(TypedDict):
    """What the projection reads of a device.enrolled payload (beyond the token's fields)."""

    roles: list[str]
    code_id: NotRequired[str]


class TokenRevokedPayload(TypedDict):
    token_id: str


class PushUnsubscribedPayload(TypedDict):
    token_id: str


def follow_registry(state: SiteState, person: PersonView) -> None:
    """A person's devices act for the household they live in now, with the roles they still
    hold: someone moved out of a household no longer checks it in, a responder taken off the
    squad no longer reports as one (issue 11, item 11)."""
    for token_id in state._tokens_of_subject.get(person.person_id, []):
        token = state.tokens[token_id]
        if token.subject_kind != "person":
            continue  # a pass an admin bound to them (a volunteer's, say) keeps its own role
        token.household_id = person.household_id
        token.roles = [r for r in token.granted_roles if r in person.roles]


def _code_issued(state: SiteState, event: Event) -> None:
    code = CodeView.model_validate(event.payload)
    state.codes[code.code_id] = code
    state._code_by_hash[code.code_hash] = code.code_id


def _device_enrolled(state: SiteState, event: Event) -> None:
    p = cast(DeviceEnrolledPayload, event.payload)
    fields = {k: v for k, v in event.payload.items() if k != "code_id"}
    token = TokenView.model_validate(
        {**fields, "granted_roles": p["roles"], "enrolled_at": at(event)}
    )
    state.tokens[token.token_id] = token
    state._token_by_hash[token.token_hash] = token.token_id
    state._tokens_of_subject.setdefault(token.subject_id, []).append(token.token_id)
    person = state.persons.get(token.subject_id)
    if person is not None:
        follow_registry(state, person)
    code_id = p.get("code_id")
    if code_id and code_id in state.codes:
        state.codes[code_id].used_by_token = token.token_id


def _token_revoked(state: SiteState, event: Event) -> None:
    token = state.tokens.get(cast(TokenRevokedPayload, event.payload)["token_id"])
    if token is not None and token.revoked_at is None:
        token.revoked_at = format_time(event.recorded_at)


def _push_subscribed(state: SiteState, event: Event) -> None:
    push = PushView(**event.payload, subscribed_at=at(event))
    state.push_subscriptions[push.token_id] = push


def _push_unsubscribed(state: SiteState, event: Event) -> None:
    state.push_subscriptions.pop(cast(PushUnsubscribedPayload, event.payload)["token_id"], None)


APPLIERS: dict[str, Applier] = {
    "enrollment.code_issued": _code_issued,
    "device.enrolled": _device_enrolled,
    "token.revoked": _token_revoked,
    "push.subscribed": _push_subscribed,
    "push.unsubscribed": _push_unsubscribed,
}
