"""The site plan: a GeoJSON FeatureCollection of kinds and refs (contracts §5a)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import StrEnum
from itertools import pairwise
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


# --- lookups on a stored plan (validated when it was configured: read as plain JSON) ---------
Point = tuple[float, float]  # (lon, lat), GeoJSON order
Plan = dict[str, Any] | None


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
    """Each feature of one kind by ref, as one point (see `feature_point`)."""
    return {
        str(f["properties"]["ref"]): feature_point(f["geometry"])
        for f in (plan or {}).get("features") or []
        if f["properties"]["kind"] == kind.value
    }


def feature_point(geometry: dict[str, Any]) -> Point:
    """A Point as is; a (Multi)Polygon by its outer ring's centroid; a line by its vertex mean."""
    kind, coordinates = geometry["type"], geometry["coordinates"]
    if kind == "Point":
        return float(coordinates[0]), float(coordinates[1])
    if kind in ("Polygon", "MultiPolygon"):
        outer = coordinates[0] if kind == "Polygon" else coordinates[0][0]
        return ring_centroid([(float(p[0]), float(p[1])) for p in outer])
    points = _vertices(coordinates)
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


def _vertices(coordinates: Any) -> list[Point]:
    if coordinates and isinstance(coordinates[0], (int, float)):
        return [(float(coordinates[0]), float(coordinates[1]))]
    return [p for part in coordinates for p in _vertices(part)]


def signed_area(ring: list[Point]) -> float:
    """The shoelace area of a closed ring (positive counter-clockwise), in squared degrees."""
    return sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in pairwise(ring)) / 2


def ring_centroid(ring: list[Point]) -> Point:
    """The area centroid of a closed ring (the vertex mean for a degenerate one)."""
    area = signed_area(ring)
    if area == 0:
        return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))
    cx = cy = 0.0
    for (x1, y1), (x2, y2) in pairwise(ring):
        cross = x1 * y2 - x2 * y1
        cx += (x1 + x2) * cross
        cy += (y1 + y2) * cross
    return (cx / (6 * area), cy / (6 * area))


# --- what is near a point -------------------------------------------------------------------
GRID_CELL_M = 100.0  # about the caution radius (150 m): a query reads a few cells, not the site
METRES_PER_DEG_LAT = 111_000.0  # a little short of the real 111,195: the box is generous


class PointGrid:
    """Points by ref, filed in square cells of `cell_m`, so that "what is near here" reads the
    few cells around a point, not every point of the site. `examined` counts the points that
    queries have read: what a query costs, whatever the site's size."""

    def __init__(self, points: dict[str, Point], cell_m: float = GRID_CELL_M) -> None:
        self.points = dict(points)
        self.cell_deg_lat = cell_m / METRES_PER_DEG_LAT
        self.cells: dict[tuple[int, int], list[str]] = {}
        for ref, point in self.points.items():
            self.cells.setdefault(self._cell(point), []).append(ref)
        self.examined = 0

    def _cell(self, point: Point) -> tuple[int, int]:
        # Cells are as many degrees wide as high: narrower than cell_m in metres east-west, so
        # a query reads a few more of them, and the grid needs no reference latitude.
        return math.floor(point[0] / self.cell_deg_lat), math.floor(point[1] / self.cell_deg_lat)

    def near(self, centre: Point, reach_m: float) -> list[tuple[str, Point]]:
        """The points roughly within `reach_m` of centre (a box, a little generous: callers
        measure the exact distance)."""
        dlat = reach_m / METRES_PER_DEG_LAT * 1.01
        dlon = dlat / max(math.cos(math.radians(centre[1])), 0.01)
        west, south = self._cell((centre[0] - dlon, centre[1] - dlat))
        east, north = self._cell((centre[0] + dlon, centre[1] + dlat))
        if (east - west + 1) * (north - south + 1) > len(self.cells):
            cells = [c for key, c in self.cells.items() if west <= key[0] <= east]  # a wide reach
        else:
            cells = [
                self.cells.get((x, y), [])
                for x in range(west, east + 1)
                for y in range(south, north + 1)
            ]
        found = [(ref, self.points[ref]) for cell in cells for ref in cell]
        self.examined += len(found)
        return [
            (ref, p)
            for ref, p in found
            if abs(p[1] - centre[1]) <= dlat and abs(p[0] - centre[0]) <= dlon
        ]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PointGrid) and self.points == other.points

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by its points
