"""Distance outside the site's boundary, on the demo site with hand-made points."""

from __future__ import annotations

import pytest

from konenut.demo import load_site_plan
from konenut.domain.errors import FieldInvalid
from konenut.domain.geo import LocalFrame, distance_outside_m
from konenut.domain.on_site import SIGHTING_MARGIN_M, check_on_site

PLAN = load_site_plan()
RING = next(
    [(float(x), float(y)) for x, y in f["geometry"]["coordinates"][0]]
    for f in PLAN["features"]
    if f["properties"]["kind"] == "boundary"
)
EAST = (34.9737929, 30.43)  # (lon, lat) of the easternmost boundary vertex


def east_of(metres: float) -> tuple[float, float]:
    """(lon, lat) so many metres due east of the easternmost boundary vertex."""
    return LocalFrame(EAST).lonlat((metres, 0))


def test_inside_is_zero() -> None:
    assert distance_outside_m((34.9702, 30.4301), RING) == 0.0


@pytest.mark.parametrize("metres", [50, 300, 2_000])
def test_due_east_of_the_east_vertex(metres: float) -> None:
    found = distance_outside_m(east_of(metres), RING)
    assert found == pytest.approx(metres, rel=0.03)


def test_margin_and_no_plan() -> None:
    site = {"plan": PLAN}
    lon, lat = east_of(900)
    check_on_site(site, {"lat": lat, "lon": lon}, "f", SIGHTING_MARGIN_M)
    with pytest.raises(FieldInvalid) as refused:
        check_on_site(site, {"lat": 0.0, "lon": 0.0}, "body.location", SIGHTING_MARGIN_M)
    assert refused.value.errors[0]["loc"] == "body.location"
    check_on_site({}, {"lat": 0.0, "lon": 0.0}, "body.location", SIGHTING_MARGIN_M)  # no plan
