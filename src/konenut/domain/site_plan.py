"""The site plan: a GeoJSON FeatureCollection of kinds and refs (contracts §5a)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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


def point_in_ring(lon: float, lat: float, ring: list[tuple[float, float]]) -> bool:
    """Ray casting: is the point inside the polygon ring (lon/lat, small areas)?"""
    inside = False
    count = len(ring)
    for i in range(count):
        x1, y1 = ring[i]
        x2, y2 = ring[(i + 1) % count]
        if (y1 > lat) != (y2 > lat):
            x_cross = x1 + (lat - y1) * (x2 - x1) / (y2 - y1)
            if lon < x_cross:
                inside = not inside
    return inside
