"""Load the demo village into a site's log and hand out fresh links for every role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import enrollment_link, new_code, new_token
from konenut.app.passes import IssueVolunteerPass, issue_volunteer_pass, new_pass_code, pass_link
from konenut.demo import load_residents, load_site_plan
from konenut.domain.errors import DomainError
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.roles import Role, SubjectKind
from konenut.domain.state import SiteState
from konenut.store.eventstore import Decision, EventStore

DEMO_DRILL_TITLE = "Demo drill: infiltration at the back gate"
DEMO_RESIDENT_HOUSEHOLD = "h-14"
DEMO_TOKEN_TTL_SECS = 7 * 24 * 3600


@dataclass(frozen=True)
class RoleLink:
    role: Role
    who: str
    code: str
    link: str


def _site_events(now: datetime) -> list[NewEvent]:
    """site.configured, then every household and person of the demo village."""
    plan, people = load_site_plan(), load_residents()
    events = [
        NewEvent(
            "site.configured",
            {
                "name": "Tel Kinamon",
                "names": {"he": "תל קינמון", "ar": "تل قينمون", "en": "Tel Kinamon"},
                "default_language": "he",
                "timezone": "Asia/Jerusalem",
                "plan": plan,
            },
            now,
        )
    ]
    squad = {r["person_ref"]: r for r in [*people["responders"], *people["admins"]]}
    for household in people["households"]:
        household_id = new_id()
        events.append(
            NewEvent(
                "household.added",
                {
                    "household_id": household_id,
                    "ref": household["ref"],
                    "name": household["name"],
                    "building_ref": household["building_ref"],
                    "languages": household["languages"],
                    "safe_room": household["safe_room"],
                    **(
                        {"foreman_person_ref": household["foreman"]}
                        if household.get("foreman")
                        else {}
                    ),
                },
                now,
            )
        )
        events.extend(
            _person_event(m, household_id, squad.get(m["ref"]), now) for m in household["members"]
        )
    person_ids = {
        e.payload["ref"]: e.payload["person_id"] for e in events if e.type == "person.added"
    }
    events.extend(_asset_events(person_ids, squad, now))
    return events


# The village's keys, radios and locker, and which squad member (by roster ref) holds each.
# Gate 2's key is with a member who lives by the far fence: the muster board shows whether it
# is coming, as the leader in Alumim needed to know.
DEMO_ASSETS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("key-armory-1", "armory_key", "Armory key 1", "A", "r-1"),
    ("key-armory-2", "armory_key", "Armory key 2", "A", "r-2"),
    ("key-gate-1", "gate_key", "Gate 1 key", "1", "r-5"),
    ("key-gate-2", "gate_key", "Gate 2 key", "2", "r-9"),
    ("key-gate-3", "gate_key", "Gate 3 key", "3", "r-6"),
    ("key-gate-4", "gate_key", "Gate 4 key", "4", None),
    ("radio-1", "radio", "Squad radio 1", None, "r-1"),
    ("radio-2", "radio", "Squad radio 2", None, "r-2"),
    ("radio-3", "radio", "Squad radio 3", None, "r-7"),
    ("locker-1", "weapons_locker", "Weapons locker", "A", "r-2"),
)


def _asset_events(
    person_ids: dict[str, str], squad: dict[str, dict[str, Any]], now: datetime
) -> list[NewEvent]:
    by_roster_ref = {entry["ref"]: person_ids[person_ref] for person_ref, entry in squad.items()}
    events = []
    for ref, kind, name, opens, holder in DEMO_ASSETS:
        payload: dict[str, Any] = {"asset_id": new_id(), "ref": ref, "kind": kind, "name": name}
        if opens:
            payload["opens_ref"] = opens
        if holder:
            payload["holder_person_id"] = by_roster_ref[holder]
        events.append(NewEvent("asset.added", payload, now))
    return events


def _person_event(
    member: dict[str, Any], household_id: str, squad_entry: dict[str, Any] | None, now: datetime
) -> NewEvent:
    payload: dict[str, Any] = {
        "person_id": new_id(),
        "ref": member["ref"],
        "name": member["name"],
        "roles": ["resident"],
        "languages": member["languages"],
        "household_id": household_id,
        "age_group": member["age_group"],
        "special_needs": member["special_needs"],
    }
    if member.get("phone"):
        payload["phone"] = member["phone"]
    if squad_entry is not None:
        payload["roles"] = [*squad_entry["roles"], "resident"]
        if "responder" in squad_entry["roles"]:
            # Two teams, alternating down the roster, so a call can go to one of them.
            number = int(squad_entry["ref"].removeprefix("r-"))
            payload["teams"] = ["north" if number % 2 else "south"]
        if squad_entry.get("callsign"):
            payload["callsign"] = squad_entry["callsign"]
    return NewEvent("person.added", payload, now)


def seed(store: EventStore, site_id: str) -> bool:
    """Load the village into an empty site, atomically; False if the site has events already."""

    def decide(state: SiteState, now: datetime) -> Decision:
        if state.seq > 0:
            return Decision()
        return Decision(_site_events(now))

    return store.execute(site_id, decide).status == 201


def ensure_drill(store: EventStore, site_id: str) -> str:
    """The open demo drill's id, opening one if there is none."""
    for incident in store.state(site_id).incidents.values():
        if incident.is_open and incident.drill:
            return incident.incident_id
    cmd = c.OpenIncident(title=DEMO_DRILL_TITLE, drill=True)
    return str(store.execute(site_id, handlers.open_incident(None, cmd)).body["incident_id"])


def _person_id(state: SiteState, person_ref: str) -> str:
    person = state.person_by_ref(person_ref)
    if person is None:
        raise DomainError(f"demo person {person_ref} is missing from the site")
    return person.person_id


def role_links(store: EventStore, site_id: str, base_url: str) -> list[RoleLink]:
    """Fresh one-time enrollment links, one per role (contracts §4: re-issued at each start)."""
    people = load_residents()
    state = store.state(site_id)
    drill_id = ensure_drill(store, site_id)
    by_role = {r["roles"][0]: r for r in people["responders"][::-1]}
    plain_responder = next(r for r in people["responders"] if r["roles"] == ["responder"])
    household = state.household_by_ref(DEMO_RESIDENT_HOUSEHOLD)
    plan: list[tuple[Role, str, c.IssueEnrollmentCode]] = [
        (
            Role.COMMANDER,
            by_role["commander"]["name"],
            _person_code(
                state, by_role["commander"]["person_ref"], [Role.COMMANDER, Role.RESPONDER]
            ),
        ),
        (
            Role.OPERATOR,
            by_role["operator"]["name"],
            _person_code(state, by_role["operator"]["person_ref"], [Role.OPERATOR, Role.RESPONDER]),
        ),
        (
            Role.RESPONDER,
            plain_responder["name"],
            _person_code(state, plain_responder["person_ref"], [Role.RESPONDER]),
        ),
        (
            Role.MEDIC,
            by_role["medic"]["name"],
            _person_code(state, by_role["medic"]["person_ref"], [Role.MEDIC, Role.RESPONDER]),
        ),
        (
            Role.ADMIN,
            people["admins"][0]["name"],
            _person_code(state, people["admins"][0]["person_ref"], [Role.ADMIN]),
        ),
    ]
    if household is not None:
        plan.append(
            (
                Role.RESIDENT,
                household.name,
                c.IssueEnrollmentCode(
                    subject_id=household.household_id,
                    subject_kind=SubjectKind.HOUSEHOLD,
                    token_ttl_secs=DEMO_TOKEN_TTL_SECS,
                ),
            )
        )
    for role, kind in (
        (Role.GUEST, SubjectKind.GUEST),
        (Role.VOLUNTEER, SubjectKind.VOLUNTEER),
        (Role.LIAISON, SubjectKind.LIAISON),
    ):
        plan.append(
            (
                role,
                f"a {role.value} of the drill",
                c.IssueEnrollmentCode(
                    subject_kind=kind, incident_id=drill_id, token_ttl_secs=DEMO_TOKEN_TTL_SECS
                ),
            )
        )
    links = []
    for role, who, cmd in plan:
        code = new_code()
        store.execute(site_id, handlers.issue_enrollment_code(None, cmd, code))
        language = "en"
        links.append(RoleLink(role, who, code, enrollment_link(base_url, code, language)))
    return links


def _person_code(state: SiteState, person_ref: str, roles: list[Role]) -> c.IssueEnrollmentCode:
    return c.IssueEnrollmentCode(
        subject_id=_person_id(state, person_ref), roles=roles, token_ttl_secs=DEMO_TOKEN_TTL_SECS
    )


def preenroll_devices(store: EventStore, site_id: str) -> dict[str, str]:
    """One enrolled device per responder, as a squad's phones would be: {callsign: token}."""
    state = store.state(site_id)
    tokens: dict[str, str] = {}
    for responder in load_residents()["responders"]:
        code, token = new_code(), new_token()
        cmd = c.IssueEnrollmentCode(subject_id=_person_id(state, responder["person_ref"]))
        store.execute(site_id, handlers.issue_enrollment_code(None, cmd, code))
        store.execute(
            site_id,
            handlers.enroll_device(
                c.EnrollDevice(code=code, device_name=f"{responder['callsign']} phone"), token
            ),
        )
        tokens[responder["callsign"]] = token
    return tokens


def volunteer_pass_link(store: EventStore, site_id: str, base_url: str) -> str:
    """A fresh join-as-volunteer link for the demo drill (a standing pass, valid 12 h)."""
    code = new_pass_code()
    drill_id = ensure_drill(store, site_id)
    store.execute(site_id, issue_volunteer_pass(None, drill_id, IssueVolunteerPass(), code))
    return pass_link(base_url, code, "en")
