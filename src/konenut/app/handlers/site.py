"""The site's configuration and plan."""

from __future__ import annotations

from datetime import datetime

from konenut.app import commands as c
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers.events import new_event
from konenut.app.identity import Actor
from konenut.domain.errors import NotFound
from konenut.domain.site_plan import FeatureKind, plan_refs
from konenut.domain.state import SiteState


def plan_building(state: SiteState, building_ref: str) -> None:
    """NotFound unless the site plan has this building (a site with no plan has none)."""
    known = plan_refs((state.site or {}).get("plan"), FeatureKind.BUILDING)
    if known is None or building_ref not in known:
        raise NotFound(f"no building {building_ref!r} on the site plan")


def configure_site(actor: Actor | None, cmd: c.ConfigureSite) -> Decide:
    def decide(state: SiteState, now: datetime) -> Decision:
        # Fields left out keep their current value. Each event carries the whole configuration
        # but the plan, which is large: it is sent, and stored, only when it changes.
        # Only top-level fields are "given"; inside them defaults count (a template's rally point).
        dumped = cmd.model_dump(exclude={"occurred_at", "location"})
        given = {k: v for k, v in dumped.items() if k in cmd.model_fields_set}
        current = state.site or {}
        if state.site is not None and all(current.get(k) == v for k, v in given.items()):
            return Decision()  # nothing changed
        payload = {k: v for k, v in current.items() if k != "plan"} | given
        return Decision([new_event("site.configured", payload, actor=actor, cmd=cmd, now=now)])

    return decide
