"""A site's current state: a projection of its log, applied one event at a time.

site.SiteState holds it and site.APPLIERS says which module folds each event type; each
aggregate's views and appliers live together in one module (people, devices, incidents,
sightings, ...). Every public name is importable from here, as it was when this was one module.
"""

from __future__ import annotations

from konenut.domain.state.assets import AssetView
from konenut.domain.state.broadcasts import BroadcastView, DeliveryView
from konenut.domain.state.cautions import CAUTION_REPEAT, CautionView
from konenut.domain.state.challenge import ChallengeView
from konenut.domain.state.checkins import CheckInView
from konenut.domain.state.contacts import ContactView
from konenut.domain.state.devices import CodeView, PushView, TokenView
from konenut.domain.state.guests import GuestView
from konenut.domain.state.hostages import HostageUpdateView, HostageView
from konenut.domain.state.incidents import IncidentView
from konenut.domain.state.muster import ResponderView
from konenut.domain.state.notifications import NotificationView
from konenut.domain.state.orders import OrderView
from konenut.domain.state.passes import PassView
from konenut.domain.state.people import HouseholdView, PersonView
from konenut.domain.state.positions import PositionView
from konenut.domain.state.sightings import SightingView
from konenut.domain.state.site import NOT_PROJECTED, STATE_VERSION, CodeKey, SiteState
from konenut.domain.state.supplies import InventoryView, SupplyView
from konenut.domain.state.tasks import TaskView
from konenut.domain.state.volunteers import VolunteerView

__all__ = [
    "CAUTION_REPEAT",
    "NOT_PROJECTED",
    "STATE_VERSION",
    "AssetView",
    "BroadcastView",
    "CautionView",
    "ChallengeView",
    "CheckInView",
    "CodeKey",
    "CodeView",
    "ContactView",
    "DeliveryView",
    "GuestView",
    "HostageUpdateView",
    "HostageView",
    "HouseholdView",
    "IncidentView",
    "InventoryView",
    "NotificationView",
    "OrderView",
    "PassView",
    "PersonView",
    "PositionView",
    "PushView",
    "ResponderView",
    "SightingView",
    "SiteState",
    "SupplyView",
    "TaskView",
    "TokenView",
    "VolunteerView",
]
