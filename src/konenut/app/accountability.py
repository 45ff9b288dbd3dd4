"""Asking again: re-ping the households that have not answered, and proof of life on a timer.

Both only append a `broadcast.sent` (template `instruction.report_status`, in the five
languages) to exactly the households concerned; the broadcast sender delivers it. Who is due
is decided in the store's writer, so two re-pings at once cannot ask anyone twice.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

import structlog
from pydantic import Field

from konenut.app import commands as c
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import in_open_incident, new_event, open_incident_of
from konenut.app.identity import Actor
from konenut.app.sink import CommandSink
from konenut.domain import accountability
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.state import IncidentView, SiteState
from konenut.i18n import instructions

log = structlog.get_logger(__name__)

REPORT_STATUS = "instruction.report_status"
RECHECK_INTERVAL_SECS = 10.0  # how often the proof-of-life timer looks at the state


def reping(actor: Actor, incident_id: str) -> Decide:
    """Ask the households that have not answered, and only them, to report their status."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = open_incident_of(state, incident_id)
        events, extra = _ask(actor, incident, accountability.no_answer(state, incident), now)
        return Decision(events, extra=extra)

    return decide


def recheck_due(incident_id: str) -> Decide:
    """Proof of life: ask the households silent for the incident's recheck interval (the
    server's timer; nothing when none is due or the incident has closed)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = state.incidents.get(incident_id)
        if incident is None or not incident.is_open:
            return Decision(extra={"pinged": 0})
        due = accountability.due_for_recheck(state, incident, now)
        events, extra = _ask(None, incident, due, now)
        return Decision(events, extra=extra)

    return decide


class SetRecheck(c.Command):
    """Proof of life: ask again every N minutes those silent that long (0: off)."""

    every_mins: int = Field(ge=0, le=240, description="minutes; 0 turns proof of life off")


def set_recheck(actor: Actor, incident_id: str, cmd: SetRecheck) -> Decide:
    """Turn proof of life on (every N minutes) or off (0) for an incident."""

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        if incident.recheck_every_mins == cmd.every_mins:
            return []  # already so: nothing new
        payload = {"every_mins": cmd.every_mins}
        return [
            new_event(
                "accountability.recheck_set",
                payload,
                actor=actor,
                cmd=cmd,
                now=now,
                incident=incident,
            )
        ]

    return in_open_incident(incident_id, inner, {"every_mins": cmd.every_mins})


def _ask(
    actor: Actor | None, incident: IncidentView, household_ids: list[str], now: datetime
) -> tuple[list[NewEvent], dict[str, Any]]:
    if not household_ids:
        return [], {"pinged": 0}
    broadcast_id = new_id()
    payload = {
        "broadcast_id": broadcast_id,
        "texts": instructions()[REPORT_STATUS],
        "template": REPORT_STATUS,
        "household_ids": household_ids,
    }
    event = new_event("broadcast.sent", payload, actor=actor, cmd=None, now=now, incident=incident)
    return [event], {"pinged": len(household_ids), "broadcast_id": broadcast_id}


class Rechecker:
    """The proof-of-life timer: every few seconds, re-pings whoever is due in open incidents.

    Reads the live state (cheap) and goes to the writer only when someone is due; the setting
    is an event, so the timer resumes after a restart.
    """

    def __init__(
        self, store: CommandSink, site_id: str, interval_secs: float | None = None
    ) -> None:
        self.store = store
        self.site_id = site_id
        # Read when built, not when defined: tests shorten the module constant.
        self.interval_secs = RECHECK_INTERVAL_SECS if interval_secs is None else interval_secs

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self.interval_secs)
            try:
                await asyncio.to_thread(self.tick)
            except Exception:  # a store briefly unavailable: try again next tick
                log.exception("rechecker.tick_failed")

    def tick(self) -> int:
        """Re-ping who is due now; returns how many households were asked."""
        state = self.store.state(self.site_id)
        now = self.store.clock()
        pinged = 0
        for incident in list(state.incidents.values()):
            if not accountability.due_for_recheck(state, incident, now):
                continue
            outcome = self.store.execute(self.site_id, recheck_due(incident.incident_id))
            pinged += int(outcome.body.get("pinged", 0))
        return pinged
