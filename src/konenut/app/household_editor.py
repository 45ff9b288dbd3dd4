"""The admin's household editor: one household and its members as a whole, saved as differences.

The body is the household as the admin sees it now; the answer is only what changed:
household.updated, person.updated (a member removed is a person.updated without household),
person.added for a new member. A field the rules refuse (a building not on the plan, a foreman
nobody knows) is a 422 with the field's path, like a schema error, and nothing is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from konenut.app.commands import PHONE_INPUT_HELP, Body, Command, PhoneInput
from konenut.app.decisions import Decide, Decision
from konenut.app.handlers import new_event
from konenut.app.identity import Actor
from konenut.domain.errors import InvalidEvent, NotFound
from konenut.domain.event_types import (
    AgeGroup,
    HouseholdFields,
    Id,
    Lang,
    Name,
    PersonFields,
    Ref,
    SafeRoom,
)
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.phones import site_phone
from konenut.domain.site_plan import FeatureKind, plan_refs
from konenut.domain.state import HouseholdView, PersonView, SiteState

SpecialNeed = Literal["mobility", "medical", "infants", "hearing"]
MAX_MEMBERS = 100


class EditMember(Body):
    """A member as the editor shows it; without person_id, a new member."""

    person_id: Id | None = None
    ref: Ref | None = Field(default=None, description="Default for a new member: <house>-<n>")
    name: Name
    age_group: AgeGroup = AgeGroup.ADULT
    languages: list[Lang] = Field(default_factory=list, max_length=5)
    phone: PhoneInput | None = Field(default=None, description=PHONE_INPUT_HELP)
    special_needs: list[SpecialNeed] = Field(default_factory=list, max_length=4)


class EditHousehold(Command):
    """The whole household: fields left out keep nothing (the editor sends them all)."""

    name: Name
    building_ref: Ref | None = None
    safe_room: SafeRoom
    languages: list[Lang] = Field(min_length=1, max_length=5)
    foreman_person_ref: Ref | None = None
    pets: Annotated[str, Field(max_length=200)] | None = None
    members: list[EditMember] = Field(default_factory=list, max_length=MAX_MEMBERS)


def _field_error(loc: str, msg: str) -> InvalidEvent:
    return InvalidEvent(f"{loc}: {msg}", [{"loc": f"body.{loc}", "msg": msg}])


def _household_fields(view: HouseholdView, cmd: EditHousehold) -> dict[str, Any]:
    fields = HouseholdFields(
        ref=view.ref,
        name=cmd.name,
        building_ref=cmd.building_ref,
        languages=cmd.languages,
        safe_room=cmd.safe_room,
        foreman_person_ref=cmd.foreman_person_ref,
        pets=(cmd.pets or "").strip() or None,
    )
    return fields.model_dump(mode="json", exclude_none=True)


def _view_fields(view: HouseholdView | PersonView, model: type[Any], key: str) -> dict[str, Any]:
    kept = view.model_dump(exclude={key})
    dumped: dict[str, Any] = model.model_validate(kept).model_dump(mode="json", exclude_none=True)
    return dumped


def _member_fields(
    member: EditMember,
    ref: str,
    household_id: str,
    languages: Sequence[str],
    known: PersonView | None,
    phone: str | None,
) -> dict[str, Any]:
    """The editor's fields, and what it does not show (roles, callsign, teams) as known."""
    kept = known.model_dump(include={"roles", "callsign", "teams"}) if known else {}
    fields = PersonFields.model_validate(
        {
            **kept,
            "ref": ref,
            "name": member.name,
            "age_group": member.age_group,
            "languages": member.languages or list(languages),
            "phone": phone,
            "special_needs": list(dict.fromkeys(member.special_needs)),
            "household_id": household_id,
        }
    )
    return fields.model_dump(mode="json", exclude_none=True)


def _new_ref(household_ref: str, taken: set[str]) -> str:
    n = 1
    while f"{household_ref[:24]}-{n}" in taken:
        n += 1
    ref = f"{household_ref[:24]}-{n}"
    taken.add(ref)
    return ref


def _check(state: SiteState, household_id: str, cmd: EditHousehold) -> HouseholdView:
    household = state.households.get(household_id)
    if household is None:
        raise NotFound(f"no household {household_id}")
    buildings = plan_refs((state.site or {}).get("plan"), FeatureKind.BUILDING)
    if cmd.building_ref and buildings is not None and cmd.building_ref not in buildings:
        raise _field_error("building_ref", f"building '{cmd.building_ref}' is not on the site plan")
    for i, member in enumerate(cmd.members):
        if member.person_id is None:
            if member.ref and state.person_by_ref(member.ref) is not None:
                raise _field_error(f"members.{i}.ref", f"person_ref '{member.ref}' is taken")
            continue
        known = state.persons.get(member.person_id)
        if known is None or known.household_id != household_id:
            raise _field_error(f"members.{i}.person_id", "not a member of this household")
        other = state.person_by_ref(member.ref) if member.ref else None
        if other is not None and other.person_id != member.person_id:
            raise _field_error(f"members.{i}.ref", f"person_ref '{member.ref}' is taken")
    return household


def edit_household(actor: Actor | None, household_id: str, cmd: EditHousehold) -> Decide:
    """Only the differences, appended together; nothing when nothing changed (200)."""

    def decide(state: SiteState, now: datetime) -> Decision:
        household = _check(state, household_id, cmd)
        events: list[NewEvent] = []

        def emit(type_: str, payload: dict[str, Any]) -> None:
            events.append(new_event(type_, payload, actor=actor, cmd=cmd, now=now))

        fields = _household_fields(household, cmd)
        if fields != _view_fields(household, HouseholdFields, "household_id"):
            emit("household.updated", {"household_id": household_id, **fields})
        taken = {p.ref for p in list(state.persons.values())}
        kept: set[str] = set()
        refs: list[str] = []
        for i, member in enumerate(cmd.members):
            known = state.persons.get(member.person_id) if member.person_id else None
            ref = member.ref or (known.ref if known else _new_ref(household.ref, taken))
            refs.append(ref)
            phone = site_phone(state, member.phone, f"body.members.{i}.phone")
            wanted = _member_fields(member, ref, household_id, cmd.languages, known, phone)
            if known is None:
                emit("person.added", {"person_id": new_id(), **wanted})
            else:
                kept.add(known.person_id)
                if wanted != _view_fields(known, PersonFields, "person_id"):
                    emit("person.updated", {"person_id": known.person_id, **wanted})
        for person in list(state.persons.values()):
            if person.household_id == household_id and person.person_id not in kept:
                left = _view_fields(person, PersonFields, "person_id")
                left.pop("household_id", None)
                emit("person.updated", {"person_id": person.person_id, **left})
        foreman = cmd.foreman_person_ref
        if foreman and foreman not in refs and state.person_by_ref(foreman) is None:
            raise _field_error("foreman_person_ref", f"nobody has person_ref '{foreman}'")
        return Decision(events, extra={"household_id": household_id, "changed": len(events)})

    return decide
