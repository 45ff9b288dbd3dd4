"""Is a reported place plausibly at the site? Positions and sightings far off it are refused."""

from __future__ import annotations

import math
from typing import Any

from konenut.domain.errors import FieldInvalid
from konenut.domain.site_plan import point_in_ring

EARTH_RADIUS_M = 6_371_000.0
# Attackers are seen approaching outside the fence, so a sighting may lie a little beyond the
# boundary; a kilometre away it is a wrong tap or another place's GPS fix.
SIGHTING_MARGIN_M = 1_000.0
# A responder on the way home is still on the muster board (ETA from the last position); a
# position farther than a drive away is a device error.
POSITION_MARGIN_M = 20_000.0


class OffSite(FieldInvalid):
    """A place too far outside the site's boundary."""

    def __init__(self, field: str, distance_m: float, margin_m: float) -> None:
        super().__init__(
            field,
            f"is {distance_m / 1000:.1f} km outside the site's boundary "
            f"(at most {margin_m / 1000:g} km outside is accepted)",
        )


def distance_outside_m(lat: float, lon: float, ring: list[tuple[float, float]]) -> float:
    """0 inside the (lon, lat) ring, else the distance to its nearest edge in metres."""
    if point_in_ring(lon, lat, ring):
        return 0.0
    # Local plane around the point: metres east and north (fine at a site's scale).
    kx = math.radians(1) * EARTH_RADIUS_M * math.cos(math.radians(lat))
    ky = math.radians(1) * EARTH_RADIUS_M
    points = [((x - lon) * kx, (y - lat) * ky) for x, y in ring]
    return min(_to_segment(a, b) for a, b in zip(points, points[1:] + points[:1], strict=True))


def check_on_site(site: dict[str, Any] | None, location: Any, field: str, margin_m: float) -> None:
    """Raise OffSite when `location` ({lat, lon} model or dict) is beyond the margin.

    A site with no plan (or no boundary) has nothing to check against.
    """
    ring = _boundary((site or {}).get("plan"))
    if location is None or not ring:
        return
    lat = float(location["lat"] if isinstance(location, dict) else location.lat)
    lon = float(location["lon"] if isinstance(location, dict) else location.lon)
    distance = distance_outside_m(lat, lon, ring)
    if distance > margin_m:
        raise OffSite(field, distance, margin_m)


def _boundary(plan: dict[str, Any] | None) -> list[tuple[float, float]]:
    for feature in (plan or {}).get("features") or []:
        if (feature.get("properties") or {}).get("kind") == "boundary":
            return [(float(p[0]), float(p[1])) for p in feature["geometry"]["coordinates"][0]]
    return []


def _to_segment(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Distance from the origin to the segment a-b (plane metres)."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, -(a[0] * dx + a[1] * dy) / length2))
    return math.hypot(a[0] + t * dx, a[1] + t * dy)
