"""Liaison access (docs/liaison.md): a liaison device opened the live picture, for the audit."""

from __future__ import annotations

from konenut.domain.event_types.audiences import ADMIN_ONLY
from konenut.domain.event_types.vocabulary import Id
from konenut.domain.events import EventType, Payload


class LiaisonViewed(Payload):
    token_id: Id
    pass_id: Id | None = None  # none: a liaison enrolled by a one-time code


LIAISON_EVENT_TYPES: tuple[EventType, ...] = (
    # The audit trail is the admins' (contracts §4); the pass's redemptions are audited apart.
    EventType("audit.liaison_viewed", 1, LiaisonViewed, ADMIN_ONLY),
)
