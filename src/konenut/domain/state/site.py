"""A site's current state: the projection of its log, and the table of who folds each event."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import Field, PrivateAttr

from konenut.domain.events import Event, JsonDict
from konenut.domain.geo import PointIndex
from konenut.domain.ids import format_time
from konenut.domain.site_plan import FeatureKind, feature_points
from konenut.domain.state import (
    assets,
    broadcasts,
    casualties,
    cautions,
    challenge,
    checkins,
    contacts,
    devices,
    guests,
    hostages,
    incidents,
    intruders,
    muster,
    notifications,
    orders,
    passes,
    people,
    positions,
    sightings,
    supplies,
    tasks,
    volunteers,
)
from konenut.domain.state.assets import AssetView
from konenut.domain.state.contacts import ContactView
from konenut.domain.state.devices import CodeView, PushView, TokenView
from konenut.domain.state.guests import GuestView, guest_place
from konenut.domain.state.incidents import IncidentView
from konenut.domain.state.passes import PassView
from konenut.domain.state.people import HouseholdView, PersonView
from konenut.domain.state.supplies import InventoryView
from konenut.domain.state.view import Applier, View, file_under
from konenut.domain.state.volunteers import VolunteerView

STATE_VERSION = 11  # bump when the shape changes: older snapshots are then ignored


class CodeKey:
    """The site's key of code hashes (app/identity.hash_code), given by the store: a secret
    kept outside the database, never an event, never in a snapshot. A state holds it but it is
    no part of the projection: states of the same events are equal whatever their keys."""

    __slots__ = ("secret",)

    def __init__(self, secret: bytes) -> None:
        self.secret = secret

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CodeKey)

    def __hash__(self) -> int:
        return 0

    def __repr__(self) -> str:
        return "CodeKey(...)"


class SiteState(View):
    """Everything the API reads about one site, as of `seq`."""

    site_id: str
    seq: int = 0
    site: JsonDict | None = None
    persons: dict[str, PersonView] = Field(default_factory=dict)
    households: dict[str, HouseholdView] = Field(default_factory=dict)
    codes: dict[str, CodeView] = Field(default_factory=dict)
    tokens: dict[str, TokenView] = Field(default_factory=dict)
    incidents: dict[str, IncidentView] = Field(default_factory=dict)
    escalation_policy: list[JsonDict] | None = None  # None: the built-in default
    contacts: dict[str, dict[str, ContactView]] = Field(default_factory=dict)  # person->channel
    push_subscriptions: dict[str, PushView] = Field(default_factory=dict)  # by token id
    assets: dict[str, AssetView] = Field(default_factory=dict)
    passes: dict[str, PassView] = Field(default_factory=dict)
    volunteers: dict[str, VolunteerView] = Field(default_factory=dict)
    guests: dict[str, GuestView] = Field(default_factory=dict)
    inventory: dict[str, InventoryView] = Field(default_factory=dict)  # by item (supplies)
    _token_by_hash: dict[str, str] = PrivateAttr(default_factory=dict)
    _tokens_of_subject: dict[str, list[str]] = PrivateAttr(default_factory=dict)
    _code_by_hash: dict[str, str] = PrivateAttr(default_factory=dict)
    _pass_by_hash: dict[str, str] = PrivateAttr(default_factory=dict)
    _code_key: CodeKey = PrivateAttr(default_factory=lambda: CodeKey(b""))
    # Who lives and hides where, kept by the projection so that the caution rules ask about
    # one building, or the buildings near a point, without reading the whole registry.
    _buildings: PointIndex = PrivateAttr(default_factory=lambda: PointIndex({}))
    _households_in: dict[str, set[str]] = PrivateAttr(default_factory=dict)  # building
    _members_of: dict[str, set[str]] = PrivateAttr(default_factory=dict)  # household -> persons
    _guests_in: dict[tuple[str, str], set[str]] = PrivateAttr(default_factory=dict)

    @property
    def code_key(self) -> bytes:
        return self._code_key.secret

    def keyed(self, code_key: bytes) -> SiteState:
        """This state, hashing codes with `code_key` (EventStore sets it on every state)."""
        self._code_key = CodeKey(code_key)
        return self

    def model_post_init(self, context: Any, /) -> None:
        self._token_by_hash = {t.token_hash: t.token_id for t in self.tokens.values()}
        for token in self.tokens.values():
            self._tokens_of_subject.setdefault(token.subject_id, []).append(token.token_id)
        self._code_by_hash = {c.code_hash: c.code_id for c in self.codes.values()}
        self._pass_by_hash = {p.code_hash: p.pass_id for p in self.passes.values()}
        self._buildings = _building_index(self.site)
        for household in self.households.values():
            file_under(self._households_in, household.building_ref, household.household_id)
        for person in self.persons.values():
            file_under(self._members_of, person.household_id, person.person_id)
        for guest in self.guests.values():
            file_under(self._guests_in, guest_place(guest), guest.guest_id)

    # --- queries ---------------------------------------------------------------------------
    # Readers on other threads iterate over list(...) copies: the writer thread may add entries
    # at any moment, and iterating a dict view while it grows raises RuntimeError.
    def token_by_hash(self, token_hash: str) -> TokenView | None:
        token_id = self._token_by_hash.get(token_hash)
        return self.tokens.get(token_id) if token_id else None

    def tokens_of(self, subject_id: str) -> list[TokenView]:
        """The device tokens enrolled for this subject, revoked ones too."""
        return [self.tokens[t] for t in list(self._tokens_of_subject.get(subject_id, []))]

    def device_lapsed(self, token_id: str, now: datetime) -> bool:
        """True when this device token no longer works: revoked, expired, or bound to an
        incident that closed. Nothing may reach such a device (its push subscription)."""
        token = self.tokens.get(token_id)
        if token is None:
            return False
        if token.revoked_at is not None:
            return True
        if token.expires_at is not None and token.expires_at <= format_time(now):
            return True
        incident = self.incidents.get(token.incident_id) if token.incident_id else None
        return incident is not None and not incident.is_open

    def code_by_hash(self, code_hash: str) -> CodeView | None:
        code_id = self._code_by_hash.get(code_hash)
        return self.codes.get(code_id) if code_id else None

    def pass_by_hash(self, code_hash: str) -> PassView | None:
        pass_id = self._pass_by_hash.get(code_hash)
        return self.passes.get(pass_id) if pass_id else None

    def open_real_incident(self) -> IncidentView | None:
        for incident in list(self.incidents.values()):
            if incident.is_open and not incident.drill:
                return incident
        return None

    @property
    def buildings(self) -> PointIndex:
        """The plan's buildings by ref, at their centres: ask it what is near a point."""
        return self._buildings

    def households_in(self, building_ref: str) -> list[HouseholdView]:
        """The households living in one building (in the order they were added)."""
        found = sorted(self._households_in.get(building_ref, ()))  # uuid7: time-ordered
        return [self.households[h] for h in found]

    def members_of(self, household_id: str) -> list[PersonView]:
        found = sorted(self._members_of.get(household_id, ()))
        return [self.persons[p] for p in found]

    def guests_in(self, incident_id: str, building_ref: str) -> list[GuestView]:
        """The guests who checked in to one building in one incident (merged, voided, away
        included: the reader decides)."""
        found = sorted(self._guests_in.get((incident_id, building_ref), ()))
        return [self.guests[g] for g in found]

    def person_by_ref(self, ref: str) -> PersonView | None:
        return next((p for p in list(self.persons.values()) if p.ref == ref), None)

    def household_by_ref(self, ref: str) -> HouseholdView | None:
        return next((h for h in list(self.households.values()) if h.ref == ref), None)

    def asset_by_ref(self, ref: str) -> AssetView | None:
        return next((a for a in list(self.assets.values()) if a.ref == ref), None)

    def subject_name(self, subject_id: str) -> str | None:
        """The name of a person, a household or a volunteer; None for guests and liaisons."""
        subject = (
            self.persons.get(subject_id)
            or self.households.get(subject_id)
            or self.volunteers.get(subject_id)
        )
        return subject.name if subject is not None else None

    # --- applying events -------------------------------------------------------------------
    def apply(self, event: Event) -> None:
        """Fold one event into the state. Events must arrive in seq order."""
        if event.seq != self.seq + 1:
            raise ValueError(f"site {self.site_id}: expected seq {self.seq + 1}, got {event.seq}")
        handler = APPLIERS.get(event.type)
        if handler is not None:
            handler(self, event)
        self.seq = event.seq

    def apply_all(self, events: Iterable[Event]) -> None:
        for event in events:
            self.apply(event)

    def snapshot(self) -> JsonDict:
        return {"version": STATE_VERSION, "state": self.model_dump(mode="json")}

    @classmethod
    def from_snapshot(cls, data: JsonDict) -> SiteState | None:
        """The state in a snapshot, or None when it was written by another state version."""
        if data.get("version") != STATE_VERSION:
            return None
        return cls.model_validate(data["state"])


def _building_index(site: JsonDict | None) -> PointIndex:
    return PointIndex(feature_points((site or {}).get("plan"), FeatureKind.BUILDING))


def _site_configured(state: SiteState, event: Event) -> None:
    merged = dict(state.site or {})
    merged.update(event.payload)
    state.site = merged
    if "plan" in event.payload:
        state._buildings = _building_index(merged)


# Each event type's applier, aggregate by aggregate.
APPLIERS: dict[str, Applier] = {
    "site.configured": _site_configured,
    **people.APPLIERS,
    **devices.APPLIERS,
    **contacts.APPLIERS,
    **notifications.APPLIERS,
    **assets.APPLIERS,
    **passes.APPLIERS,
    **volunteers.APPLIERS,
    **guests.APPLIERS,
    **incidents.APPLIERS,
    **muster.APPLIERS,
    **positions.APPLIERS,
    **sightings.APPLIERS,
    **checkins.APPLIERS,
    **intruders.APPLIERS,
    **hostages.APPLIERS,
    **casualties.APPLIERS,
    **broadcasts.APPLIERS,
    **orders.APPLIERS,
    **challenge.APPLIERS,
    **cautions.APPLIERS,
    **supplies.APPLIERS,
    **tasks.APPLIERS,
}
# Registered types the projection leaves to the log: nothing the API reads from the state
# changes with them (tests/domain/test_projection.py holds every type to one list or the other).
NOT_PROJECTED = frozenset(
    {
        "audit.access_denied",  # the audit trail is read from the log (admins)
        "audit.log_exported",
        "audit.inbound_rejected",
        "audit.registry_exported",
        "audit.sitrep_produced",
        "audit.sitrep_sent",
        "responder.entering",  # answered at once (app/entering.py); the timeline keeps it
        "caution.failed",  # an alarm on the timeline, nothing to keep
        "code_guessing.detected",  # an alarm on the timeline; the guard counts in memory
        "audit.liaison_viewed",  # the audit trail (admins)
    }
)
