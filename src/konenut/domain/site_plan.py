"""The site plan: a GeoJSON FeatureCollection of kinds and refs (contracts §5a)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from konenut.domain import geo
from konenut.domain.geo import Point


class FeatureKind(StrEnum):
    BOUNDARY = "boundary"
    BUILDING = "building"
    GATE = "gate"
    FENCE = "fence"
    PATH = "path"
    ARMORY = "armory"
    WAR_ROOM = "war_room"
    SHELTER = "shelter"
    COLLECTION_POINT = "collection_point"
    RALLY_POINT = "rally_point"
    CAMERA = "camera"
    ZONE = "zone"
    FIELD = "field"


GeometryType = Literal[
    "Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"
]


class Geometry(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    type: GeometryType
    coordinates: list[Any]


class FeatureProperties(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    kind: FeatureKind
    ref: str = Field(min_length=1, max_length=32)


class Feature(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal["Feature"]
    geometry: Geometry
    properties: FeatureProperties


class SitePlan(BaseModel):
    """A validated site plan: one boundary polygon, refs unique per kind."""

    model_config = ConfigDict(extra="allow", frozen=True)

    type: Literal["FeatureCollection"]
    features: list[Feature] = Field(max_length=20_000)

    @model_validator(mode="after")
    def _one_boundary_unique_refs(self) -> SitePlan:
        boundaries = [f for f in self.features if f.properties.kind is FeatureKind.BOUNDARY]
        if len(boundaries) != 1:
            raise ValueError(f"a site plan needs exactly one boundary, found {len(boundaries)}")
        if boundaries[0].geometry.type != "Polygon":
            raise ValueError("the boundary must be a Polygon")
        seen: set[tuple[str, str]] = set()
        for feature in self.features:
            key = (feature.properties.kind.value, feature.properties.ref)
            if key in seen:
                raise ValueError(f"ref {key[1]!r} is used twice for kind {key[0]!r}")
            seen.add(key)
        return self

    def refs(self, kind: FeatureKind) -> set[str]:
        return {f.properties.ref for f in self.features if f.properties.kind is kind}

    def boundary(self) -> list[tuple[float, float]]:
        """The boundary's outer ring as (lon, lat) pairs."""
        for feature in self.features:
            if feature.properties.kind is FeatureKind.BOUNDARY:
                return [(float(p[0]), float(p[1])) for p in feature.geometry.coordinates[0]]
        raise ValueError("no boundary")


# --- lookups on a stored plan (validated when it was configured: read as plain JSON) ---------
Plan = dict[str, Any] | None
POLYGONAL = ("Polygon", "MultiPolygon")


def plan_refs(plan: Plan, kind: FeatureKind) -> set[str] | None:
    """The refs of one kind on the plan, or None when the site has no plan (nothing to check)."""
    if not plan:
        return None
    return {
        str(f["properties"]["ref"])
        for f in plan.get("features") or []
        if f["properties"]["kind"] == kind.value
    }


def find_feature(plan: Plan, kinds: Iterable[FeatureKind], ref: str) -> dict[str, Any] | None:
    """The feature called `ref`, trying the kinds in order (a rally point, else an armory...)."""
    features: list[dict[str, Any]] = (plan or {}).get("features") or []
    for kind in kinds:
        for feature in features:
            props = feature.get("properties") or {}
            if props.get("kind") == kind.value and props.get("ref") == ref:
                return feature
    return None


def feature_points(plan: Plan, kind: FeatureKind) -> dict[str, Point]:
    """Each feature of one kind by ref, as one point (see `feature_point`; the polygons'
    centroids in one call)."""
    features = [
        f for f in (plan or {}).get("features") or [] if f["properties"]["kind"] == kind.value
    ]
    points = _points([f["geometry"] for f in features])
    return {str(f["properties"]["ref"]): p for f, p in zip(features, points, strict=True)}


def feature_point(geometry: dict[str, Any]) -> Point:
    """A Point as is; a (Multi)Polygon by its outer ring's centroid; a line by its vertex mean."""
    return _points([geometry])[0]


def _points(geometries: list[dict[str, Any]]) -> list[Point]:
    rings = {i: _outer_ring(g) for i, g in enumerate(geometries) if g["type"] in POLYGONAL}
    centres = dict(zip(rings, geo.centroids(list(rings.values())), strict=True))
    return [centres[i] if i in centres else _point(g) for i, g in enumerate(geometries)]


def _outer_ring(geometry: dict[str, Any]) -> list[Point]:
    coordinates = geometry["coordinates"]
    outer: list[Point] = coordinates[0] if geometry["type"] == "Polygon" else coordinates[0][0]
    return outer


def _point(geometry: dict[str, Any]) -> Point:
    """A Point as is; a line's (or a multipoint's) vertex mean."""
    coordinates = geometry["coordinates"]
    if geometry["type"] == "Point":
        return float(coordinates[0]), float(coordinates[1])
    return geo.vertex_mean(_vertices(coordinates))


def _vertices(coordinates: Any) -> list[Point]:
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [(float(coordinates[0]), float(coordinates[1]))]
    return [p for part in coordinates for p in _vertices(part)]
