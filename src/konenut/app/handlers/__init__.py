"""Command handlers: each turns a command into a `Decide` that the store's writer runs.

A `Decide` sees the site's state as of the moment it runs, inside the writer, so rules
such as "one open real incident" hold even when commands race. One module per aggregate;
this package names them all, so `handlers.add_person` and the like keep working.
"""

from __future__ import annotations

from konenut.app.handlers.audit import (
    record_denial,
    record_export,
    record_guessing,
    record_registry_export,
)
from konenut.app.handlers.broadcasts import SAFE_WORD_TEMPLATE, send_broadcast
from konenut.app.handlers.checkins import check_in
from konenut.app.handlers.devices import (
    ENROLLMENT_CODE_TTL,
    enroll_device,
    issue_enrollment_code,
    revoke_device,
    revoke_person_devices,
    revoke_tokens,
)
from konenut.app.handlers.events import new_event
from konenut.app.handlers.incidents import (
    IncidentDecide,
    close_incident,
    in_open_incident,
    open_incident,
    open_incident_of,
)
from konenut.app.handlers.orders import acknowledge_order, send_order
from konenut.app.handlers.people import add_household, add_person, subject_person
from konenut.app.handlers.responders import call_muster, change_responder_status, report_position
from konenut.app.handlers.sightings import LocationRequired, report_sighting, update_sighting
from konenut.app.handlers.site import configure_site, plan_building
from konenut.app.handlers.subscriptions import unsubscribe_devices

__all__ = [
    "ENROLLMENT_CODE_TTL",
    "SAFE_WORD_TEMPLATE",
    "IncidentDecide",
    "LocationRequired",
    "acknowledge_order",
    "add_household",
    "add_person",
    "call_muster",
    "change_responder_status",
    "check_in",
    "close_incident",
    "configure_site",
    "enroll_device",
    "in_open_incident",
    "issue_enrollment_code",
    "new_event",
    "open_incident",
    "open_incident_of",
    "plan_building",
    "record_denial",
    "record_export",
    "record_guessing",
    "record_registry_export",
    "report_position",
    "report_sighting",
    "revoke_device",
    "revoke_person_devices",
    "revoke_tokens",
    "send_broadcast",
    "send_order",
    "subject_person",
    "unsubscribe_devices",
    "update_sighting",
]
