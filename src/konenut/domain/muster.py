"""The muster board: who was called, who saw it, who is coming, when they arrive, which keys.

Pure functions of the site state and a time; the API, the escalator and the pages all read
the same answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from konenut.domain.escalation import ANSWERS, DEFAULT_POLICY, EscalationPolicy, not_reached_at
from konenut.domain.geo import distance_m
from konenut.domain.ids import format_time, parse_time
from konenut.domain.roles import Role
from konenut.domain.site_plan import FeatureKind, feature_point, find_feature
from konenut.domain.state import IncidentView, NotificationView, SiteState

# Roles called by a muster of the whole squad (operators stay in the war room).
CALLED_ROLES = frozenset({Role.COMMANDER, Role.RESPONDER, Role.MEDIC})
# Statuses of someone on the way or already there: the keys they hold are coming.
ARRIVING = frozenset({"coming", "en_route", "at_rally_point", "in_position"})
# Statuses of someone who will not come (or was never reached): the keys they hold are missing.
NOT_COMING = frozenset({"not_reached", "cannot", "wounded", "out"})
# Board order: the states a leader acts on first.
BOARD_STATES: tuple[str, ...] = (
    "wounded",
    "not_reached",
    "not_notified",
    "notified",
    "delivered",
    "seen",
    "coming",
    "en_route",
    "at_rally_point",
    "in_position",
    "cannot",
    "out",
)
# A responder hurrying to the armory on foot with gear, in metres per second.
ARRIVAL_SPEED_MPS = 2.0


def policy_of(state: SiteState) -> EscalationPolicy:
    """The site's escalation policy, or the built-in one until an admin sets it."""
    if state.escalation_policy is None:
        return DEFAULT_POLICY
    return EscalationPolicy.model_validate({"steps": state.escalation_policy})


def latest_muster(incident: IncidentView) -> dict[str, Any] | None:
    return incident.musters[-1] if incident.musters else None


def called_people(state: SiteState, muster: dict[str, Any]) -> list[str]:
    """Person ids the call is for: its targets, or everyone in the squad."""
    if muster.get("targets"):
        return [p for p in muster["targets"] if p in state.persons]
    return [
        p.person_id
        for p in list(state.persons.values())
        if CALLED_ROLES.intersection(Role(r) for r in p.roles)
    ]


def answers(incident: IncidentView, muster: dict[str, Any]) -> dict[str, str]:
    """person -> status given since this call (earlier answers were to an earlier call)."""
    called_at = muster["called_at"]
    return {
        r.person_id: r.status
        for r in list(incident.responders.values())
        if r.changed_at >= called_at and r.status in ANSWERS
    }


RALLY_KINDS = (FeatureKind.RALLY_POINT, FeatureKind.ARMORY, FeatureKind.GATE)


def rally_feature(state: SiteState, ref: str) -> dict[str, Any] | None:
    """The plan feature a call's rally point names: a rally point, else an armory, else a gate."""
    return find_feature((state.site or {}).get("plan"), RALLY_KINDS, ref)


def rally_point(state: SiteState, ref: str) -> tuple[float, float] | None:
    """(lon, lat) of the rally point called `ref`."""
    feature = rally_feature(state, ref)
    return feature_point(feature["geometry"]) if feature else None


def eta_secs(
    incident: IncidentView,
    person_id: str,
    target: tuple[float, float] | None,
    now: datetime,
) -> int | None:
    """Seconds until the person reaches the rally point, for someone on the way.

    Their own estimate counts down from when they gave it; otherwise the distance from their
    device's last position at a brisk pace.
    """
    status = incident.responders.get(person_id)
    if status is None or status.status not in ("coming", "en_route"):
        return None
    if status.eta_secs is not None:
        elapsed = (now - parse_time(status.changed_at)).total_seconds()
        return max(0, round(status.eta_secs - elapsed))
    position = incident.positions.get(person_id)
    if position is None or target is None:
        return None
    here = (float(position.location["lon"]), float(position.location["lat"]))
    return round(distance_m(here, target) / ARRIVAL_SPEED_MPS)


def attempts_by_person(incident: IncidentView, muster_id: str) -> dict[str, list[NotificationView]]:
    """The call's notification attempts grouped by person, oldest first (one pass over all)."""
    grouped: dict[str, list[NotificationView]] = {}
    for attempt in list(incident.notifications.values()):
        if attempt.muster_id == muster_id and attempt.question != "bring":
            grouped.setdefault(attempt.person_id, []).append(attempt)
    for attempts in grouped.values():
        attempts.sort(key=lambda n: n.sent_at)
    return grouped


def person_state(
    incident: IncidentView,
    muster: dict[str, Any],
    person_id: str,
    tried: list[NotificationView] | None = None,
    chain_over: bool = False,
) -> str:
    """Where the person is in notified -> seen -> coming/cannot -> ... for this call.

    `tried` (their attempts for this call) saves a scan of the incident's notifications.
    Once the chain is over (`chain_over`: the policy's last step and its grace time have
    passed), someone who has neither seen nor answered the call is "not_reached", whatever was
    delivered.
    """
    answer = incident.responders.get(person_id)
    if answer is not None and answer.changed_at >= muster["called_at"]:
        return answer.status
    if person_id in incident.seen.get(muster["muster_id"], {}):
        return "seen"
    if chain_over:
        return "not_reached"
    if tried is None:
        tried = attempts_by_person(incident, muster["muster_id"]).get(person_id, [])
    if any(n.outcome == "delivered" for n in tried):
        return "delivered"
    return "notified" if tried else "not_notified"


def board(state: SiteState, incident: IncidentView, now: datetime, full: bool) -> dict[str, Any]:
    """The muster board of the incident's latest call.

    `full` (commanders and operators) adds the channels tried for each person and the keys;
    the rest of the squad sees counts and who is coming, so they know whether to wait or go.
    """
    muster = latest_muster(incident)
    if muster is None:
        return {"muster": None, "counts": {}, "people": [], "assets": []}
    target = rally_point(state, muster["rally_point_ref"])
    holding = _assets_by_holder(state)
    attempts = attempts_by_person(incident, muster["muster_id"])
    give_up_at = not_reached_at(policy_of(state), parse_time(muster["called_at"]))
    chain_over = now >= give_up_at
    people = []
    for person_id in called_people(state, muster):
        person = state.persons.get(person_id)
        tried = attempts.get(person_id, [])
        row: dict[str, Any] = {
            "person_id": person_id,
            "name": person.name if person else person_id,
            "callsign": person.callsign if person else None,
            "state": person_state(incident, muster, person_id, tried, chain_over),
            "eta_secs": eta_secs(incident, person_id, target, now),
            "carrying": [a["ref"] for a in holding.get(person_id, [])],
        }
        if full:
            row["channels"] = _channels_tried(tried)
        people.append(row)
    people.extend(volunteer_rows(state, incident, target, now, full))
    people.sort(key=lambda r: (BOARD_STATES.index(r["state"]), r["name"]))
    counts: dict[str, int] = {}
    for row in people:
        counts[row["state"]] = counts.get(row["state"], 0) + 1
    return {
        "muster": muster,
        "as_of": format_time(now),
        # From then on who has not seen the call is "not reached": a page re-reads the board.
        "not_reached_at": format_time(give_up_at),
        "counts": counts,
        "people": people,
        "eta": sorted(
            (
                {"person_id": r["person_id"], "eta_secs": r["eta_secs"]}
                for r in people
                if r["eta_secs"] is not None
            ),
            key=lambda r: r["eta_secs"],
        ),
        "assets": _asset_board(state, incident, muster, people, chain_over) if full else [],
    }


def volunteer_rows(
    state: SiteState,
    incident: IncidentView,
    target: tuple[float, float] | None,
    now: datetime,
    full: bool,
) -> list[dict[str, Any]]:
    """Approved volunteers of the incident, marked as such (they were never notified: their
    state is their latest answer, else "seen", since they came by themselves)."""
    rows = []
    for volunteer in list(state.volunteers.values()):
        if volunteer.incident_id != incident.incident_id or volunteer.status != "approved":
            continue
        answer = incident.responders.get(volunteer.volunteer_id)
        row: dict[str, Any] = {
            "person_id": volunteer.volunteer_id,
            "name": volunteer.name,
            "callsign": None,
            "state": answer.status if answer is not None else "seen",
            "eta_secs": eta_secs(incident, volunteer.volunteer_id, target, now),
            "carrying": [],
            "volunteer": True,
            "affiliation": volunteer.affiliation,
            "armed": volunteer.armed,
        }
        if full:
            row["channels"] = []
        rows.append(row)
    return rows


def _assets_by_holder(state: SiteState) -> dict[str, list[dict[str, str]]]:
    holding: dict[str, list[dict[str, str]]] = {}
    for asset in list(state.assets.values()):
        if asset.holder_person_id:
            holding.setdefault(asset.holder_person_id, []).append(
                {"asset_id": asset.asset_id, "ref": asset.ref}
            )
    return holding


def _channels_tried(tried: list[NotificationView]) -> list[dict[str, Any]]:
    return [
        {
            "channel": n.channel,
            "at": n.sent_at,
            "outcome": n.outcome or "sending",
            "reason": n.reason,
            "to": n.to,
            "question": n.question,
        }
        for n in tried
    ]


def _asset_board(
    state: SiteState,
    incident: IncidentView,
    muster: dict[str, Any],
    people: list[dict[str, Any]],
    chain_over: bool,
) -> list[dict[str, Any]]:
    """Each asset needed at a muster: coming (its holder is on the way), missing (its holder
    will not come or was not reached), or neither yet; and why."""
    state_of = {r["person_id"]: r["state"] for r in people}
    requested = {
        r["asset_id"]: r for r in incident.asset_requests if r["at"] >= muster["called_at"]
    }
    rows = []
    for asset in sorted(list(state.assets.values()), key=lambda a: (a.kind, a.ref)):
        if not asset.needed_at_muster:
            continue
        holder = asset.holder_person_id
        holder_state = state_of.get(holder) if holder else None
        if holder is not None and holder_state is None:
            holder_state = person_state(incident, muster, holder, chain_over=chain_over)
        person = state.persons.get(holder) if holder else None
        rows.append(
            {
                **asset.model_dump(),
                "holder_name": person.name if person else None,
                "holder_state": holder_state,
                "coming": holder_state in ARRIVING,
                "missing": holder_state in NOT_COMING,
                "requested_at": requested[asset.asset_id]["at"]
                if asset.asset_id in requested
                else None,
            }
        )
    return rows
