"""The escalation policy and each attempt to reach a person, in the projection."""

from __future__ import annotations

from typing import TYPE_CHECKING, NotRequired, TypedDict, cast

from konenut.domain.events import Event, JsonDict
from konenut.domain.state.view import Applier, View, at, incident_of

if TYPE_CHECKING:
    from konenut.domain.state.site import SiteState


class NotificationView(View):
    """One attempt to reach a person; `outcome` is None while it is being sent."""

    notification_id: str
    muster_id: str
    person_id: str
    step: int
    retry: int = 0
    channel: str
    lang: str = "he"
    to: str = ""
    question: str = "muster"
    sent_at: str
    outcome: str | None = None  # "delivered" | "failed"
    reason: str = ""
    settled_at: str | None = None
    gone: bool = False  # failed for good (no address, channel not configured): no retry


class EscalationPolicySetPayload(TypedDict):
    steps: list[JsonDict]


class NotificationSettledPayload(TypedDict):
    """What the projection reads of notification.delivered and notification.failed."""

    notification_id: str
    reason: NotRequired[str]  # failed only
    gone: NotRequired[bool]  # failed only


def _policy_set(state: SiteState, event: Event) -> None:
    state.escalation_policy = list(cast(EscalationPolicySetPayload, event.payload)["steps"])


def _notification_sent(state: SiteState, event: Event) -> None:
    if incident := incident_of(state, event):
        sent = NotificationView(**event.payload, sent_at=at(event))
        incident.notifications[sent.notification_id] = sent


def _notification_settled(outcome: str) -> Applier:
    def apply(state: SiteState, event: Event) -> None:
        p = cast(NotificationSettledPayload, event.payload)
        incident = incident_of(state, event)
        sent = incident.notifications.get(p["notification_id"]) if incident else None
        if sent is not None and sent.outcome is None:
            sent.outcome = outcome
            sent.reason = p.get("reason", "")
            sent.settled_at = at(event)
            sent.gone = bool(p.get("gone", False))

    return apply


APPLIERS: dict[str, Applier] = {
    "escalation_policy.set": _policy_set,
    "notification.sent": _notification_sent,
    "notification.delivered": _notification_settled("delivered"),
    "notification.failed": _notification_settled("failed"),
}
