"""Geometry on the earth for one site: metres around an origin, distances, polygons, nearness.

Every geometric question the system asks goes through this module, on shapely 2 (GEOS): the
domain stays pure (shapely does no I/O) and nothing else hand-writes a projection, a ray cast
or an earth radius. Points are (lon, lat) in WGS84, GeoJSON's order (contracts §2, §5a).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import shapely

Point = tuple[float, float]  # (lon, lat), GeoJSON order
Metres = tuple[float, float]  # (east, north) metres from a frame's origin
Bounds = tuple[float, float, float, float]  # (west, south, east, north) in degrees

# The sphere of great-circle distances: Leaflet's L.CRS.Earth.R, so the map and the server
# measure the same metres.
EARTH_RADIUS_M = 6_371_000.0
# A bounding box around a reach is this much wider than the reach: callers measure the exact
# distance after, and a box a hair too small would miss a point right on the circle.
BOX_SLACK = 1.01
POLYGONS_CACHED = 64  # boundaries and areas asked about again and again (a site has one boundary)


def distance_m(a: Point, b: Point) -> float:
    """Great-circle distance between two (lon, lat) points in metres (haversine)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(h))


class LocalFrame:
    """Metres east and north of an origin: the earth flattened around it, at the WGS84
    ellipsoid's scale for the origin's latitude (a site's plan is drawn in it; within a few
    kilometres of the origin the error is well under 0.1 %)."""

    def __init__(self, origin: Point) -> None:
        self.origin = origin
        phi = math.radians(origin[1])
        self.m_per_deg_lat = 111_132.92 - 559.82 * math.cos(2 * phi) + 1.175 * math.cos(4 * phi)
        self.m_per_deg_lon = max(111_412.84 * math.cos(phi) - 93.5 * math.cos(3 * phi), 1e-6)

    def metres(self, point: Point) -> Metres:
        """(east, north) metres of a (lon, lat) point from the origin."""
        return (
            (point[0] - self.origin[0]) * self.m_per_deg_lon,
            (point[1] - self.origin[1]) * self.m_per_deg_lat,
        )

    def lonlat(self, xy: Metres) -> Point:
        """The (lon, lat) point `xy` metres east and north of the origin."""
        lon, lat = self.origin
        return lon + xy[0] / self.m_per_deg_lon, lat + xy[1] / self.m_per_deg_lat

    def bounds(self, reach_m: float) -> Bounds:
        """A (west, south, east, north) box around the origin holding every point within
        `reach_m` of it (a little generous)."""
        dlon = reach_m * BOX_SLACK / self.m_per_deg_lon
        dlat = reach_m * BOX_SLACK / self.m_per_deg_lat
        lon, lat = self.origin
        return lon - dlon, lat - dlat, lon + dlon, lat + dlat


def bearing_deg(a: Point, b: Point) -> float:
    """The heading from a to b, in degrees clockwise from north."""
    east, north = LocalFrame(a).metres(b)
    return math.degrees(math.atan2(east, north)) % 360


def heading(heading_deg: float) -> Metres:
    """One metre along a heading (degrees clockwise from north), as (east, north)."""
    rad = math.radians(heading_deg)
    return math.sin(rad), math.cos(rad)


def in_bounds(point: Point, bounds: Bounds) -> bool:
    west, south, east, north = bounds
    return west <= point[0] <= east and south <= point[1] <= north


# --- polygons --------------------------------------------------------------------------------
def centroids(rings: Sequence[Sequence[Point]]) -> list[Point]:
    """The area centroid of each (lon, lat) ring, in one GEOS call; a ring too short to be a
    polygon, or enclosing no area, by the mean of its vertices."""
    opened = [_open(ring) for ring in rings]
    polygonal = [i for i, ring in enumerate(opened) if len(ring) >= 3]
    found: dict[int, Point] = {}
    if polygonal:
        indices = np.repeat(np.arange(len(polygonal)), [len(opened[i]) for i in polygonal])
        flat = np.array([p for i in polygonal for p in opened[i]], dtype=float)
        polygons = shapely.polygons(shapely.linearrings(flat, indices=indices))
        centres = shapely.centroid(polygons)
        lons, lats = np.asarray(shapely.get_x(centres)), np.asarray(shapely.get_y(centres))
        areas = np.asarray(shapely.area(polygons))
        for i, lon, lat, area in zip(polygonal, lons.tolist(), lats.tolist(), areas, strict=True):
            if area > 0:
                found[i] = (lon, lat)
    return [found[i] if i in found else vertex_mean(ring) for i, ring in enumerate(rings)]


def centroid(ring: Sequence[Point]) -> Point:
    """The area centroid of one (lon, lat) ring (see `centroids`)."""
    return centroids([ring])[0]


def encloses_area(ring: Sequence[Point]) -> bool:
    """Whether the ring is a polygon with an inside at all (not a line, a point, nothing)."""
    return float(shapely.area(_prepared(ring))) > 0


def contains(ring: Sequence[Point], point: Point) -> bool:
    """Whether the (lon, lat) point lies inside the ring (on its edge counts as outside)."""
    return bool(shapely.contains_xy(_prepared(ring), point[0], point[1]))


def inside_of(ring: Sequence[Point], points: dict[str, Point]) -> list[str]:
    """The keys of the points inside the ring, in their order (one GEOS call for them all)."""
    if not points:
        return []
    keys = list(points)
    xy = np.array([points[k] for k in keys], dtype=float)
    mask = shapely.contains_xy(_prepared(ring), xy[:, 0], xy[:, 1])
    return [k for k, hit in zip(keys, mask, strict=True) if hit]


def distance_outside_m(point: Point, ring: Sequence[Point]) -> float:
    """0 when the point is inside the ring, else metres to its nearest edge (a frame around
    the point: fine at the scale of a site and its surroundings)."""
    if contains(ring, point):
        return 0.0
    frame = LocalFrame(point)
    outline = shapely.linestrings([frame.metres(p) for p in _closed(ring)])
    return float(shapely.distance(outline, shapely.points(0.0, 0.0)))


def _prepared(ring: Sequence[Point]) -> shapely.Polygon:
    try:
        return _polygon(tuple(ring))
    except TypeError:  # positions as JSON lists: unhashable
        return _polygon(tuple((float(p[0]), float(p[1])) for p in ring))


@lru_cache(maxsize=POLYGONS_CACHED)
def _polygon(positions: tuple[Point, ...]) -> shapely.Polygon:
    """The ring as a prepared polygon, built once for a ring asked about again."""
    opened = _open(positions)
    polygon = shapely.Polygon(opened) if len(opened) >= 3 else shapely.Polygon()
    shapely.prepare(polygon)
    return polygon


def _open(ring: Sequence[Point]) -> list[Point]:
    """The ring's positions without the closing repeat of the first."""
    positions = [(float(p[0]), float(p[1])) for p in ring]
    return positions[:-1] if len(positions) > 1 and positions[0] == positions[-1] else positions


def _closed(ring: Sequence[Point]) -> list[Point]:
    positions = _open(ring)
    return [*positions, positions[0]] if positions else positions


def vertex_mean(points: Sequence[Point]) -> Point:
    """The mean of the points (a line's, or a ring's too short to be a polygon)."""
    return sum(p[0] for p in points) / len(points), sum(p[1] for p in points) / len(points)


# --- shapes in a plane (a frame's metres) -----------------------------------------------------
Shape = shapely.Geometry


def area_of(ring: Sequence[Metres]) -> Shape:
    """The ring as a polygon: its inside counts (a gap to it is 0 from within)."""
    return _prepared(ring)


def outline_of(ring: Sequence[Metres]) -> Shape:
    """The ring as a closed line: only its edge counts."""
    return shapely.linearrings(_open(ring))


def line_of(points: Sequence[Metres]) -> Shape:
    """A line through the points (a point when there is one)."""
    if len(points) == 1:
        return shapely.points(points[0])
    return shapely.linestrings([(float(x), float(y)) for x, y in points])


def gap(a: Shape, b: Shape) -> float:
    """The shortest distance between two shapes, in their plane's unit (0 when they touch)."""
    return float(shapely.distance(a, b))


def is_counter_clockwise(ring: Sequence[Metres]) -> bool:
    """Whether the ring runs counter-clockwise (GeoJSON's order for an exterior ring)."""
    return bool(shapely.is_ccw(outline_of(ring)))


# --- what is near a point --------------------------------------------------------------------
class PointIndex:
    """Points by ref in an R-tree (shapely's STRtree), so that "what is near here" reads the
    points in a box around it, not every point of the site. `examined` counts the points that
    queries have read: what a query costs, whatever the site's size."""

    def __init__(self, points: dict[str, Point]) -> None:
        self.points = dict(points)
        self._entries = list(self.points.items())
        xy = np.array([p for _, p in self._entries], dtype=float).reshape(-1, 2)
        self._tree = shapely.STRtree(np.asarray(shapely.points(xy)))
        self.examined = 0

    def near(self, centre: Point, reach_m: float) -> list[tuple[str, Point]]:
        """The points roughly within `reach_m` of centre, in the order they were given (a box,
        a little generous: callers measure the exact distance)."""
        if not self._entries:
            return []
        hits = self._tree.query(shapely.box(*LocalFrame(centre).bounds(reach_m)))
        self.examined += len(hits)
        return [self._entries[i] for i in np.sort(hits).tolist()]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PointIndex) and self.points == other.points

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by its points
