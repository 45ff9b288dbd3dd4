"""Is a reported place plausibly at the site? Positions and sightings far off it are refused."""

from __future__ import annotations

from typing import Any

from konenut.domain import geo
from konenut.domain.errors import FieldInvalid

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


def check_on_site(site: dict[str, Any] | None, location: Any, field: str, margin_m: float) -> None:
    """Raise OffSite when `location` ({lat, lon} model or dict) is beyond the margin.

    A site with no plan (or no boundary) has nothing to check against.
    """
    ring = _boundary((site or {}).get("plan"))
    if location is None or not ring:
        return
    lat = float(location["lat"] if isinstance(location, dict) else location.lat)
    lon = float(location["lon"] if isinstance(location, dict) else location.lon)
    distance = geo.distance_outside_m((lon, lat), ring)
    if distance > margin_m:
        raise OffSite(field, distance, margin_m)


def _boundary(plan: dict[str, Any] | None) -> list[geo.Point]:
    for feature in (plan or {}).get("features") or []:
        if (feature.get("properties") or {}).get("kind") == "boundary":
            return [(float(p[0]), float(p[1])) for p in feature["geometry"]["coordinates"][0]]
    return []
