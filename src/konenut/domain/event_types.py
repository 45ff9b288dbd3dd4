"""The one registry of event types: name, version, payload schema and audience.

Adding an event type means adding it here; the store refuses any type not listed.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from konenut.domain.errors import InvalidEvent
from konenut.domain.escalation import Channel, EscalationPolicy
from konenut.domain.events import EventType, Payload, Scope, Visibility
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.site_plan import SitePlan

Id = Annotated[str, StringConstraints(min_length=1, max_length=64)]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=32, strip_whitespace=True)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Text = Annotated[str, StringConstraints(min_length=1, max_length=2000, strip_whitespace=True)]
Lang = Literal["he", "ar", "en", "th", "ne", "ru", "am", "fr", "es"]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9][0-9]{6,14}$")]
# A country's dialling code without the "+" (972 Israel, 66 Thailand, 977 Nepal).
CountryCode = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,2}$")]
Stamp = Annotated[str, StringConstraints(pattern=r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")]
# The address phones open: scheme, host and port only (pages live at /{lang}/...).
PublicUrl = Annotated[
    str, StringConstraints(pattern=r"^https?://[A-Za-z0-9.\-]+(:[0-9]{1,5})?/?$", max_length=200)
]


def _hebrew() -> list[Lang]:
    return ["he"]


Hash = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class SafeRoom(StrEnum):
    IN_HOME = "in_home"
    SHARED_SHELTER = "shared_shelter"
    NONE = "none"


class AgeGroup(StrEnum):
    INFANT = "infant"
    CHILD = "child"
    ADULT = "adult"
    ELDERLY = "elderly"


class ResponderStatus(StrEnum):
    NOTIFIED = "notified"
    SEEN = "seen"
    COMING = "coming"
    CANNOT = "cannot"
    EN_ROUTE = "en_route"
    AT_RALLY_POINT = "at_rally_point"
    IN_POSITION = "in_position"
    WOUNDED = "wounded"
    OUT = "out"


class HouseholdStatus(StrEnum):
    SAFE = "safe"
    NEED_MEDIC = "need_medic"
    INTRUDER = "intruder"
    SMOKE = "smoke"
    NOT_HOME = "not_home"


class SightingCategory(StrEnum):
    HOSTILE = "hostile"
    UNKNOWN = "unknown"
    FRIENDLY_UNKNOWN = "friendly_unknown"


class SightingStatus(StrEnum):
    REPORTED = "reported"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"
    MOVED = "moved"
    NEUTRALISED = "neutralised"
    MERGED = "merged"


class MusterTemplate(BaseModel):
    """A site's own muster call: its text per language, and where to gather."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]{1,64}$")]
    kind: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "hostile_infiltration"
    rally_point_ref: Ref = "R1"
    texts: dict[Lang, Annotated[str, StringConstraints(min_length=1, max_length=300)]] = Field(
        min_length=1
    )


class CautionSettings(BaseModel):
    """How near is too near (domain/caution.py); the site TOML's [caution] table."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    radius_m: float = Field(default=150.0, ge=10, le=2000)
    converge_m: float = Field(default=50.0, ge=5, le=1000)


class GuestSettings(BaseModel):
    """How much one guest poster may bring in (app/guests.py); the site TOML's [guests] table.

    A poster hangs where anyone can scan it: one code redeemed 20 times put 10,000 people in one
    building. Defaults: a building's poster serves a few families; a shelter raises them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_devices_per_poster: int = Field(default=30, ge=1, le=10_000)  # per incident
    max_people_per_guest: int = Field(default=20, ge=1, le=500)  # per redemption or check-in
    # Redemptions a minute: one phone per family, a shelter's Wi-Fi puts several on one address.
    redemptions_per_address_per_min: int = Field(default=10, ge=1, le=10_000)
    redemptions_per_poster_per_min: int = Field(default=20, ge=1, le=10_000)


class SiteConfigured(Payload):
    name: Name
    names: dict[Lang, Name] = Field(default_factory=dict)
    default_language: Lang = "he"
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Asia/Jerusalem"
    plan: dict[str, Any] | None = None
    muster_templates: list[MusterTemplate] | None = Field(default=None, max_length=30)
    caution: CautionSettings | None = None
    guests: GuestSettings | None = None
    public_url: PublicUrl | None = None  # links' base (app/identity.py links_url)
    country_code: CountryCode | None = None  # phones typed 0XX... (domain/phones.py)

    @field_validator("plan")
    @classmethod
    def _valid_plan(cls, plan: dict[str, Any] | None) -> dict[str, Any] | None:
        if plan is not None:
            SitePlan.model_validate(plan)
        return plan


# Field groups shared by a command's body (app/commands.py) and the event it produces.
class PersonFields(BaseModel):
    ref: Ref
    name: Name
    roles: list[Role] = Field(default_factory=list, max_length=9)
    phone: Phone | None = None
    languages: list[Lang] = Field(default_factory=_hebrew, min_length=1, max_length=5)
    household_id: Id | None = None
    callsign: Name | None = None
    age_group: AgeGroup = AgeGroup.ADULT
    special_needs: list[Annotated[str, StringConstraints(max_length=32)]] = Field(
        default_factory=list, max_length=8
    )
    teams: list[Ref] = Field(default_factory=list, max_length=8)


class PersonAdded(Payload, PersonFields):
    person_id: Id


class HouseholdFields(BaseModel):
    ref: Ref
    name: Name
    building_ref: Ref | None = None
    languages: list[Lang] = Field(default_factory=_hebrew, min_length=1, max_length=5)
    safe_room: SafeRoom = SafeRoom.IN_HOME
    foreman_person_ref: Ref | None = None
    pets: Annotated[str, StringConstraints(max_length=200, strip_whitespace=True)] | None = None


class HouseholdAdded(Payload, HouseholdFields):
    household_id: Id


class HouseholdUpdated(Payload, HouseholdFields):
    """A household's fields as they are now (all of them: the event replaces the last)."""

    household_id: Id


class PersonUpdated(Payload, PersonFields):
    """A person's fields as they are now (all of them: the event replaces the last)."""

    person_id: Id


class EnrollmentCodeIssued(Payload):
    code_id: Id
    code_hash: Hash
    subject_id: Id
    subject_kind: SubjectKind
    roles: list[Role] = Field(min_length=1, max_length=9)
    incident_id: Id | None = None
    expires_at: Stamp
    token_expires_at: Stamp | None = None


class DeviceEnrolled(Payload):
    token_id: Id
    token_hash: Hash
    subject_id: Id
    subject_kind: SubjectKind
    roles: list[Role] = Field(min_length=1, max_length=9)
    household_id: Id | None = None
    incident_id: Id | None = None
    expires_at: Stamp | None = None
    device_name: Annotated[str, StringConstraints(max_length=100)] = ""
    code_id: Id | None = None


class TokenRevoked(Payload):
    token_id: Id
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class IncidentOpened(Payload):
    incident_id: Id
    ref: Ref
    title: Name
    kind: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "hostile_infiltration"


class IncidentClosed(Payload):
    incident_id: Id
    summary: Annotated[str, StringConstraints(max_length=2000)] = ""


class MusterCalled(Payload):
    muster_id: Id
    rally_point_ref: Ref
    text: Annotated[str, StringConstraints(max_length=500)] = ""
    targets: list[Id] = Field(default_factory=list, max_length=5000)  # empty: whole squad
    team: Ref | None = None  # the team the targets were chosen by, if any
    template: Annotated[str, StringConstraints(max_length=64)] | None = None


class MusterSeen(Payload):
    muster_id: Id
    person_id: Id
    via: Literal["app", "notification"] = "app"


class EscalationPolicySet(Payload, EscalationPolicy):
    """The site's escalation chain (domain/escalation.py); replaces the previous one."""


# Where a person can be reached beyond the app; the phone of person.added is the SMS default.
ContactChannel = Literal["sms", "telegram", "signal", "whatsapp", "email", "voice"]
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
# Channels whose address is a phone number: typed ones are normalised (domain/phones.py).
PHONE_ADDRESS_CHANNELS = ("sms", "voice", "whatsapp", "signal")
ADDRESS_PATTERNS: dict[str, re.Pattern[str]] = {
    **dict.fromkeys(PHONE_ADDRESS_CHANNELS, _PHONE),
    "telegram": re.compile(r"^(-?[0-9]{3,20}|@[A-Za-z][A-Za-z0-9_]{4,31})$"),
    "email": re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[^@\s]{2,}$"),
}
ADDRESS_HINTS: dict[str, str] = {
    "sms": "a phone number in international form, e.g. +972501234567",
    "voice": "a phone number in international form, e.g. +972501234567",
    "whatsapp": "a phone number in international form, e.g. +972501234567",
    "signal": "a phone number in international form, e.g. +972501234567",
    "telegram": "a numeric Telegram chat id or an @username",
    "email": "an e-mail address",
}


def address_problem(channel: str, address: str | None) -> str | None:
    """Why `address` cannot be used on `channel`, or None when it can (or is being removed)."""
    if address is None or ADDRESS_PATTERNS[channel].match(address):
        return None
    return f"not a valid {channel} address: {ADDRESS_HINTS[channel]}"


ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]


class ContactPointSet(Payload):
    person_id: Id
    channel: ContactChannel
    address: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    # Quiet hours (site time) hold back drills' calls on this channel; real incidents override.
    quiet_from: ClockTime | None = None
    quiet_until: ClockTime | None = None

    @model_validator(mode="after")
    def _address_fits_channel(self) -> ContactPointSet:
        problem = address_problem(self.channel, self.address)
        if problem:
            raise ValueError(problem)
        if (self.quiet_from is None) != (self.quiet_until is None):
            raise ValueError("quiet hours need both quiet_from and quiet_until")
        return self


class PushSubscribed(Payload):
    person_id: Id
    token_id: Id
    endpoint: Annotated[str, StringConstraints(min_length=10, max_length=2000)]
    p256dh: Annotated[str, StringConstraints(min_length=40, max_length=200)]
    auth: Annotated[str, StringConstraints(min_length=16, max_length=100)]
    lang: Lang | None = None  # the language chosen on the device (None: its owner's)


class PushUnsubscribed(Payload):
    person_id: Id
    token_id: Id
    reason: Annotated[str, StringConstraints(max_length=300)] = ""


class NotificationSent(Payload):
    """An attempt to reach a person on one channel for one muster call (step, retry)."""

    notification_id: Id
    muster_id: Id
    person_id: Id
    step: int = Field(ge=0, le=20)
    retry: int = Field(default=0, ge=0, le=10)
    channel: Channel
    lang: Lang = "he"
    to: Annotated[str, StringConstraints(max_length=200)] = ""  # masked address, for the board
    # muster: the call itself; deputy: "X has not answered"; confirmation: an answer received;
    # bring: the commander asked this person to bring a key or radio they hold.
    question: Literal["muster", "confirmation", "deputy", "bring"] = "muster"


class NotificationDelivered(Payload):
    notification_id: Id
    person_id: Id
    provider_message_id: Annotated[str, StringConstraints(max_length=200)] | None = None


class NotificationFailed(Payload):
    notification_id: Id
    person_id: Id
    reason: Annotated[str, StringConstraints(max_length=500)]
    gone: bool = False  # the address is permanently invalid


class AssetKind(StrEnum):
    GATE_KEY = "gate_key"
    ARMORY_KEY = "armory_key"
    RADIO = "radio"
    WEAPONS_LOCKER = "weapons_locker"
    VEHICLE = "vehicle"
    MEDICAL_KIT = "medical_kit"
    OTHER = "other"


class AssetAdded(Payload):
    asset_id: Id
    ref: Ref
    kind: AssetKind
    name: Name
    holder_person_id: Id | None = None
    holder_ref: Ref | None = None  # the holder's ref when given by ref (maybe nobody's yet)
    opens_ref: Ref | None = None  # for keys: the gate or building ref it opens
    needed_at_muster: bool = True  # the muster board says when nobody coming carries it


class AssetHandedOver(Payload):
    asset_id: Id
    holder_person_id: Id | None = None  # None: back in the armory / unassigned
    holder_ref: Ref | None = None  # the holder's ref when given by ref (maybe nobody's yet)


class AssetRequested(Payload):
    asset_id: Id
    person_id: Id  # the holder asked to bring it
    text: Annotated[str, StringConstraints(max_length=300)] = ""


# Where an answer came from: the escalator confirms it back on the same channel.
AnswerVia = Literal["app", "push", "sms", "telegram", "tak", "operator"]


class ResponderStatusChanged(Payload):
    person_id: Id
    status: ResponderStatus
    eta_secs: int | None = Field(default=None, ge=0, le=24 * 3600)
    note: Annotated[str, StringConstraints(max_length=500)] = ""
    via: AnswerVia = "app"


class PositionReported(Payload):
    subject_id: Id
    callsign: Name | None = None
    source: Literal["app", "manual", "tak"] = "app"


PhotoId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class SightingFields(BaseModel):
    category: SightingCategory
    count: int = Field(default=1, ge=1, le=500)
    armed: bool | None = None
    vehicle: bool = False
    direction_deg: float | None = Field(default=None, ge=0, lt=360)
    text: Annotated[str, StringConstraints(max_length=1000)] = ""
    # SHA-256 ids of photos uploaded first (app/photos.py); the file stays out of the log.
    photo_ids: list[PhotoId] = Field(default_factory=list, max_length=4)


class SightingReported(Payload, SightingFields):
    sighting_id: Id
    source: Literal["responder", "war_room", "resident", "camera", "tak"] = "responder"


class SightingUpdateFields(BaseModel):
    status: SightingStatus
    merged_into: Id | None = None
    count: int | None = Field(default=None, ge=1, le=500)
    note: Annotated[str, StringConstraints(max_length=1000)] = ""


class SightingUpdated(Payload, SightingUpdateFields):
    sighting_id: Id


class CheckInFields(BaseModel):
    status: HouseholdStatus
    people_count: int | None = Field(default=None, ge=0, le=500)
    text: Annotated[str, StringConstraints(max_length=500)] = ""
    # With need_medic: how many are hurt and how badly (the worst of them).
    injured_count: int | None = Field(default=None, ge=1, le=500)
    severity: Literal["minor", "serious", "critical"] | None = None


class HouseholdCheckedIn(Payload, CheckInFields):
    household_id: Id
    via: Literal["sms", "telegram"] | None = None  # a reply 1-5 to a broadcast; None: the app


class HostageFields(BaseModel):
    household_id: Id | None = None
    building_ref: Ref
    people_inside: int | None = Field(default=None, ge=0, le=500)
    attackers_inside: int | None = Field(default=None, ge=0, le=500)
    contact_channel: Annotated[str, StringConstraints(max_length=200)] = ""
    text: Annotated[str, StringConstraints(max_length=2000)] = ""


class HostageReported(Payload, HostageFields):
    situation_id: Id
    source: Literal["operator", "resident"] = "operator"  # resident: raised from a check-in


class HostageUpdateFields(BaseModel):
    text: Annotated[str, StringConstraints(max_length=2000)] = ""
    people_inside: int | None = Field(default=None, ge=0, le=500)
    attackers_inside: int | None = Field(default=None, ge=0, le=500)
    # None: as before. How the squad reaches whoever is inside can change (a phone dies).
    contact_channel: Annotated[str, StringConstraints(max_length=200)] | None = None
    status: Literal["ongoing", "resolved"] = "ongoing"


class HostageUpdated(Payload, HostageUpdateFields):
    situation_id: Id


class BroadcastFields(BaseModel):
    texts: dict[Lang, Text] = Field(min_length=1)
    template: Annotated[str, StringConstraints(max_length=64)] | None = None
    household_ids: list[Id] = Field(default_factory=list, max_length=100_000)  # empty: all


class BroadcastSent(Payload, BroadcastFields):
    broadcast_id: Id
    # Languages whose text is a real translation (None: every text given); the others show
    # the custom text in the language it was written, marked "not translated".
    translated: list[Lang] | None = None
    audience: Literal["all", "households", "area", "group"] = "all"
    area: dict[str, Any] | None = None  # the GeoJSON Polygon it was resolved from
    group: Annotated[str, StringConstraints(max_length=64)] | None = None
    # The texts tell the safe word (the `safe_word` template): households only, never guests.
    carries_safe_word: bool | None = None


class BroadcastDeliverySent(Payload):
    """One attempt to bring a broadcast to one household on one channel (Web Push: all its
    subscribed devices; SMS: all its members' phones)."""

    broadcast_id: Id
    delivery_id: Id
    household_id: Id
    channel: Annotated[str, StringConstraints(max_length=32)]
    lang: Lang  # the first of `langs`
    # Every language its sends are written in: each member's phone and each device in its own
    # (empty in deliveries recorded before there was more than one).
    langs: list[Lang] = Field(default_factory=list, max_length=5)
    to: Annotated[str, StringConstraints(max_length=200)] = ""


class BroadcastDeliverySettled(Payload):
    broadcast_id: Id
    delivery_id: Id
    household_id: Id
    outcome: Literal["delivered", "failed"]
    reason: Annotated[str, StringConstraints(max_length=500)] = ""
    provider_message_id: Annotated[str, StringConstraints(max_length=200)] | None = None


class BroadcastRead(Payload):
    """The household's app showed the broadcast on screen."""

    broadcast_id: Id
    household_id: Id


class RecheckSet(Payload):
    """Proof of life: households silent for this many minutes are asked again (0: off)."""

    every_mins: int = Field(ge=0, le=240)


class OrderSent(Payload):
    order_id: Id
    text: Text
    # The recipients, resolved when it was sent (a team's members then); empty: all.
    to_person_ids: list[Id] = Field(default_factory=list, max_length=5000)
    to_teams: list[Ref] = Field(default_factory=list, max_length=20)  # as the sender chose


class OrderAcknowledged(Payload):
    order_id: Id
    person_id: Id


Word = Annotated[str, StringConstraints(min_length=1, max_length=40, strip_whitespace=True)]


class ChallengeSet(Payload):
    """The incident's challenge and password (domain/challenge.py); replaces the last pair,
    which still answers for `grace_mins`."""

    challenge: Word
    password: Word
    lang: Lang = "he"
    generated: bool = False
    grace_mins: int = Field(default=10, ge=0, le=60)

    @model_validator(mode="after")
    def _two_words(self) -> ChallengeSet:
        if self.challenge.casefold() == self.password.casefold():
            raise ValueError("the challenge and the password must differ")
        return self


class SafeWordSet(Payload):
    """The word the squad says at a door, so residents know to open (never guests)."""

    word: Word
    lang: Lang = "he"
    generated: bool = False


class AccessDenied(Payload):
    """One refusal, or `count` refusals of the same token and operation since `first_at`."""

    operation: Annotated[str, StringConstraints(max_length=100)]
    reason: Annotated[str, StringConstraints(max_length=500)]
    token_id: Id | None = None
    count: int = Field(default=1, ge=1)
    first_at: Stamp | None = None


class LogExported(Payload):
    incident_id: Id | None = None
    format: Literal["jsonl", "csv", "geojson", "kml", "html", "pdf"] = "jsonl"
    event_count: int = Field(ge=0)
    via: Literal["api", "cli"] = "api"


class RegistryExported(Payload):
    """Who took the residents' names and phones out of the system, and how many."""

    format: Literal["csv", "xlsx"]
    households: int = Field(ge=0)
    people: int = Field(ge=0)
    via: Literal["api", "cli"] = "api"


class InboundRejected(Payload):
    """An SMS/Telegram reply that answered nothing (never its text; the sender masked)."""

    channel: Literal["sms", "telegram"]
    sender: Annotated[str, StringConstraints(max_length=40)]  # only the last 3 characters
    reason: Literal["unknown sender", "no open question", "not an answer"]
    message_id: Annotated[str, StringConstraints(max_length=128)] | None = None


# --- standing passes and volunteers (contracts §4) ---------------------------------------------
# What a printed or posted pass is for (liaison is not redeemable yet).
PassPurpose = Literal["volunteer_join", "household_card", "guest_poster", "liaison"]


class Affiliation(StrEnum):
    POLICE = "police"
    ARMY = "army"
    MEDIC = "medic"
    CIVILIAN = "civilian"
    OTHER = "other"


class PassIssued(Payload):
    pass_id: Id
    purpose: PassPurpose
    role: Role
    incident_id: Id | None = None
    household_id: Id | None = None
    building_ref: Ref | None = None  # a guest poster's building (none: site-wide)
    max_devices: int | None = Field(default=None, ge=1, le=100_000)
    expires_at: Stamp | None = None
    code_hash: Hash


class PassRevoked(Payload):
    pass_id: Id
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class VolunteerFields(BaseModel):
    """What a volunteer tells the commander about themselves when joining."""

    name: Name
    phone: Phone | None = None
    affiliation: Affiliation
    armed: bool
    language: Lang = "he"


class VolunteerJoined(Payload, VolunteerFields):
    volunteer_id: Id
    pass_id: Id


class VolunteerApproved(Payload):
    volunteer_id: Id
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class VolunteerDeclined(Payload):
    volunteer_id: Id
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class PassRedeemed(Payload):
    pass_id: Id
    purpose: PassPurpose
    token_id: Id
    subject_id: Id
    subject_kind: SubjectKind


class GuestFields(BaseModel):
    """What a guest tells when checking in by a building's (or the site's) poster."""

    building_ref: Ref | None = None
    people_count: int = Field(default=1, ge=1, le=500)
    language: Lang = "he"
    phone: Phone | None = None
    status: HouseholdStatus = HouseholdStatus.SAFE
    text: Annotated[str, StringConstraints(max_length=500)] = ""


class GuestCheckedIn(Payload, GuestFields):
    guest_id: Id
    pass_id: Id | None = None  # the poster it checked in by (its first check-in only)


class GuestsVoided(Payload):
    """An operator voided what one poster brought in during the incident: these guests leave
    the occupancy board and their devices are revoked (token.revoked, in the same command)."""

    pass_id: Id
    guest_ids: list[Id] = Field(max_length=10_000)
    reason: Annotated[str, StringConstraints(max_length=500)] = ""


class GuestMerged(Payload):
    guest_id: Id
    household_id: Id


# What a caution can store (app/caution.py caps counts and lists to these; never drops one).
CAUTION_MAX_PEOPLE = 5000  # people in one building
CAUTION_MAX_COUNT = 500  # a sighting's count
CAUTION_MAX_BUILDINGS = 100  # the nearest buildings named
CAUTION_MAX_UNITS = 300  # units named, and recipients per event (more: several events)


class CautionHouse(BaseModel):
    """Civilians hiding in a building near a threat (a caution's text part). Where an intruder
    is reported, who is known inside: residents, guests and the latest check-in."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    building_ref: Ref
    people: int = Field(ge=0, le=CAUTION_MAX_PEOPLE)
    status: HouseholdStatus
    residents: int | None = Field(default=None, ge=0, le=CAUTION_MAX_PEOPLE)
    guests: int | None = Field(default=None, ge=0, le=CAUTION_MAX_PEOPLE)
    checked_in_at: Stamp | None = None


class CautionUnit(BaseModel):
    """A friendly unit a caution is about, and the landmark it is at (a gate, a house)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    subject_id: Id
    callsign: Name | None = None
    near_kind: Literal["gate", "building"] | None = None
    near_ref: Ref | None = None


class CautionRaised(Payload):
    """Don't shoot our own (domain/caution.py): parts, not a sentence, so each page says it in
    its reader's language."""

    caution_id: Id
    kind: Literal["near_civilians", "near_friendly", "converging", "intruder_inside"]
    key: Annotated[str, StringConstraints(min_length=1, max_length=400)]
    sighting_id: Id | None = None
    building_ref: Ref | None = None  # intruder_inside: the building the intruder is in
    category: SightingCategory | None = None
    count: int | None = Field(default=None, ge=1, le=CAUTION_MAX_COUNT)
    building_refs: list[Ref] = Field(default_factory=list, max_length=CAUTION_MAX_BUILDINGS)
    subject_ids: list[Id] = Field(default_factory=list, max_length=CAUTION_MAX_UNITS)
    to_person_ids: list[Id] = Field(min_length=1, max_length=CAUTION_MAX_UNITS)
    civilians: list[CautionHouse] = Field(default_factory=list, max_length=CAUTION_MAX_BUILDINGS)
    friendlies: list[CautionUnit] = Field(default_factory=list, max_length=CAUTION_MAX_UNITS)
    # The same caution again (same caution_id): what is inside changed, or it reaches more units.
    updated: bool | None = None
    spot: dict[str, float] | None = None  # converging: where they would meet {lat, lon}


class CautionFailed(Payload):
    """A caution the rules called for could not be raised (app/caution.py): the war room must
    warn the units nearby another way."""

    reason: Annotated[str, StringConstraints(max_length=300)]
    triggers: list[Annotated[str, StringConstraints(max_length=64)]] = Field(max_length=20)
    failures: int = Field(ge=1)  # how many have failed on this server since it started


class IntruderCleared(Payload):
    """An operator cleared the intruder reports at a building (the squad checked it): no longer
    a threat for the caution rules, until someone inside reports an intruder again."""

    building_ref: Ref
    text: Annotated[str, StringConstraints(max_length=300)] = ""


class ResponderEntering(Payload):
    person_id: Id
    building_ref: Ref


class CodeGuessingDetected(Payload):
    """Wrong codes of one kind came faster than people mistype, from all addresses together:
    someone is guessing; every code of that kind is refused until the rate falls."""

    code_space: Literal["enrollment_code", "pass"]
    failures: int = Field(ge=1)  # wrong codes in the window
    window_secs: int = Field(ge=1)


ALL_SEE = Visibility(Scope.ALL)
INCIDENT_SEES = Visibility(Scope.INCIDENT)
OWN_SEES = Visibility(Scope.OWN)
PUBLIC = Visibility(Scope.ALL, envelope=False)
PUBLIC_IN_INCIDENT = Visibility(Scope.INCIDENT, envelope=False)
# Residents and guests see a broadcast meant for them, not whom else it was for, nor who sent it.
TARGETED_AT_HOUSEHOLD = Visibility(
    Scope.TARGETED, hide=frozenset({"household_ids", "area", "group"}), envelope=False
)


def _aud(**by_role: Visibility) -> dict[Role, Visibility]:
    return {Role(name): seen for name, seen in by_role.items()}


# Who sees the squad picture: the squad everywhere, volunteers and liaisons in their incident.
PICTURE_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=ALL_SEE,
    medic=ALL_SEE,
    volunteer=INCIDENT_SEES,
    liaison=INCIDENT_SEES,
)
# Hostages held: those who run the squad and the liaison to the army or police; never residents
# or guests, not even the household concerned (attackers may hold its phones).
HOSTAGE_AUDIENCE = _aud(admin=ALL_SEE, commander=ALL_SEE, operator=ALL_SEE, liaison=INCIDENT_SEES)
# Positions: never admins in peacetime views, never residents or guests.
POSITION_AUDIENCE: dict[Role, Visibility] = {
    r: v for r, v in PICTURE_AUDIENCE.items() if r is not Role.ADMIN
}
ADMIN_ONLY = _aud(admin=ALL_SEE)
# Passes are handed out by admins and commanders; only they see them issued or revoked.
PASS_AUDIENCE = _aud(admin=ALL_SEE, commander=ALL_SEE)
# Who joined: those who run the squad see everything; the squad needs to know who the armed
# stranger is, not their phone number; the volunteer sees its own.
_NO_PHONE = frozenset({"phone"})
VOLUNTEER_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=Visibility(Scope.ALL, hide=_NO_PHONE),
    medic=Visibility(Scope.ALL, hide=_NO_PHONE),
    volunteer=OWN_SEES,
    liaison=Visibility(Scope.INCIDENT, hide=_NO_PHONE),
)
VOLUNTEER_DECIDED_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=ALL_SEE,
    medic=ALL_SEE,
    volunteer=OWN_SEES,
    liaison=INCIDENT_SEES,
)
# Guests by a poster: the squad sees occupied buildings, not the guest's phone; the guest
# sees its own.
GUEST_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=Visibility(Scope.ALL, hide=_NO_PHONE),
    medic=Visibility(Scope.ALL, hide=_NO_PHONE),
    volunteer=Visibility(Scope.INCIDENT, hide=_NO_PHONE),
    liaison=Visibility(Scope.INCIDENT, hide=_NO_PHONE),
    guest=OWN_SEES,
)
GUEST_MERGED_AUDIENCE: dict[Role, Visibility] = {**PICTURE_AUDIENCE, Role.GUEST: OWN_SEES}
# Who runs the squad: they see notification attempts and the escalation policy.
COMMAND_AUDIENCE = _aud(admin=ALL_SEE, commander=ALL_SEE, operator=ALL_SEE)
CONTACT_AUDIENCE = _aud(
    admin=ALL_SEE, commander=ALL_SEE, responder=OWN_SEES, medic=OWN_SEES, volunteer=OWN_SEES
)
# The registry, field by field (contracts §4, need-to-know): those who run the squad see all of
# it; responders and medics see who lives where and how many (a rescue's picture), never phone
# numbers or a person's special needs (a phone book and medical notes on every squad phone);
# a household sees its own; volunteers and liaisons never see the registry, only the picture.
REGISTRY_PRIVATE_FIELDS = frozenset({"phone", "special_needs"})
_RESCUE_VIEW = Visibility(Scope.ALL, hide=REGISTRY_PRIVATE_FIELDS)
PERSON_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=_RESCUE_VIEW,
    medic=_RESCUE_VIEW,
    resident=OWN_SEES,
)
HOUSEHOLD_AUDIENCE = _aud(
    admin=ALL_SEE,
    commander=ALL_SEE,
    operator=ALL_SEE,
    responder=ALL_SEE,
    medic=ALL_SEE,
    resident=OWN_SEES,
)
PUBLIC_AUDIENCE: dict[Role, Visibility] = {
    **PICTURE_AUDIENCE,
    Role.RESIDENT: PUBLIC,
    Role.GUEST: PUBLIC_IN_INCIDENT,
}
# The safe word (what the squad says at a door): the squad and the households, never a guest.
# Anyone who scans a poster on a wall is a guest, an attacker too (docs/contracts.md §4).
SAFE_WORD_AUDIENCE: dict[Role, Visibility] = {**PICTURE_AUDIENCE, Role.RESIDENT: PUBLIC}
# The challenge and password: the squad, and the arriving unit; never admins in peacetime
# views, never residents or guests (a captured phone at a door must not answer it).
CHALLENGE_AUDIENCE = POSITION_AUDIENCE
# An order reaches the people it was for (everyone when it names nobody); those who run the
# squad and the liaison see every order.
# A caution reaches the units it warns (all of them when it names nobody) and those who run
# the squad; never residents or guests (contracts §5), never the admin desk.
CAUTION_AUDIENCE: dict[Role, Visibility] = {
    **POSITION_AUDIENCE,
    Role.RESPONDER: Visibility(Scope.TARGETED),
    Role.MEDIC: Visibility(Scope.TARGETED),
    Role.VOLUNTEER: Visibility(Scope.TARGETED),
}
ORDER_AUDIENCE: dict[Role, Visibility] = {
    **PICTURE_AUDIENCE,
    Role.RESPONDER: Visibility(Scope.TARGETED),
    Role.MEDIC: Visibility(Scope.TARGETED),
    Role.VOLUNTEER: Visibility(Scope.TARGETED),
}

EVENT_TYPES: tuple[EventType, ...] = (
    EventType(
        "site.configured",
        1,
        SiteConfigured,
        {
            **PICTURE_AUDIENCE,
            Role.RESIDENT: Visibility(Scope.ALL, hide=frozenset({"plan"}), envelope=False),
            Role.GUEST: Visibility(Scope.ALL, hide=frozenset({"plan"}), envelope=False),
        },
    ),
    EventType(
        "person.added",
        1,
        PersonAdded,
        PERSON_AUDIENCE,
        subject_field="person_id",
        household_field="household_id",
    ),
    EventType(
        "household.added", 1, HouseholdAdded, HOUSEHOLD_AUDIENCE, household_field="household_id"
    ),
    EventType(
        "person.updated",
        1,
        PersonUpdated,
        PERSON_AUDIENCE,
        subject_field="person_id",
        household_field="household_id",
    ),
    EventType(
        "household.updated", 1, HouseholdUpdated, HOUSEHOLD_AUDIENCE, household_field="household_id"
    ),
    EventType(
        "enrollment.code_issued",
        1,
        EnrollmentCodeIssued,
        ADMIN_ONLY,
        secret_fields=frozenset({"code_hash"}),
    ),
    EventType(
        "device.enrolled",
        1,
        DeviceEnrolled,
        ADMIN_ONLY,
        secret_fields=frozenset({"token_hash"}),
    ),
    EventType("token.revoked", 1, TokenRevoked, ADMIN_ONLY),
    EventType("incident.opened", 1, IncidentOpened, PUBLIC_AUDIENCE, requires_incident=True),
    EventType("incident.closed", 1, IncidentClosed, PUBLIC_AUDIENCE, requires_incident=True),
    EventType("muster.called", 1, MusterCalled, PICTURE_AUDIENCE, requires_incident=True),
    EventType(
        "responder.status_changed",
        1,
        ResponderStatusChanged,
        PICTURE_AUDIENCE,
        subject_field="person_id",
        requires_incident=True,
    ),
    EventType(
        "position.reported",
        1,
        PositionReported,
        POSITION_AUDIENCE,
        subject_field="subject_id",
        requires_incident=True,
        requires_location=True,
    ),
    EventType(
        "sighting.reported",
        1,
        SightingReported,
        {**POSITION_AUDIENCE, Role.RESIDENT: Visibility(Scope.OWN, envelope=False)},
        requires_incident=True,
        requires_location=True,
    ),
    EventType("sighting.updated", 1, SightingUpdated, POSITION_AUDIENCE, requires_incident=True),
    EventType(
        "household.checked_in",
        1,
        HouseholdCheckedIn,
        {**PICTURE_AUDIENCE, Role.RESIDENT: OWN_SEES},
        household_field="household_id",
        requires_incident=True,
    ),
    EventType(
        "broadcast.sent",
        1,
        BroadcastSent,
        {
            **PICTURE_AUDIENCE,
            Role.RESIDENT: TARGETED_AT_HOUSEHOLD,
            Role.GUEST: TARGETED_AT_HOUSEHOLD,
        },
        targets_field="household_ids",
        households_only_field="carries_safe_word",
        requires_incident=True,
    ),
    EventType(
        "accountability.recheck_set", 1, RecheckSet, COMMAND_AUDIENCE, requires_incident=True
    ),
    EventType("hostage.reported", 1, HostageReported, HOSTAGE_AUDIENCE, requires_incident=True),
    EventType("hostage.updated", 1, HostageUpdated, HOSTAGE_AUDIENCE, requires_incident=True),
    EventType(
        "broadcast.delivery_sent",
        1,
        BroadcastDeliverySent,
        COMMAND_AUDIENCE,
        household_field="household_id",
        requires_incident=True,
    ),
    EventType(
        "broadcast.delivery_settled",
        1,
        BroadcastDeliverySettled,
        COMMAND_AUDIENCE,
        household_field="household_id",
        requires_incident=True,
    ),
    EventType(
        "broadcast.read",
        1,
        BroadcastRead,
        {**COMMAND_AUDIENCE, Role.RESIDENT: OWN_SEES},
        household_field="household_id",
        requires_incident=True,
    ),
    EventType(
        "order.sent",
        1,
        OrderSent,
        ORDER_AUDIENCE,
        targets_field="to_person_ids",
        requires_incident=True,
    ),
    EventType(
        "order.acknowledged",
        1,
        OrderAcknowledged,
        PICTURE_AUDIENCE,
        subject_field="person_id",
        requires_incident=True,
    ),
    EventType(
        "muster.seen",
        1,
        MusterSeen,
        PICTURE_AUDIENCE,
        subject_field="person_id",
        requires_incident=True,
    ),
    EventType("escalation_policy.set", 1, EscalationPolicySet, COMMAND_AUDIENCE),
    EventType("contact_point.set", 1, ContactPointSet, CONTACT_AUDIENCE, subject_field="person_id"),
    EventType(
        "push.subscribed",
        1,
        PushSubscribed,
        CONTACT_AUDIENCE,
        subject_field="person_id",
        secret_fields=frozenset({"endpoint", "p256dh", "auth"}),
    ),
    EventType(
        "push.unsubscribed", 1, PushUnsubscribed, CONTACT_AUDIENCE, subject_field="person_id"
    ),
    EventType(
        "notification.sent",
        1,
        NotificationSent,
        COMMAND_AUDIENCE,
        subject_field="person_id",
        requires_incident=True,
    ),
    EventType(
        "notification.delivered",
        1,
        NotificationDelivered,
        COMMAND_AUDIENCE,
        subject_field="person_id",
        requires_incident=True,
    ),
    EventType(
        "notification.failed",
        1,
        NotificationFailed,
        COMMAND_AUDIENCE,
        subject_field="person_id",
        requires_incident=True,
    ),
    EventType("asset.added", 1, AssetAdded, PICTURE_AUDIENCE),
    EventType("asset.handed_over", 1, AssetHandedOver, PICTURE_AUDIENCE),
    EventType(
        "asset.requested",
        1,
        AssetRequested,
        PICTURE_AUDIENCE,
        subject_field="person_id",
        requires_incident=True,
    ),
    EventType("audit.access_denied", 1, AccessDenied, ADMIN_ONLY),
    EventType("audit.log_exported", 1, LogExported, ADMIN_ONLY),
    EventType("audit.inbound_rejected", 1, InboundRejected, ADMIN_ONLY),
    EventType("audit.registry_exported", 1, RegistryExported, ADMIN_ONLY),
    EventType("pass.issued", 1, PassIssued, PASS_AUDIENCE, secret_fields=frozenset({"code_hash"})),
    EventType("pass.revoked", 1, PassRevoked, PASS_AUDIENCE),
    EventType(
        "volunteer.joined",
        1,
        VolunteerJoined,
        VOLUNTEER_AUDIENCE,
        subject_field="volunteer_id",
        requires_incident=True,
    ),
    EventType(
        "volunteer.approved",
        1,
        VolunteerApproved,
        VOLUNTEER_DECIDED_AUDIENCE,
        subject_field="volunteer_id",
        requires_incident=True,
    ),
    EventType(
        "volunteer.declined",
        1,
        VolunteerDeclined,
        VOLUNTEER_DECIDED_AUDIENCE,
        subject_field="volunteer_id",
        requires_incident=True,
    ),
    EventType("audit.pass_redeemed", 1, PassRedeemed, ADMIN_ONLY),
    EventType(
        "guest.checked_in",
        1,
        GuestCheckedIn,
        GUEST_AUDIENCE,
        subject_field="guest_id",
        requires_incident=True,
    ),
    EventType(
        "guest.merged",
        1,
        GuestMerged,
        GUEST_MERGED_AUDIENCE,
        subject_field="guest_id",
        requires_incident=True,
    ),
    # The squad sees the guests leave the picture; a voided guest's token is revoked with it.
    EventType("guests.voided", 1, GuestsVoided, PICTURE_AUDIENCE, requires_incident=True),
    EventType("challenge.set", 1, ChallengeSet, CHALLENGE_AUDIENCE, requires_incident=True),
    EventType("safe_word.set", 1, SafeWordSet, SAFE_WORD_AUDIENCE, requires_incident=True),
    EventType(
        "caution.raised",
        1,
        CautionRaised,
        CAUTION_AUDIENCE,
        targets_field="to_person_ids",
        requires_incident=True,
    ),
    # Those who run the squad: a warning that did not go out is theirs to give by other means.
    EventType("caution.failed", 1, CautionFailed, COMMAND_AUDIENCE, requires_incident=True),
    # The squad picture: who may go into the building now (never residents: attackers may hold
    # the household's phones).
    EventType("intruder.cleared", 1, IntruderCleared, PICTURE_AUDIENCE, requires_incident=True),
    EventType(
        "responder.entering",
        1,
        ResponderEntering,
        POSITION_AUDIENCE,
        subject_field="person_id",
        requires_incident=True,
    ),
    # An alarm for those who run the squad (api/passes.py): enrolling by code stops for a while.
    EventType("code_guessing.detected", 1, CodeGuessingDetected, COMMAND_AUDIENCE),
)

REGISTRY: dict[str, EventType] = {etype.name: etype for etype in EVENT_TYPES}


def event_type(name: str) -> EventType:
    """The registered type called `name`; InvalidEvent when there is none."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise InvalidEvent(f"unknown event type {name!r}") from None
