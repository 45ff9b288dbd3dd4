"""The site TOML file as one command: site, escalation policy, muster templates, assets and
the inventory.

`konenut site apply` reads the file; this module checks all of it before anything is stored
and turns only what differs from the log into events, appended together or not at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import ValidationError

from konenut.app import commands as c
from konenut.app import handlers, muster
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers.supplies import SetInventory, set_inventory
from konenut.domain.errors import InvalidEvent
from konenut.domain.events import NewEvent
from konenut.domain.state import SiteState


class SiteFileError(ValueError):
    """A part of the site file is invalid; the message says which part and why."""


def _parse(model: type[c.Body], data: Any, where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(value)'}: {e['msg']}" for e in exc.errors()
        )
        raise SiteFileError(f"{where}: {problems}") from None


def site_file_command(data: dict[str, Any], plan: dict[str, Any] | None) -> Decide:
    """One Decide for the whole file; SiteFileError before anything runs if a part is invalid."""
    site = dict(data.get("site", {}))
    site.pop("plan", None)
    if plan is not None:
        site["plan"] = plan
    if "muster_templates" in data:
        site["muster_templates"] = data["muster_templates"]
    for table in ("caution", "guests"):
        if table in data:
            site[table] = data[table]
    configure = _parse(c.ConfigureSite, site, "[site]")
    policy = (
        _parse(c.SetEscalationPolicy, data["escalation"], "[escalation]")
        if "escalation" in data
        else None
    )
    assets = [_asset(entry, i) for i, entry in enumerate(data.get("assets", []), start=1)]
    refs = [ref for ref, _ in assets]
    if len(set(refs)) != len(refs):
        raise SiteFileError("[[assets]]: the same ref is used twice")
    stock = [
        _parse(SetInventory, entry, f"[[inventory]] #{i}")
        for i, entry in enumerate(data.get("inventory", []), start=1)
    ]
    items = [(line.kind, line.calibre) for line in stock]
    if len(set(items)) != len(items):
        raise SiteFileError("[[inventory]]: the same item (kind and calibre) is counted twice")

    def decide(state: SiteState, now: datetime) -> Decision:
        events = list(handlers.configure_site(None, configure)(state, now).events)
        if policy is not None:
            events += muster.set_escalation_policy(None, policy)(state, now).events
        for ref, entry in assets:
            events += _asset_events(state, now, ref, entry)
        for line in stock:
            events += set_inventory(None, line)(state, now).events
        return Decision(events)

    return decide


def _asset(entry: Any, number: int) -> tuple[str, dict[str, Any]]:
    if not isinstance(entry, dict):
        raise SiteFileError(f"[[assets]] #{number}: expected a table")
    fields = dict(entry)
    # A person's ref, as people are known in the files; they may be registered later.
    fields["holder_ref"] = fields.pop("holder", None)
    parsed = _parse(c.AddAsset, fields, f"[[assets]] #{number}")
    return parsed.ref, parsed.model_dump(mode="json", exclude_none=True)


def _asset_events(
    state: SiteState, now: datetime, ref: str, entry: dict[str, Any]
) -> list[NewEvent]:
    """Add the asset, or hand it over when only its holder changed."""
    current = state.asset_by_ref(ref)
    if current is None:
        return list(muster.add_asset(None, c.AddAsset.model_validate(entry))(state, now).events)
    if current.kind != entry["kind"]:
        raise InvalidEvent(f"[[assets]] {ref}: its kind cannot change ({current.kind})")
    if "holder_ref" not in entry:  # no holder in the file: as handed over since (user add --holds)
        return []
    handover = c.HandOverAsset(holder_ref=entry["holder_ref"])
    return list(muster.hand_over_asset(None, current.asset_id, handover)(state, now).events)
