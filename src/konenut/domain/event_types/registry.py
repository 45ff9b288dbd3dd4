"""The one registry of event types: name, version, payload schema and audience.

Adding an event type means adding it here; the store refuses any type not listed.
"""

from __future__ import annotations

from konenut.domain.errors import InvalidEvent
from konenut.domain.event_types.assets import AssetAdded, AssetHandedOver, AssetRequested
from konenut.domain.event_types.audiences import (
    ADMIN_ONLY,
    CAUTION_AUDIENCE,
    CHALLENGE_AUDIENCE,
    COMMAND_AUDIENCE,
    CONTACT_AUDIENCE,
    GUEST_AUDIENCE,
    GUEST_MERGED_AUDIENCE,
    HOSTAGE_AUDIENCE,
    HOUSEHOLD_AUDIENCE,
    ORDER_AUDIENCE,
    OWN_SEES,
    PASS_AUDIENCE,
    PERSON_AUDIENCE,
    PICTURE_AUDIENCE,
    POSITION_AUDIENCE,
    PUBLIC_AUDIENCE,
    SAFE_WORD_AUDIENCE,
    TARGETED_AT_HOUSEHOLD,
    VOLUNTEER_AUDIENCE,
    VOLUNTEER_DECIDED_AUDIENCE,
)
from konenut.domain.event_types.audit import (
    AccessDenied,
    CodeGuessingDetected,
    InboundRejected,
    LogExported,
    RegistryExported,
)
from konenut.domain.event_types.broadcasts import (
    BroadcastDeliverySent,
    BroadcastDeliverySettled,
    BroadcastRead,
    BroadcastSent,
)
from konenut.domain.event_types.casualties import CASUALTY_EVENT_TYPES
from konenut.domain.event_types.cautions import CautionFailed, CautionRaised, IntruderCleared
from konenut.domain.event_types.challenge import ChallengeSet, SafeWordSet
from konenut.domain.event_types.checkins import HouseholdCheckedIn
from konenut.domain.event_types.contacts import ContactPointSet
from konenut.domain.event_types.devices import (
    DeviceEnrolled,
    EnrollmentCodeIssued,
    PushSubscribed,
    PushUnsubscribed,
    TokenRevoked,
)
from konenut.domain.event_types.guests import GuestCheckedIn, GuestMerged, GuestsVoided
from konenut.domain.event_types.hostages import HostageReported, HostageUpdated
from konenut.domain.event_types.incidents import IncidentClosed, IncidentOpened, RecheckSet
from konenut.domain.event_types.liaison import LIAISON_EVENT_TYPES
from konenut.domain.event_types.muster import MusterCalled, MusterSeen
from konenut.domain.event_types.notifications import (
    EscalationPolicySet,
    NotificationDelivered,
    NotificationFailed,
    NotificationSent,
)
from konenut.domain.event_types.orders import OrderAcknowledged, OrderSent
from konenut.domain.event_types.passes import PassIssued, PassRedeemed, PassRevoked
from konenut.domain.event_types.people import (
    HouseholdAdded,
    HouseholdUpdated,
    PersonAdded,
    PersonUpdated,
)
from konenut.domain.event_types.responders import (
    PositionReported,
    ResponderEntering,
    ResponderStatusChanged,
)
from konenut.domain.event_types.sightings import SightingReported, SightingUpdated
from konenut.domain.event_types.site import SiteConfigured
from konenut.domain.event_types.sitrep import SITREP_EVENT_TYPES
from konenut.domain.event_types.supplies import SUPPLY_EVENT_TYPES
from konenut.domain.event_types.tasks import TASK_EVENT_TYPES
from konenut.domain.event_types.volunteers import (
    VolunteerApproved,
    VolunteerDeclined,
    VolunteerJoined,
)
from konenut.domain.events import EventType, Scope, Visibility
from konenut.domain.roles import Role

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
    EventType(
        "pass.issued",
        1,
        PassIssued,
        PASS_AUDIENCE,
        secret_fields=frozenset({"code_hash", "radio_code_hash"}),
    ),
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
    *LIAISON_EVENT_TYPES,  # liaison access, audited (issue 15)
    *CASUALTY_EVENT_TYPES,
    *SUPPLY_EVENT_TYPES,  # supply requests and the inventory (issue 14)
    *TASK_EVENT_TYPES,
    *SITREP_EVENT_TYPES,  # the situation report's audit trail (issue 15)
)

REGISTRY: dict[str, EventType] = {etype.name: etype for etype in EVENT_TYPES}


def event_type(name: str) -> EventType:
    """The registered type called `name`; InvalidEvent when there is none."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise InvalidEvent(f"unknown event type {name!r}") from None
