"""A site's current state: a projection of its log, applied one event at a time."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from konenut.domain.events import Event, JsonDict
from konenut.domain.geo import PointIndex
from konenut.domain.ids import format_time, parse_time
from konenut.domain.site_plan import FeatureKind, feature_points

CAUTION_REPEAT = timedelta(minutes=5)  # an identical caution is not raised again sooner
STATE_VERSION = 8  # bump when the shape changes: older snapshots are then ignored


class _View(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PersonView(_View):
    person_id: str
    ref: str
    name: str
    roles: list[str]
    phone: str | None = None
    languages: list[str]
    household_id: str | None = None
    callsign: str | None = None
    age_group: str = "adult"
    special_needs: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)


class HouseholdView(_View):
    household_id: str
    ref: str
    name: str
    building_ref: str | None = None
    languages: list[str]
    safe_room: str
    foreman_person_ref: str | None = None
    pets: str | None = None


class CodeView(_View):
    code_id: str
    code_hash: str
    subject_id: str
    subject_kind: str
    roles: list[str]
    incident_id: str | None = None
    expires_at: str
    token_expires_at: str | None = None
    used_by_token: str | None = None


class TokenView(_View):
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


class ResponderView(_View):
    person_id: str
    status: str
    eta_secs: int | None = None
    changed_at: str
    location: JsonDict | None = None
    via: str = "app"  # where the answer came from: the escalator confirms it there


class PositionView(_View):
    subject_id: str
    callsign: str | None = None
    location: JsonDict
    at: str
    seq: int
    source: str = "app"  # "manual": an operator placed the unit by hand
    by: str | None = None  # who reported it (the placer, for a manual position)


class SightingView(_View):
    sighting_id: str
    category: str
    count: int
    armed: bool | None = None
    vehicle: bool = False
    direction_deg: float | None = None
    text: str = ""
    source: str
    status: str = "reported"
    location: JsonDict
    reported_at: str
    updated_at: str
    reporter: str | None = None
    merged_into: str | None = None
    photo_ids: list[str] = Field(default_factory=list)
    # Where the group was seen, oldest first ({location, at}): a report, each move, and the
    # reports merged into it. `location` and `last_seen_at` are its last point.
    track: list[JsonDict] = Field(default_factory=list)
    last_seen_at: str = ""
    merged_from: list[str] = Field(default_factory=list)


class CheckInView(_View):
    household_id: str
    status: str
    people_count: int | None = None
    text: str = ""
    injured_count: int | None = None
    severity: str | None = None
    at: str
    via: str = "app"


class HostageUpdateView(_View):
    at: str
    by: str | None = None
    text: str = ""
    people_inside: int | None = None
    attackers_inside: int | None = None
    contact_channel: str | None = None
    status: str = "ongoing"


class HostageView(_View):
    """A household or building where people are held: what is known, and each update."""

    situation_id: str
    household_id: str | None = None
    building_ref: str
    people_inside: int | None = None
    attackers_inside: int | None = None
    contact_channel: str = ""
    text: str = ""
    source: str = "operator"
    status: str = "ongoing"
    reported_at: str
    reported_by: str | None = None
    updated_at: str
    updates: list[HostageUpdateView] = Field(default_factory=list)


class OrderView(_View):
    order_id: str
    text: str
    to_person_ids: list[str]
    to_teams: list[str] = Field(default_factory=list)
    sent_at: str
    sent_by: str | None = None
    acknowledged_by: dict[str, str] = Field(default_factory=dict)  # person -> time


class ChallengeView(_View):
    """A challenge and password pair (domain/challenge.py): squad eyes only."""

    challenge: str
    password: str
    lang: str = "he"
    set_at: str
    set_by: str | None = None
    until: str | None = None  # a replaced pair: when it stops answering


class CautionView(_View):
    """The latest caution for one key (a sighting and the houses near it, or two units):
    whom it warned within the repeat window, so an identical one is not raised again."""

    caution_id: str
    kind: str
    raised_at: str  # the first of the window
    last_at: str
    warned: list[str] = Field(default_factory=list)  # person ids
    civilians: list[JsonDict] = Field(default_factory=list)  # what is inside, as last told


class ContactView(_View):
    channel: str
    address: str
    quiet_from: str | None = None
    quiet_until: str | None = None


class PushView(_View):
    token_id: str
    person_id: str
    endpoint: str
    p256dh: str
    auth: str
    subscribed_at: str
    lang: str | None = None  # chosen on the device; None: its owner's languages


class AssetView(_View):
    asset_id: str
    ref: str
    kind: str
    name: str
    holder_person_id: str | None = None
    holder_ref: str | None = None  # with no holder_person_id: "holder unknown" until registered
    opens_ref: str | None = None
    needed_at_muster: bool = True


class NotificationView(_View):
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


class PassView(_View):
    """A standing pass (contracts §4): what redeeming its code gives, and how often it was."""

    pass_id: str
    purpose: str
    role: str
    incident_id: str | None = None
    household_id: str | None = None
    building_ref: str | None = None
    max_devices: int | None = None
    expires_at: str | None = None
    code_hash: str
    issued_at: str
    issued_by: str | None = None
    revoked_at: str | None = None
    redeemed: int = 0


class VolunteerView(_View):
    """Someone who joined an incident by a pass; pending until a commander decides."""

    volunteer_id: str
    pass_id: str
    incident_id: str
    name: str
    phone: str | None = None
    affiliation: str
    armed: bool
    language: str = "he"
    status: str = "pending"  # "pending" | "approved" | "declined"
    joined_at: str
    decided_at: str | None = None
    decided_by: str | None = None


class GuestView(_View):
    """Someone who checked in by a guest poster: occupies a building during one incident."""

    guest_id: str
    incident_id: str
    building_ref: str | None = None
    people_count: int = 1
    language: str = "he"
    phone: str | None = None
    status: str = "safe"
    text: str = ""
    checked_in_at: str  # the first check-in; `at` is the latest
    at: str
    merged_into: str | None = None  # a household, once an operator merged the guest into it
    pass_id: str | None = None  # the poster it checked in by
    voided_at: str | None = None  # an operator voided its poster's guests: not on the board


class DeliveryView(_View):
    """One attempt to bring a broadcast to a household on one channel."""

    delivery_id: str
    household_id: str
    channel: str
    lang: str
    langs: list[str] = Field(default_factory=list)  # every language its sends were in
    to: str = ""
    sent_at: str
    outcome: str | None = None  # "delivered" | "failed"; None while being sent
    reason: str = ""
    settled_at: str | None = None


class BroadcastView(_View):
    """A broadcast's audience, its delivery attempts and which households have read it."""

    broadcast_id: str
    household_ids: list[str] = Field(default_factory=list)  # []: every household
    texts: dict[str, str] = Field(default_factory=dict)
    translated: list[str] | None = None  # None: every text is a translation
    sent_at: str
    deliveries: dict[str, DeliveryView] = Field(default_factory=dict)
    read: dict[str, str] = Field(default_factory=dict)  # household -> when first shown


class IncidentView(_View):
    incident_id: str
    ref: str
    title: str
    kind: str
    drill: bool
    opened_at: str
    opened_by: str | None = None
    closed_at: str | None = None
    summary: str = ""
    musters: list[JsonDict] = Field(default_factory=list)
    responders: dict[str, ResponderView] = Field(default_factory=dict)
    positions: dict[str, PositionView] = Field(default_factory=dict)
    sightings: dict[str, SightingView] = Field(default_factory=dict)
    checkins: dict[str, CheckInView] = Field(default_factory=dict)
    orders: dict[str, OrderView] = Field(default_factory=dict)
    notifications: dict[str, NotificationView] = Field(default_factory=dict)
    broadcasts: dict[str, BroadcastView] = Field(default_factory=dict)
    seen: dict[str, dict[str, str]] = Field(default_factory=dict)  # muster -> person -> time
    asset_requests: list[JsonDict] = Field(default_factory=list)
    hostages: dict[str, HostageView] = Field(default_factory=dict)
    # When each household was last asked (a broadcast to it, or to all): an SMS reply 1-5
    # answers it, and proof of life asks again only after `recheck_every_mins` of silence.
    asked: dict[str, str] = Field(default_factory=dict)  # household -> latest broadcast to it
    asked_all_at: str | None = None  # latest broadcast to every household
    recheck_every_mins: int = 0  # 0: proof of life off
    cautions: dict[str, CautionView] = Field(default_factory=dict)  # by key (app/caution.py)
    # Live intruder reports: reporter (household or guest id) -> the building it is in; until
    # the reporter says otherwise or an operator clears the building (intruder.cleared).
    intruders: dict[str, str] = Field(default_factory=dict)
    intruder_since: dict[str, str] = Field(default_factory=dict)  # building -> first live report
    challenge: ChallengeView | None = None
    previous_challenge: ChallengeView | None = None  # answers until its `until`
    safe_word: str | None = None  # what the squad says at a door; residents see it

    @property
    def is_open(self) -> bool:
        return self.closed_at is None


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


class SiteState(_View):
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
            _file(self._households_in, household.building_ref, household.household_id)
        for person in self.persons.values():
            _file(self._members_of, person.household_id, person.person_id)
        for guest in self.guests.values():
            _file(self._guests_in, _guest_place(guest), guest.guest_id)

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
        handler = _APPLIERS.get(event.type)
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


def _at(event: Event) -> str:
    return format_time(event.occurred_at)


def _incident(state: SiteState, event: Event) -> IncidentView | None:
    return state.incidents.get(event.incident_id) if event.incident_id else None


def _file(index: dict[Any, set[str]], key: Any, item: str) -> None:
    if key is not None:
        index.setdefault(key, set()).add(item)


def _unfile(index: dict[Any, set[str]], key: Any, item: str) -> None:
    """The opposite of `_file`; an emptied key goes, as a rebuild would never have made it."""
    filed = index.get(key)
    if filed is not None:
        filed.discard(item)
        if not filed:
            del index[key]


def _guest_place(guest: GuestView) -> tuple[str, str] | None:
    return (guest.incident_id, guest.building_ref) if guest.building_ref else None


def _building_index(site: JsonDict | None) -> PointIndex:
    return PointIndex(feature_points((site or {}).get("plan"), FeatureKind.BUILDING))


def _site_configured(state: SiteState, event: Event) -> None:
    merged = dict(state.site or {})
    merged.update(event.payload)
    state.site = merged
    if "plan" in event.payload:
        state._buildings = _building_index(merged)


def _person_added(state: SiteState, event: Event) -> None:
    person = PersonView.model_validate(event.payload)
    previous = state.persons.get(person.person_id)
    if previous is not None:
        _unfile(state._members_of, previous.household_id, person.person_id)
    state.persons[person.person_id] = person
    _file(state._members_of, person.household_id, person.person_id)
    for asset in list(state.assets.values()):
        if asset.holder_person_id is None and asset.holder_ref == person.ref:
            asset.holder_person_id = person.person_id


def _household_added(state: SiteState, event: Event) -> None:
    household = HouseholdView.model_validate(event.payload)
    previous = state.households.get(household.household_id)
    if previous is not None:
        _unfile(state._households_in, previous.building_ref, household.household_id)
    state.households[household.household_id] = household
    _file(state._households_in, household.building_ref, household.household_id)


def _person_updated(state: SiteState, event: Event) -> None:
    """The event carries all the person's fields; those it leaves out are back to default."""
    if event.payload["person_id"] in state.persons:
        _person_added(state, event)
        _follow_registry(state, state.persons[event.payload["person_id"]])


def _follow_registry(state: SiteState, person: PersonView) -> None:
    """A person's devices act for the household they live in now, with the roles they still
    hold: someone moved out of a household no longer checks it in, a responder taken off the
    squad no longer reports as one (issue 11, item 11)."""
    for token_id in state._tokens_of_subject.get(person.person_id, []):
        token = state.tokens[token_id]
        if token.subject_kind != "person":
            continue  # a pass an admin bound to them (a volunteer's, say) keeps its own role
        token.household_id = person.household_id
        token.roles = [r for r in token.granted_roles if r in person.roles]


def _household_updated(state: SiteState, event: Event) -> None:
    if event.payload["household_id"] in state.households:
        _household_added(state, event)


def _code_issued(state: SiteState, event: Event) -> None:
    code = CodeView.model_validate(event.payload)
    state.codes[code.code_id] = code
    state._code_by_hash[code.code_hash] = code.code_id


def _device_enrolled(state: SiteState, event: Event) -> None:
    fields = {k: v for k, v in event.payload.items() if k not in ("code_id",)}
    granted = fields["roles"]
    token = TokenView.model_validate(
        {**fields, "granted_roles": granted, "enrolled_at": _at(event)}
    )
    state.tokens[token.token_id] = token
    state._token_by_hash[token.token_hash] = token.token_id
    state._tokens_of_subject.setdefault(token.subject_id, []).append(token.token_id)
    person = state.persons.get(token.subject_id)
    if person is not None:
        _follow_registry(state, person)
    code_id = event.payload.get("code_id")
    if code_id and code_id in state.codes:
        state.codes[code_id].used_by_token = token.token_id


def _token_revoked(state: SiteState, event: Event) -> None:
    token = state.tokens.get(event.payload["token_id"])
    if token is not None and token.revoked_at is None:
        token.revoked_at = format_time(event.recorded_at)


def _incident_opened(state: SiteState, event: Event) -> None:
    p = event.payload
    state.incidents[p["incident_id"]] = IncidentView(
        incident_id=p["incident_id"],
        ref=p["ref"],
        title=p["title"],
        kind=p["kind"],
        drill=event.drill,
        opened_at=_at(event),
        opened_by=event.actor,
    )


def _incident_closed(state: SiteState, event: Event) -> None:
    incident = state.incidents.get(event.payload["incident_id"])
    if incident is not None:
        incident.closed_at = _at(event)
        incident.summary = event.payload.get("summary", "")


def _muster_called(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        incident.musters.append({**event.payload, "called_at": _at(event), "by": event.actor})


def _status_changed(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        p = event.payload
        incident.responders[p["person_id"]] = ResponderView(
            person_id=p["person_id"],
            status=p["status"],
            eta_secs=p.get("eta_secs"),
            changed_at=_at(event),
            location=event.location,
            via=p.get("via", "app"),
        )


def _position_reported(state: SiteState, event: Event) -> None:
    incident = _incident(state, event)
    if incident is None or event.location is None:
        return
    p = event.payload
    previous = incident.positions.get(p["subject_id"])
    if previous is not None and previous.at > _at(event):
        return  # a late offline report must not move a unit back in time
    incident.positions[p["subject_id"]] = PositionView(
        subject_id=p["subject_id"],
        callsign=p.get("callsign"),
        location=event.location,
        at=_at(event),
        seq=event.seq,
        source=p.get("source", "app"),
        by=event.actor,
    )


def _sighting_reported(state: SiteState, event: Event) -> None:
    incident = _incident(state, event)
    if incident is None or event.location is None:
        return
    p = event.payload
    incident.sightings[p["sighting_id"]] = SightingView(
        **p,
        location=event.location,
        reported_at=_at(event),
        updated_at=_at(event),
        reporter=event.actor,
        track=[{"location": event.location, "at": _at(event)}],
        last_seen_at=_at(event),
    )


def _retrack(sighting: SightingView, points: list[JsonDict]) -> None:
    """Add track points in time order (a late offline report lands where it belongs)."""
    sighting.track = sorted([*sighting.track, *points], key=lambda point: str(point["at"]))
    sighting.location = sighting.track[-1]["location"]
    sighting.last_seen_at = str(sighting.track[-1]["at"])


_THREAT = {"friendly_unknown": 0, "unknown": 1, "hostile": 2}


def _merge(duplicate: SightingView, into: SightingView) -> None:
    """Two reports of one group: the larger count, either's flags, both photos and places."""
    into.merged_from = [*into.merged_from, duplicate.sighting_id, *duplicate.merged_from]
    into.count = max(into.count, duplicate.count)
    if _THREAT.get(duplicate.category, 0) > _THREAT.get(into.category, 0):
        into.category = duplicate.category  # one reporter saw weapons: the group is hostile
    into.armed = True if (into.armed or duplicate.armed) else into.armed
    into.vehicle = into.vehicle or duplicate.vehicle
    into.photo_ids = [*into.photo_ids, *(i for i in duplicate.photo_ids if i not in into.photo_ids)]
    _retrack(into, duplicate.track)


def _sighting_updated(state: SiteState, event: Event) -> None:
    incident = _incident(state, event)
    if incident is None:
        return
    sighting = incident.sightings.get(event.payload["sighting_id"])
    if sighting is None:
        return
    p = event.payload
    sighting.status = p["status"]
    sighting.updated_at = _at(event)
    sighting.merged_into = p.get("merged_into", sighting.merged_into)
    sighting.count = p.get("count", sighting.count)
    if event.location is not None:
        _retrack(sighting, [{"location": event.location, "at": _at(event)}])
    into = incident.sightings.get(p.get("merged_into") or "")
    if p["status"] == "merged" and into is not None and into is not sighting:
        _merge(sighting, into)


def _checked_in(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        check_in = CheckInView(**event.payload, at=_at(event))
        previous = incident.checkins.get(check_in.household_id)
        if previous is None or previous.at <= check_in.at:
            incident.checkins[check_in.household_id] = check_in
            household = state.households.get(check_in.household_id)
            _intruder_report(
                incident, check_in.household_id, check_in.status, household, _at(event)
            )


def _intruder_report(
    incident: IncidentView,
    reporter: str,
    status: str,
    inside: HouseholdView | GuestView | None,
    at: str,
) -> None:
    """A reporter's latest status: an intruder report at its building stands, or ends."""
    was = incident.intruders.pop(reporter, None)
    if status == "intruder" and inside is not None and inside.building_ref:
        incident.intruders[reporter] = inside.building_ref
        incident.intruder_since.setdefault(inside.building_ref, at)
    if was is not None and was not in incident.intruders.values():
        incident.intruder_since.pop(was, None)


def _intruder_cleared(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        ref = event.payload["building_ref"]
        incident.intruders = {r: b for r, b in incident.intruders.items() if b != ref}
        incident.intruder_since.pop(ref, None)


def _broadcast_sent(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        at = _at(event)
        incident.broadcasts[event.payload["broadcast_id"]] = BroadcastView(
            broadcast_id=event.payload["broadcast_id"],
            household_ids=event.payload.get("household_ids") or [],
            texts=event.payload["texts"],
            translated=event.payload.get("translated"),
            sent_at=at,
        )
        targets = event.payload.get("household_ids") or []
        if not targets:
            incident.asked_all_at = max(at, incident.asked_all_at or at)
        for household_id in targets:
            incident.asked[household_id] = max(at, incident.asked.get(household_id, at))


def _broadcast_delivery_sent(state: SiteState, event: Event) -> None:
    incident = _incident(state, event)
    broadcast = incident.broadcasts.get(event.payload["broadcast_id"]) if incident else None
    if broadcast is not None:
        p = event.payload
        delivery = DeliveryView(
            **{k: v for k, v in p.items() if k != "broadcast_id"}, sent_at=_at(event)
        )
        broadcast.deliveries[delivery.delivery_id] = delivery


def _broadcast_delivery_settled(state: SiteState, event: Event) -> None:
    incident = _incident(state, event)
    p = event.payload
    broadcast = incident.broadcasts.get(p["broadcast_id"]) if incident else None
    delivery = broadcast.deliveries.get(p["delivery_id"]) if broadcast else None
    if delivery is not None and delivery.outcome is None:
        delivery.outcome = p["outcome"]
        delivery.reason = p.get("reason", "")
        delivery.settled_at = _at(event)


def _broadcast_read(state: SiteState, event: Event) -> None:
    incident = _incident(state, event)
    broadcast = incident.broadcasts.get(event.payload["broadcast_id"]) if incident else None
    if broadcast is not None:
        broadcast.read.setdefault(event.payload["household_id"], _at(event))


def _recheck_set(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        incident.recheck_every_mins = event.payload["every_mins"]


def _hostage_reported(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        at = _at(event)
        situation = HostageView(
            **event.payload, reported_at=at, reported_by=event.actor, updated_at=at
        )
        incident.hostages[situation.situation_id] = situation


def _hostage_updated(state: SiteState, event: Event) -> None:
    incident = _incident(state, event)
    situation = incident.hostages.get(event.payload["situation_id"]) if incident else None
    if situation is None:
        return
    p = event.payload
    update = HostageUpdateView(
        **{k: v for k, v in p.items() if k != "situation_id"}, at=_at(event), by=event.actor
    )
    situation.updates.append(update)
    situation.status = update.status
    situation.updated_at = update.at
    if update.people_inside is not None:
        situation.people_inside = update.people_inside
    if update.attackers_inside is not None:
        situation.attackers_inside = update.attackers_inside
    if update.contact_channel is not None:
        situation.contact_channel = update.contact_channel


def _order_sent(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        p = event.payload
        incident.orders[p["order_id"]] = OrderView(
            order_id=p["order_id"],
            text=p["text"],
            to_person_ids=p.get("to_person_ids", []),
            to_teams=p.get("to_teams", []),
            sent_at=_at(event),
            sent_by=event.actor,
        )


def _order_acknowledged(state: SiteState, event: Event) -> None:
    incident = _incident(state, event)
    order = incident.orders.get(event.payload["order_id"]) if incident else None
    if order is not None:
        order.acknowledged_by.setdefault(event.payload["person_id"], _at(event))


def _challenge_set(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        p = event.payload
        replaced, grace = incident.challenge, int(p.get("grace_mins", 10))
        if replaced is not None and grace > 0:
            until = event.occurred_at + timedelta(minutes=grace)
            incident.previous_challenge = replaced.model_copy(update={"until": format_time(until)})
        else:
            incident.previous_challenge = None
        incident.challenge = ChallengeView(
            challenge=p["challenge"],
            password=p["password"],
            lang=p.get("lang", "he"),
            set_at=_at(event),
            set_by=event.actor,
        )


def _safe_word_set(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        incident.safe_word = event.payload["word"]


def _caution_raised(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        p, at = event.payload, _at(event)
        previous = incident.cautions.get(p["key"])
        if previous is not None and at >= previous.raised_at and at < _later(previous.raised_at):
            new = [w for w in p["to_person_ids"] if w not in previous.warned]
            previous.warned = [*previous.warned, *new]
            previous.last_at = max(previous.last_at, at)
            previous.civilians = list(p.get("civilians", []))
            return
        incident.cautions[p["key"]] = CautionView(
            caution_id=p["caution_id"],
            kind=p["kind"],
            raised_at=at,
            last_at=at,
            warned=list(p["to_person_ids"]),
            civilians=list(p.get("civilians", [])),
        )


def _later(at: str) -> str:
    """When a caution raised at `at` may be raised again (CAUTION_REPEAT later)."""
    return format_time(parse_time(at) + CAUTION_REPEAT)


def _muster_seen(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        p = event.payload
        incident.seen.setdefault(p["muster_id"], {}).setdefault(p["person_id"], _at(event))


def _policy_set(state: SiteState, event: Event) -> None:
    state.escalation_policy = list(event.payload["steps"])


def _contact_point_set(state: SiteState, event: Event) -> None:
    p = event.payload
    contacts = state.contacts.setdefault(p["person_id"], {})
    if p.get("address") is None:
        contacts.pop(p["channel"], None)
        return
    contacts[p["channel"]] = ContactView(
        channel=p["channel"],
        address=p["address"],
        quiet_from=p.get("quiet_from"),
        quiet_until=p.get("quiet_until"),
    )


def _push_subscribed(state: SiteState, event: Event) -> None:
    push = PushView(**event.payload, subscribed_at=_at(event))
    state.push_subscriptions[push.token_id] = push


def _push_unsubscribed(state: SiteState, event: Event) -> None:
    state.push_subscriptions.pop(event.payload["token_id"], None)


def _notification_sent(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        sent = NotificationView(**event.payload, sent_at=_at(event))
        incident.notifications[sent.notification_id] = sent


def _notification_settled(outcome: str) -> Callable[[SiteState, Event], None]:
    def apply(state: SiteState, event: Event) -> None:
        incident = _incident(state, event)
        sent = incident.notifications.get(event.payload["notification_id"]) if incident else None
        if sent is not None and sent.outcome is None:
            sent.outcome = outcome
            sent.reason = event.payload.get("reason", "")
            sent.settled_at = _at(event)
            sent.gone = bool(event.payload.get("gone", False))

    return apply


def _asset_added(state: SiteState, event: Event) -> None:
    asset = AssetView.model_validate(event.payload)
    state.assets[asset.asset_id] = asset
    _resolve_holder(state, asset)


def _asset_handed_over(state: SiteState, event: Event) -> None:
    asset = state.assets.get(event.payload["asset_id"])
    if asset is not None:
        asset.holder_person_id = event.payload.get("holder_person_id")
        asset.holder_ref = event.payload.get("holder_ref")
        _resolve_holder(state, asset)


def _resolve_holder(state: SiteState, asset: AssetView) -> None:
    """An asset held by a ref is the person's with that ref, once they are registered (a site
    can be set up in any order: keys first, people later)."""
    if asset.holder_person_id is None and asset.holder_ref is not None:
        person = state.person_by_ref(asset.holder_ref)
        asset.holder_person_id = person.person_id if person else None


def _asset_requested(state: SiteState, event: Event) -> None:
    if incident := _incident(state, event):
        incident.asset_requests.append({**event.payload, "at": _at(event), "by": event.actor})


def _pass_issued(state: SiteState, event: Event) -> None:
    issued = PassView(**event.payload, issued_at=_at(event), issued_by=event.actor)
    state.passes[issued.pass_id] = issued
    state._pass_by_hash[issued.code_hash] = issued.pass_id


def _pass_revoked(state: SiteState, event: Event) -> None:
    revoked = state.passes.get(event.payload["pass_id"])
    if revoked is not None and revoked.revoked_at is None:
        revoked.revoked_at = format_time(event.recorded_at)


def _pass_redeemed(state: SiteState, event: Event) -> None:
    redeemed = state.passes.get(event.payload["pass_id"])
    if redeemed is not None:
        redeemed.redeemed += 1
    token = state.tokens.get(event.payload["token_id"])
    if token is not None:
        token.pass_id = event.payload["pass_id"]


def _guest_checked_in(state: SiteState, event: Event) -> None:
    if event.incident_id is None:
        return
    previous = state.guests.get(event.payload["guest_id"])
    first = previous.checked_in_at if previous else _at(event)
    guest = GuestView(
        **event.payload, incident_id=event.incident_id, checked_in_at=first, at=_at(event)
    )
    if previous is not None:
        guest.merged_into = previous.merged_into
        guest.pass_id = previous.pass_id
        guest.voided_at = previous.voided_at
        _unfile(state._guests_in, _guest_place(previous), guest.guest_id)
    state.guests[guest.guest_id] = guest
    _file(state._guests_in, _guest_place(guest), guest.guest_id)
    if incident := _incident(state, event):
        _intruder_report(incident, guest.guest_id, guest.status, guest, guest.at)


def _guest_merged(state: SiteState, event: Event) -> None:
    guest = state.guests.get(event.payload["guest_id"])
    if guest is not None:
        guest.merged_into = event.payload["household_id"]
        if incident := state.incidents.get(guest.incident_id):  # its household speaks for it
            _intruder_report(incident, guest.guest_id, "merged", None, _at(event))


def _guests_voided(state: SiteState, event: Event) -> None:
    for guest_id in event.payload["guest_ids"]:
        guest = state.guests.get(guest_id)
        if guest is not None and guest.voided_at is None:
            guest.voided_at = _at(event)
            if incident := state.incidents.get(guest.incident_id):  # no longer a report
                _intruder_report(incident, guest_id, "voided", None, guest.voided_at)


def _volunteer_joined(state: SiteState, event: Event) -> None:
    if event.incident_id is None:
        return
    volunteer = VolunteerView(**event.payload, incident_id=event.incident_id, joined_at=_at(event))
    state.volunteers[volunteer.volunteer_id] = volunteer


def _volunteer_decided(status: str) -> Callable[[SiteState, Event], None]:
    def apply(state: SiteState, event: Event) -> None:
        volunteer = state.volunteers.get(event.payload["volunteer_id"])
        if volunteer is not None:
            volunteer.status = status
            volunteer.decided_at = _at(event)
            volunteer.decided_by = event.actor

    return apply


_APPLIERS: dict[str, Callable[[SiteState, Event], None]] = {
    "site.configured": _site_configured,
    "person.added": _person_added,
    "household.added": _household_added,
    "person.updated": _person_updated,
    "household.updated": _household_updated,
    "enrollment.code_issued": _code_issued,
    "device.enrolled": _device_enrolled,
    "token.revoked": _token_revoked,
    "incident.opened": _incident_opened,
    "incident.closed": _incident_closed,
    "muster.called": _muster_called,
    "responder.status_changed": _status_changed,
    "position.reported": _position_reported,
    "sighting.reported": _sighting_reported,
    "sighting.updated": _sighting_updated,
    "household.checked_in": _checked_in,
    "broadcast.sent": _broadcast_sent,
    "broadcast.delivery_sent": _broadcast_delivery_sent,
    "broadcast.delivery_settled": _broadcast_delivery_settled,
    "broadcast.read": _broadcast_read,
    "accountability.recheck_set": _recheck_set,
    "hostage.reported": _hostage_reported,
    "hostage.updated": _hostage_updated,
    "order.sent": _order_sent,
    "order.acknowledged": _order_acknowledged,
    "challenge.set": _challenge_set,
    "safe_word.set": _safe_word_set,
    "muster.seen": _muster_seen,
    "caution.raised": _caution_raised,
    "intruder.cleared": _intruder_cleared,
    "escalation_policy.set": _policy_set,
    "contact_point.set": _contact_point_set,
    "push.subscribed": _push_subscribed,
    "push.unsubscribed": _push_unsubscribed,
    "notification.sent": _notification_sent,
    "notification.delivered": _notification_settled("delivered"),
    "notification.failed": _notification_settled("failed"),
    "asset.added": _asset_added,
    "asset.handed_over": _asset_handed_over,
    "asset.requested": _asset_requested,
    "pass.issued": _pass_issued,
    "pass.revoked": _pass_revoked,
    "audit.pass_redeemed": _pass_redeemed,
    "guest.checked_in": _guest_checked_in,
    "guest.merged": _guest_merged,
    "guests.voided": _guests_voided,
    "volunteer.joined": _volunteer_joined,
    "volunteer.approved": _volunteer_decided("approved"),
    "volunteer.declined": _volunteer_decided("declined"),
}
