"""The caution rules on hand-made coordinates around the demo site's house 14."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from konenut.demo import load_site_plan
from konenut.domain import caution
from konenut.domain.caution import House, Threat, Unit
from konenut.domain.geo import LocalFrame, Point, distance_m, heading
from konenut.domain.ids import format_time
from konenut.domain.site_plan import FeatureKind, feature_point, find_feature

NOW = datetime(2026, 3, 1, 7, 31, tzinfo=UTC)
RADIUS = caution.DEFAULT_RADIUS_M


def _house_14() -> Point:
    feature = find_feature(load_site_plan(), [FeatureKind.BUILDING], "14")
    assert feature is not None
    return feature_point(feature["geometry"])


HOUSE_14 = _house_14()


def moved(origin: Point, metres: float, bearing_deg: float) -> Point:
    """The point `metres` from origin towards `bearing_deg` (clockwise from north)."""
    east, north = heading(bearing_deg)
    return LocalFrame(origin).lonlat((east * metres, north * metres))


def ago(minutes: float) -> str:
    return format_time(NOW - timedelta(minutes=minutes))


def hostile(where: Point, reporter: str | None = "p-reporter") -> Threat:
    return Threat("s1", where, "hostile", 3, reporter)


def unit(subject_id: str, where: Point, heading: float | None = None, minutes: float = 0) -> Unit:
    return Unit(subject_id, where, ago(minutes), subject_id.upper(), heading, 2.0)


HIDING = House("14", HOUSE_14, 2, "safe")


def test_a_hostile_40_m_from_a_hiding_household_is_near_it() -> None:
    found = caution.near(hostile(moved(HOUSE_14, 40, 180)), [HIDING], [], RADIUS)
    assert found is not None
    assert found.houses == [HIDING] and found.units == []
    assert found.recipients() == ["p-reporter"]


def test_a_hostile_300_m_away_from_everyone_raises_nothing() -> None:
    far = hostile(moved(HOUSE_14, 300, 200))
    assert caution.near(far, [HIDING], [unit("a", moved(HOUSE_14, 10, 0))], RADIUS) is None


def test_every_unit_within_the_radius_is_warned_and_none_outside() -> None:
    threat = hostile(moved(HOUSE_14, 50, 180))
    close = unit("close", moved(threat.where, 120, 90))
    far = unit("far", moved(threat.where, 180, 270))
    found = caution.near(threat, [], [far, close], RADIUS)
    assert found is not None
    assert found.recipients() == ["close", "p-reporter"]


@given(
    metres=st.floats(0, RADIUS - 1) | st.floats(RADIUS + 1, 4 * RADIUS),
    bearing=st.floats(0, 359.9),
    people=st.integers(1, 40),
)
def test_a_warning_for_every_hostile_within_the_threshold_and_never_outside(
    metres: float, bearing: float, people: int
) -> None:
    threat = hostile(moved(HOUSE_14, metres, bearing))
    found = caution.near(threat, [House("14", HOUSE_14, people, "safe")], [], RADIUS)
    assert (found is not None) == (metres <= RADIUS)


@given(
    spots=st.lists(
        st.tuples(st.floats(0, 3 * RADIUS), st.floats(0, 359.9)), min_size=1, max_size=12
    ),
    radius=st.floats(20, 400),
)
def test_exactly_the_units_within_the_radius_are_warned(
    spots: list[tuple[float, float]], radius: float
) -> None:
    threat = hostile(HOUSE_14, reporter=None)
    units = [unit(f"u{i}", moved(HOUSE_14, d, b)) for i, (d, b) in enumerate(spots)]
    found = caution.near(threat, [], units, radius)
    inside = {u.subject_id for u in units if distance_m(u.where, threat.where) <= radius}
    assert set(found.recipients() if found else []) == inside


# --- convergence ------------------------------------------------------------------------------
def test_two_units_head_on_converge_halfway() -> None:
    west = unit("w", moved(HOUSE_14, 40, 270), heading=90)
    east = unit("e", moved(HOUSE_14, 40, 90), heading=270)
    spot = caution.converging(west, east, caution.DEFAULT_CONVERGE_M)
    assert spot is not None and distance_m(spot, HOUSE_14) < 2


def test_units_coming_from_different_directions_meet_at_the_crossing() -> None:
    south = unit("s", moved(HOUSE_14, 30, 180), heading=0)  # walking north
    northwest = unit("w", moved(HOUSE_14, 40, 300), heading=120)  # 120° apart
    spot = caution.converging(south, northwest, caution.DEFAULT_CONVERGE_M)
    assert spot is not None and distance_m(spot, HOUSE_14) < 1
    # at right angles they are not "from different directions" yet (the rule is > 90°)
    west = unit("w", moved(HOUSE_14, 30, 270), heading=90)
    assert caution.converging(south, west, caution.DEFAULT_CONVERGE_M) is None


def test_a_column_walking_the_same_way_does_not_converge() -> None:
    first = unit("a", moved(HOUSE_14, 10, 180), heading=0)
    second = unit("b", moved(HOUSE_14, 30, 180), heading=20)
    assert caution.converging(first, second, caution.DEFAULT_CONVERGE_M) is None


def test_units_walking_apart_or_far_from_the_crossing_do_not_converge() -> None:
    west = unit("w", moved(HOUSE_14, 40, 270), heading=270)
    east = unit("e", moved(HOUSE_14, 40, 90), heading=90)
    assert caution.converging(west, east, caution.DEFAULT_CONVERGE_M) is None
    south = unit("s", moved(HOUSE_14, 300, 180), heading=0)
    west_far = unit("w", moved(HOUSE_14, 300, 270), heading=90)
    assert caution.converging(south, west_far, caution.DEFAULT_CONVERGE_M) is None


def test_a_unit_standing_still_or_without_heading_does_not_converge() -> None:
    still = Unit("s", moved(HOUSE_14, 20, 270), ago(0), None, 90, 0.0)
    coming = unit("c", moved(HOUSE_14, 20, 90), heading=270)
    assert caution.converging(still, coming, caution.DEFAULT_CONVERGE_M) is None
    unknown = unit("u", moved(HOUSE_14, 20, 270))
    assert caution.converging(unknown, coming, caution.DEFAULT_CONVERGE_M) is None


def test_only_fresh_positions_converge() -> None:
    west = unit("w", moved(HOUSE_14, 40, 270), heading=90)
    stale = unit("e", moved(HOUSE_14, 40, 90), heading=270, minutes=3)
    fresh = unit("f", moved(HOUSE_14, 40, 90), heading=270, minutes=1)
    found = caution.converging_with(west, [stale, fresh, west], NOW, caution.DEFAULT_CONVERGE_M)
    assert [other.subject_id for other, _ in found] == ["f"]


# --- aging ------------------------------------------------------------------------------------
def test_ages_are_fresh_recent_or_old() -> None:
    assert caution.age_bucket(ago(1.9), NOW) == "fresh"
    assert caution.age_bucket(ago(2), NOW) == "recent"
    assert caution.age_bucket(ago(9.9), NOW) == "recent"
    assert caution.age_bucket(ago(10), NOW) == "old"
    assert caution.age_bucket(ago(-1), NOW) == "fresh"  # a device clock a little ahead


@given(metres=st.floats(0, 500), bearing=st.floats(0, 359.9), reach=st.floats(1, 500))
def test_the_quick_box_never_leaves_out_a_point_within_reach(
    metres: float, bearing: float, reach: float
) -> None:
    point = moved(HOUSE_14, metres, bearing)
    if distance_m(point, HOUSE_14) <= reach:
        assert caution.box(HOUSE_14, reach)(*point)
