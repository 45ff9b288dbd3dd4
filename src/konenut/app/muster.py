"""Command handlers of the muster: activation, seen, escalation policy, contacts, push, assets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from konenut.app import commands as c
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import add_person, in_open_incident, new_event, open_incident_of
from konenut.app.identity import Actor
from konenut.domain.errors import Conflict, DomainError, NotFound
from konenut.domain.event_types import PHONE_ADDRESS_CHANNELS
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.muster import answers, latest_muster
from konenut.domain.phones import site_phone
from konenut.domain.state import IncidentView, SiteState
from konenut.i18n import FALLBACK_LANGUAGE, catalogue

TEMPLATE_PREFIX = "muster.template."
BUILT_IN_TEMPLATES: dict[str, dict[str, str]] = {
    # template id -> incident kind and rally point; texts are in the catalogues
    "hostile_infiltration": {"kind": "hostile_infiltration", "rally_point_ref": "R1"},
    "fire": {"kind": "fire", "rally_point_ref": "R1"},
    "missing_person": {"kind": "missing_person", "rally_point_ref": "R1"},
}


def templates(state: SiteState) -> dict[str, dict[str, Any]]:
    """Every muster template of the site: built-in ones, then the site's own (which win)."""
    found: dict[str, dict[str, Any]] = {}
    for template_id, fields in BUILT_IN_TEMPLATES.items():
        key = TEMPLATE_PREFIX + template_id
        texts = {lang: catalogue(lang)[key] for lang in ("he", "ar", "en", "th", "ne")}
        found[template_id] = {"id": template_id, **fields, "texts": texts, "built_in": True}
    for own in (state.site or {}).get("muster_templates") or []:
        found[own["id"]] = {**own, "built_in": False}
    return found


def template_text(template: dict[str, Any], lang: str) -> str:
    """The template's text in `lang`, else English, else any language it has."""
    texts: dict[str, str] = template["texts"]
    return texts.get(lang) or texts.get(FALLBACK_LANGUAGE) or next(iter(texts.values()))


def _incident_for(
    state: SiteState, cmd: c.ActivateSquad, template: dict[str, Any], now: datetime
) -> tuple[IncidentView | None, list[NewEvent], dict[str, Any]]:
    """The incident to call into, and the events that open it when there is none."""
    if cmd.incident_id is not None:
        return open_incident_of(state, cmd.incident_id), [], {}
    current = state.open_real_incident()
    if current is not None and not cmd.drill:
        return current, [], {}
    incident_id = new_id()
    payload = {
        "incident_id": incident_id,
        "ref": str(len(state.incidents) + 1),
        "title": template_text(template, state_language(state)),
        "kind": template["kind"],
    }
    event = NewEvent(
        type="incident.opened",
        payload=payload,
        occurred_at=cmd.occurred_at or now,
        incident_id=incident_id,
        drill=cmd.drill,
    )
    return None, [event], {"incident_id": incident_id, "drill": cmd.drill}


def state_language(state: SiteState) -> str:
    language = (state.site or {}).get("default_language", "he")
    return str(language)


def _targets(state: SiteState, cmd: c.ActivateSquad) -> list[str]:
    unknown = [p for p in cmd.person_ids if p not in state.persons]
    if unknown:
        raise NotFound(f"no person(s) {', '.join(unknown[:5])}")
    if cmd.team is None:
        return list(cmd.person_ids)
    team = [p.person_id for p in list(state.persons.values()) if cmd.team in p.teams]
    if not team:
        raise NotFound(f"nobody is in team {cmd.team!r}")
    return sorted(set(team) | set(cmd.person_ids))


def activate_squad(actor: Actor, cmd: c.ActivateSquad) -> Decide:
    """Open or reuse the incident and call the squad (or a team, or named people)."""
    muster_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        template = templates(state).get(cmd.template)
        if template is None:
            raise NotFound(f"no muster template {cmd.template!r}")
        incident, events, opened = _incident_for(state, cmd, template, now)
        targets = _targets(state, cmd)
        payload = {
            "muster_id": muster_id,
            "rally_point_ref": cmd.rally_point_ref or template["rally_point_ref"],
            "text": cmd.text,
            "targets": targets,
            "team": cmd.team,
            "template": cmd.template,
        }
        call = new_event("muster.called", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        if incident is None:  # opened in this same command
            call = NewEvent(**{**call.__dict__, **opened})
            events = [
                NewEvent(**{**events[0].__dict__, "actor": call.actor, "device": call.device})
            ]
        incident_id = incident.incident_id if incident else opened["incident_id"]
        return Decision([*events, call], extra={"incident_id": incident_id, "muster_id": muster_id})

    return decide


def mark_seen(actor: Actor, incident_id: str, cmd: c.MarkMusterSeen) -> Decide:
    """The call was on the person's screen; nothing to record once seen or answered."""

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        muster = _muster(incident, cmd.muster_id)
        person_id = actor.subject_id
        if person_id in incident.seen.get(muster["muster_id"], {}):
            return []
        if person_id in answers(incident, muster):
            return []
        payload = {"muster_id": muster["muster_id"], "person_id": person_id, "via": cmd.via}
        return [new_event("muster.seen", payload, actor=actor, cmd=cmd, now=now, incident=incident)]

    return in_open_incident(incident_id, inner)


def _muster(incident: IncidentView, muster_id: str | None) -> dict[str, Any]:
    if muster_id is None:
        muster = latest_muster(incident)
        if muster is None:
            raise NotFound(f"incident {incident.ref} has no muster call")
        return muster
    for muster in incident.musters:
        if muster["muster_id"] == muster_id:
            return muster
    raise NotFound(f"no muster call {muster_id} in incident {incident.ref}")


def set_escalation_policy(actor: Actor | None, cmd: c.SetEscalationPolicy) -> Decide:
    def decide(state: SiteState, now: datetime) -> Decision:
        steps = [s.model_dump(mode="json") for s in cmd.steps]
        if state.escalation_policy == steps:
            return Decision()
        return Decision(
            [new_event("escalation_policy.set", {"steps": steps}, actor=actor, cmd=cmd, now=now)]
        )

    return decide


def set_contact_point(
    actor: Actor | None, person_id: str, channel: str, cmd: c.SetContactPoint
) -> Decide:
    def decide(state: SiteState, now: datetime) -> Decision:
        if person_id not in state.persons:
            raise NotFound(f"no person {person_id}")
        current = state.contacts.get(person_id, {}).get(channel)
        wanted = cmd.model_dump(include={"address", "quiet_from", "quiet_until"})
        if channel in PHONE_ADDRESS_CHANNELS:
            wanted["address"] = site_phone(state, cmd.address, "body.address")
        if current is None and cmd.address is None:
            return Decision()
        if current is not None and current.model_dump(exclude={"channel"}) == wanted:
            return Decision()
        payload = {"person_id": person_id, "channel": channel, **wanted}
        return Decision([new_event("contact_point.set", payload, actor=actor, cmd=cmd, now=now)])

    return decide


def subscribe_push(actor: Actor, cmd: c.SubscribePush) -> Decide:
    """This device's Web Push subscription (one per device; a new one replaces it)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        if state.device_lapsed(actor.token_id, now):  # revoked while this request waited
            raise Conflict("this device no longer works here: it was revoked or has expired")
        current = state.push_subscriptions.get(actor.token_id)
        keys = cmd.model_dump(include={"endpoint", "p256dh", "auth", "lang"})
        if current is not None and current.model_dump(include=set(keys)) == keys:
            return Decision()
        payload = {"person_id": actor.subject_id, "token_id": actor.token_id, **keys}
        return Decision([new_event("push.subscribed", payload, actor=actor, cmd=cmd, now=now)])

    return decide


def add_asset(actor: Actor | None, cmd: c.AddAsset) -> Decide:
    asset_id = new_id()

    def decide(state: SiteState, now: datetime) -> Decision:
        if state.asset_by_ref(cmd.ref) is not None:
            raise Conflict(f"an asset with ref {cmd.ref!r} already exists")
        payload = {
            "asset_id": asset_id,
            **cmd.model_dump(exclude={"occurred_at", "location"}, mode="json"),
            **_holder(state, cmd.holder_person_id, cmd.holder_ref),
        }
        return Decision(
            [new_event("asset.added", payload, actor=actor, cmd=cmd, now=now)],
            extra={"asset_id": asset_id},
        )

    return decide


def _holder(state: SiteState, person_id: str | None, ref: str | None) -> dict[str, str | None]:
    """An asset's holder as stored: a registered person's id, or a ref that may be nobody's
    yet (the asset becomes theirs when they are registered: domain/state/people.py)."""
    if person_id is not None and ref is not None:
        raise DomainError("name the holder by person id or by ref, not both")
    if person_id is not None and person_id not in state.persons:
        raise NotFound(f"no person {person_id}")
    person = state.person_by_ref(ref) if ref is not None else None
    return {"holder_person_id": person.person_id if person else person_id, "holder_ref": ref}


def hand_over_asset(actor: Actor | None, asset_id: str, cmd: c.HandOverAsset) -> Decide:
    def decide(state: SiteState, now: datetime) -> Decision:
        asset = state.assets.get(asset_id)
        if asset is None:
            raise NotFound(f"no asset {asset_id}")
        holder = _holder(state, cmd.holder_person_id, cmd.holder_ref)
        held_by = holder["holder_person_id"]
        if asset.holder_person_id == held_by and (held_by or asset.holder_ref == cmd.holder_ref):
            return Decision()
        payload = {"asset_id": asset_id, **holder}
        return Decision([new_event("asset.handed_over", payload, actor=actor, cmd=cmd, now=now)])

    return decide


def add_holder(actor: Actor | None, cmd: c.AddPerson, asset_refs: list[str]) -> Decide:
    """Add a person who holds these assets (keys, radios...): all in one, or nothing."""
    add = add_person(actor, cmd)

    def decide(state: SiteState, now: datetime) -> Decision:
        added = add(state, now)
        events = list(added.events)
        for ref in asset_refs:
            asset = state.asset_by_ref(ref)
            if asset is None:
                raise NotFound(
                    f"no asset {ref!r}: declare it in the site file's [[assets]] and "
                    "`konenut site apply` it first (docs/muster.md)"
                )
            handover = c.HandOverAsset(holder_ref=cmd.ref)
            events += hand_over_asset(actor, asset.asset_id, handover)(state, now).events
        return Decision(events, extra=added.extra)

    return decide


def request_asset(actor: Actor, incident_id: str, asset_id: str, cmd: c.RequestAsset) -> Decide:
    """Ask the asset's holder to bring it to the muster."""

    def inner(state: SiteState, incident: IncidentView, now: datetime) -> list[NewEvent]:
        asset = state.assets.get(asset_id)
        if asset is None:
            raise NotFound(f"no asset {asset_id}")
        if asset.holder_person_id is None:
            raise DomainError(f"nobody holds {asset.name} ({asset.ref}): hand it over first")
        payload = {"asset_id": asset_id, "person_id": asset.holder_person_id, "text": cmd.text}
        return [
            new_event("asset.requested", payload, actor=actor, cmd=cmd, now=now, incident=incident)
        ]

    return in_open_incident(incident_id, inner)
