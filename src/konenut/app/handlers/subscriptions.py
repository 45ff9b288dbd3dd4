"""Dropping the push subscriptions of devices that no longer count."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from konenut.app.handlers.events import new_event
from konenut.app.identity import Actor
from konenut.domain.events import NewEvent
from konenut.domain.state import SiteState


def unsubscribe_devices(
    state: SiteState, token_ids: Iterable[str], reason: str, *, actor: Actor | None, now: datetime
) -> list[NewEvent]:
    """`push.unsubscribed` for each of these devices that has a push subscription: whatever
    stops a device working (revocation, its incident closing) drops its subscription in the
    same command, so no later call or broadcast (which may carry the safe word) reaches it."""
    events: list[NewEvent] = []
    for token_id in dict.fromkeys(token_ids):
        subscription = state.push_subscriptions.get(token_id)
        if subscription is None:
            continue
        payload = {"person_id": subscription.person_id, "token_id": token_id, "reason": reason}
        events.append(new_event("push.unsubscribed", payload, actor=actor, cmd=None, now=now))
    return events
