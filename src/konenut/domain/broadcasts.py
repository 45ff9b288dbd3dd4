"""Broadcast audiences: the households inside an area polygon, in a group, or all."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from konenut.domain import geo
from konenut.domain.errors import DomainError
from konenut.domain.geo import Point
from konenut.domain.state import SiteState

MAX_AREA_VERTICES = 1000
# An area is a part of one community on its map; anything wider is a mistake (a swapped
# lat/lon, a polygon drawn on the wrong zoom), not an audience.
MAX_AREA_SPAN_DEG = 1.0


class EmptyAudience(DomainError):
    """The audience asked for holds no household (sending it would reach nobody)."""

    slug = "empty-audience"
    status = 422


class Group(StrEnum):
    """Named groups of households an operator can address in one tap."""

    GROUP_HOUSING = "group_housing"  # a foreman speaks for it: workers' quarters, guest houses
    SPECIAL_NEEDS = "special_needs"  # a member has mobility, medical, infant or hearing needs
    NO_SAFE_ROOM = "no_safe_room"


class Area(BaseModel):
    """A GeoJSON Polygon in WGS84; only its outer ring counts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    type: Literal["Polygon"]
    coordinates: list[list[tuple[float, float]]] = Field(min_length=1, max_length=20)

    @field_validator("coordinates")
    @classmethod
    def _sane_ring(cls, rings: list[list[Point]]) -> list[list[Point]]:
        ring = rings[0]
        if not 4 <= len(ring) <= MAX_AREA_VERTICES:
            raise ValueError(f"the outer ring needs 4 to {MAX_AREA_VERTICES} positions")
        if ring[0] != ring[-1]:
            raise ValueError("the outer ring is not closed (first position != last)")
        for lon, lat in ring:
            if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                raise ValueError(f"[{lon}, {lat}] is not a WGS84 [lon, lat] position")
        lons, lats = [p[0] for p in ring], [p[1] for p in ring]
        if max(lons) - min(lons) > MAX_AREA_SPAN_DEG or max(lats) - min(lats) > MAX_AREA_SPAN_DEG:
            raise ValueError(f"the area spans more than {MAX_AREA_SPAN_DEG} degree")
        if not geo.encloses_area(ring):
            raise ValueError("the outer ring encloses no area")
        return rings

    def ring(self) -> list[Point]:
        return list(self.coordinates[0])


def households_in_area(state: SiteState, area: Area) -> list[str]:
    """Households whose building's centroid lies inside the area (none without a building)."""
    inside = set(geo.inside_of(area.ring(), state.buildings.points))
    return [h.household_id for h in list(state.households.values()) if h.building_ref in inside]


def households_in_group(state: SiteState, group: Group) -> list[str]:
    households = list(state.households.values())
    if group is Group.GROUP_HOUSING:
        return [h.household_id for h in households if h.foreman_person_ref]
    if group is Group.NO_SAFE_ROOM:
        return [h.household_id for h in households if h.safe_room == "none"]
    needs = {p.household_id for p in list(state.persons.values()) if p.special_needs}
    return [h.household_id for h in households if h.household_id in needs]


def resolve(
    state: SiteState, area: Area | None, group: Group | None, household_ids: list[str]
) -> list[str]:
    """The targeted households, in a stable order; [] means every household (now and later)."""
    if area is not None:
        chosen, what = households_in_area(state, area), "inside the area"
    elif group is not None:
        chosen, what = households_in_group(state, group), f"in the group {group.value}"
    else:
        return list(dict.fromkeys(household_ids))
    if not chosen:
        raise EmptyAudience(f"no household is {what}")
    return sorted(chosen, key=lambda h: state.households[h].ref)


def text_for(
    texts: dict[str, str], translated: Iterable[str] | None, langs: list[str]
) -> tuple[str, str, bool]:
    """(language, text, translated?) to show someone who reads `langs`, best first: a
    translation in one of their languages, else the custom text in the language it was written."""
    done = set(texts) if translated is None else set(translated)
    for lang in langs:
        if lang in texts and lang in done:
            return lang, texts[lang], True
    for lang in [*langs, "en", *texts]:
        if lang in texts:
            return lang, texts[lang], lang in langs and lang in done
    raise ValueError("a broadcast without text")


def audience_fields(
    state: SiteState, area: Area | None, group: Group | None, household_ids: list[str]
) -> dict[str, Any]:
    """What broadcast.sent records of its audience, resolved now into household ids."""
    fields: dict[str, Any] = {"household_ids": resolve(state, area, group, household_ids)}
    if area is not None:
        fields.update(audience="area", area=area.model_dump(mode="json"))
    elif group is not None:
        fields.update(audience="group", group=group.value)
    elif household_ids:
        fields["audience"] = "households"
    return fields
