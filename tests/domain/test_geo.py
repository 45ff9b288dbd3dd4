"""domain/geo.py: distances, the local frame, polygons and "what is near" on known places."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest
from hypothesis import given
from hypothesis import strategies as st

from konenut.demo import load_site_plan
from konenut.domain import geo
from konenut.domain.site_plan import FeatureKind, feature_points

PLAN = load_site_plan()
HOUSES = [f for f in PLAN["features"] if f["properties"].get("use") == "house"]
# Geodesic distances on the WGS84 ellipsoid, from GeographicLib's documentation (Karney).
JFK, LHR = (-73.8, 40.6), (-0.5, 51.6)
JFK_LHR_M = 5_551_759.400
WELLINGTON, SALAMANCA = (174.81, -41.32), (-5.50, 40.96)
WELLINGTON_SALAMANCA_M = 19_959_679.267

origins = st.tuples(st.floats(-179.0, 179.0), st.floats(-70.0, 70.0))
offsets_m = st.tuples(st.floats(-5_000.0, 5_000.0), st.floats(-5_000.0, 5_000.0))


@pytest.mark.parametrize(
    ("a", "b", "metres"),
    [(JFK, LHR, JFK_LHR_M), (WELLINGTON, SALAMANCA, WELLINGTON_SALAMANCA_M)],
)
def test_distance_between_known_places_within_half_a_percent(
    a: geo.Point, b: geo.Point, metres: float
) -> None:
    assert geo.distance_m(a, b) == pytest.approx(metres, rel=0.005)
    assert geo.distance_m(b, a) == geo.distance_m(a, b)


@given(origins, offsets_m)
def test_the_local_frame_round_trips(origin: geo.Point, xy: geo.Metres) -> None:
    frame = geo.LocalFrame(origin)
    back = frame.metres(frame.lonlat(xy))
    assert back == pytest.approx(xy, abs=1e-6)


@given(origins, offsets_m)
def test_frame_metres_agree_with_the_great_circle(origin: geo.Point, xy: geo.Metres) -> None:
    """The frame's ellipsoid and the distances' sphere differ by 0.56 % at most (north-south
    at the equator)."""
    frame = geo.LocalFrame(origin)
    flat = math.hypot(*xy)
    if flat > 10:  # below that, rounding, not the earth's shape
        assert geo.distance_m(origin, frame.lonlat(xy)) == pytest.approx(flat, rel=0.006)


def test_a_house_holds_its_centre_and_not_its_neighbours_centre() -> None:
    centres = feature_points(PLAN, FeatureKind.BUILDING)
    for house, neighbour in pairwise(HOUSES):
        ring = house["geometry"]["coordinates"][0]
        assert geo.contains(ring, centres[house["properties"]["ref"]])
        assert not geo.contains(ring, centres[neighbour["properties"]["ref"]])


def test_the_centroid_of_a_rectangle_is_its_middle_and_every_point_inside_is_found() -> None:
    frame = geo.LocalFrame((34.97, 30.43))
    ring = [frame.lonlat(xy) for xy in ((0, 0), (40, 0), (40, 20), (0, 20), (0, 0))]
    assert frame.metres(geo.centroid(ring)) == pytest.approx((20, 10), abs=1e-6)
    points = {"in": frame.lonlat((39, 19)), "out": frame.lonlat((41, 10))}
    assert geo.inside_of(ring, points) == ["in"]
    assert not geo.encloses_area([ring[0], ring[1], ring[0]])


@pytest.mark.parametrize("metres", [0, 25, 1_500])
def test_distance_outside_a_square_is_to_its_nearest_edge(metres: float) -> None:
    frame = geo.LocalFrame((34.97, 30.43))
    ring = [frame.lonlat(xy) for xy in ((-100, -100), (100, -100), (100, 100), (-100, 100))]
    point = frame.lonlat((100 + metres, 30)) if metres else frame.lonlat((5, 5))
    assert geo.distance_outside_m(point, ring) == pytest.approx(metres, rel=0.005)


@given(
    st.lists(offsets_m, min_size=1, max_size=60),
    offsets_m,
    st.floats(1.0, 3_000.0),
)
def test_what_is_near_misses_nothing_within_reach_and_counts_what_it_read(
    spots: list[geo.Metres], centre_xy: geo.Metres, reach_m: float
) -> None:
    frame = geo.LocalFrame((34.97, 30.43))
    points = {str(i): frame.lonlat(xy) for i, xy in enumerate(spots)}
    index = geo.PointIndex(points)
    centre = frame.lonlat(centre_xy)
    found = index.near(centre, reach_m)
    within = {ref for ref, p in points.items() if geo.distance_m(p, centre) <= reach_m}
    assert within <= {ref for ref, _ in found}
    assert [ref for ref, _ in found] == sorted((ref for ref, _ in found), key=int)  # given order
    assert index.examined == len(found)
