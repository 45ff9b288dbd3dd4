"""Orders to the squad and their acknowledgements."""

from __future__ import annotations

from pydantic import Field

from konenut.domain.event_types.vocabulary import Id, Ref, Text
from konenut.domain.events import Payload


class OrderSent(Payload):
    order_id: Id
    text: Text
    # The recipients, resolved when it was sent (a team's members then); empty: all.
    to_person_ids: list[Id] = Field(default_factory=list, max_length=5000)
    to_teams: list[Ref] = Field(default_factory=list, max_length=20)  # as the sender chose


class OrderAcknowledged(Payload):
    order_id: Id
    person_id: Id
