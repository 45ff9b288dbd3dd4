"""The shipped demo site (Tel Kinamon): site plan and residents are consistent and reproducible."""

from __future__ import annotations

import json
import math
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest

from konenut.demo import load_residents, load_site_plan
from konenut.demo.generate import main as generate
from konenut.domain.geo import LocalFrame

KINDS = {
    "boundary",
    "building",
    "gate",
    "fence",
    "path",
    "armory",
    "war_room",
    "shelter",
    "collection_point",
    "rally_point",
    "camera",
    "zone",
    "field",
}
LANGUAGES = {"he", "ar", "en", "th", "ne"}
FRAME = LocalFrame((34.97, 30.43))  # metres around the site's centre

Pt = tuple[float, float]


# --- small planar geometry in local metres around the site centre ------------------------------


def to_xy(coord: list[float]) -> Pt:
    return FRAME.metres((coord[0], coord[1]))


def ring_xy(feature: dict[str, Any]) -> list[Pt]:
    """The exterior ring of a Polygon feature, in metres, without the closing point."""
    return [to_xy(c) for c in feature["geometry"]["coordinates"][0][:-1]]


def inside(p: Pt, ring: list[Pt]) -> bool:
    x, y = p
    result = False
    for i, (x1, y1) in enumerate(ring):
        x2, y2 = ring[(i + 1) % len(ring)]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def area(ring: list[Pt]) -> float:
    return (
        sum(
            ring[i][0] * ring[(i + 1) % len(ring)][1] - ring[(i + 1) % len(ring)][0] * ring[i][1]
            for i in range(len(ring))
        )
        / 2
    )


def centroid(ring: list[Pt]) -> Pt:
    a = area(ring)
    cx = cy = 0.0
    for i, (x1, y1) in enumerate(ring):
        x2, y2 = ring[(i + 1) % len(ring)]
        k = x1 * y2 - x2 * y1
        cx += (x1 + x2) * k
        cy += (y1 + y2) * k
    return (cx / (6 * a), cy / (6 * a))


def cross(o: Pt, a: Pt, b: Pt) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def segments_cross(a: Pt, b: Pt, c: Pt, d: Pt) -> bool:
    return cross(c, d, a) * cross(c, d, b) < 0 and cross(a, b, c) * cross(a, b, d) < 0


def point_segment_distance(p: Pt, a: Pt, b: Pt) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    t = max(0.0, min(1.0, ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / (dx * dx + dy * dy)))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def convex_overlap(p: list[Pt], q: list[Pt]) -> bool:
    """Separating-axis test for two convex polygons."""
    for ring in (p, q):
        for i in range(len(ring)):
            (x1, y1), (x2, y2) = ring[i], ring[(i + 1) % len(ring)]
            axis = (y1 - y2, x2 - x1)
            pa = [v[0] * axis[0] + v[1] * axis[1] for v in p]
            qa = [v[0] * axis[0] + v[1] * axis[1] for v in q]
            if max(pa) <= min(qa) or max(qa) <= min(pa):
                return False
    return True


# --- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plan() -> dict[str, Any]:
    return load_site_plan()


@pytest.fixture(scope="module")
def features(plan: dict[str, Any]) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = plan["features"]
    return result


@pytest.fixture(scope="module")
def residents() -> dict[str, Any]:
    return load_residents()


def of_kind(features: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [f for f in features if f["properties"]["kind"] == kind]


def houses(features: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [f for f in of_kind(features, "building") if f["properties"].get("use") == "house"]


@pytest.fixture(scope="module")
def boundary(features: list[dict[str, Any]]) -> list[Pt]:
    return ring_xy(of_kind(features, "boundary")[0])


def people(residents: dict[str, Any]) -> list[dict[str, Any]]:
    return [m for h in residents["households"] for m in h["members"]]


# --- site plan -----------------------------------------------------------------------------------


def test_shipped_files_are_package_resources() -> None:
    demo = files("konenut.demo")
    geo = json.loads(demo.joinpath("site_plan.geojson").read_text(encoding="utf-8"))
    assert geo["type"] == "FeatureCollection"
    assert set(json.loads(demo.joinpath("residents.json").read_text(encoding="utf-8"))) == {
        "households",
        "responders",
        "admins",
    }


def test_exactly_one_boundary(features: list[dict[str, Any]]) -> None:
    boundaries = of_kind(features, "boundary")
    assert len(boundaries) == 1
    assert boundaries[0]["geometry"]["type"] == "Polygon"
    props = boundaries[0]["properties"]
    assert (props["name_en"], props["name_he"], props["name_ar"]) == (
        "Tel Kinamon",
        "תל קינמון",
        "تل قينمون",
    )


def test_boundary_size(boundary: list[Pt]) -> None:
    width = max(x for x, _ in boundary) - min(x for x, _ in boundary)
    height = max(y for _, y in boundary) - min(y for _, y in boundary)
    assert 650 < width < 760 and 450 < height < 560


def test_every_feature_has_a_valid_kind_ref_and_name(features: list[dict[str, Any]]) -> None:
    for f in features:
        assert f["type"] == "Feature"
        props = f["properties"]
        assert props["kind"] in KINDS, props
        assert isinstance(props["ref"], str) and props["ref"], props
        assert props["name_en"], props


def test_refs_unique_per_kind(features: list[dict[str, Any]]) -> None:
    counts = Counter((f["properties"]["kind"], f["properties"]["ref"]) for f in features)
    assert [key for key, n in counts.items() if n > 1] == []


def test_geometry_types(features: list[dict[str, Any]]) -> None:
    expected = {
        "boundary": "Polygon",
        "building": "Polygon",
        "zone": "Polygon",
        "field": "Polygon",
        "shelter": "Polygon",
        "armory": "Polygon",
        "war_room": "Polygon",
        "fence": "LineString",
        "path": "LineString",
        "gate": "Point",
        "camera": "Point",
        "rally_point": "Point",
        "collection_point": "Point",
    }
    for f in features:
        assert f["geometry"]["type"] == expected[f["properties"]["kind"]], f["properties"]


def test_polygons_closed_counter_clockwise_and_simple(features: list[dict[str, Any]]) -> None:
    for f in features:
        if f["geometry"]["type"] != "Polygon":
            continue
        coords = f["geometry"]["coordinates"]
        assert len(coords) == 1, "no holes expected"
        assert coords[0][0] == coords[0][-1], f["properties"]
        ring = ring_xy(f)
        assert len(ring) >= 3
        assert area(ring) > 0, f"{f['properties']} is not counter-clockwise (RFC 7946)"
        n = len(ring)
        for i in range(n):
            for j in range(i + 2, n):
                if i == 0 and j == n - 1:
                    continue  # neighbours through the closing edge
                a, b = ring[i], ring[(i + 1) % n]
                c, d = ring[j], ring[(j + 1) % n]
                assert not segments_cross(a, b, c, d), f"{f['properties']} self-intersects"


def test_all_coordinates_near_the_centre(features: list[dict[str, Any]]) -> None:
    def points(geometry: dict[str, Any]) -> list[list[float]]:
        if geometry["type"] == "Point":
            return [geometry["coordinates"]]
        if geometry["type"] == "LineString":
            return list(geometry["coordinates"])
        return [c for ring in geometry["coordinates"] for c in ring]

    for f in features:
        for c in points(f["geometry"]):
            assert 34.9 < c[0] < 35.1 and 30.3 < c[1] < 30.5, "GeoJSON order is [lon, lat]"
            assert math.hypot(*to_xy(c)) < 800, f["properties"]


def test_about_120_houses_inside_the_boundary(
    features: list[dict[str, Any]], boundary: list[Pt]
) -> None:
    found = houses(features)
    assert 115 <= len(found) <= 125
    assert {f["properties"]["ref"] for f in found} == {str(i) for i in range(1, len(found) + 1)}
    for f in found:
        ring = ring_xy(f)
        assert inside(centroid(ring), boundary), f["properties"]
        assert all(inside(v, boundary) for v in ring), f["properties"]
        sides = sorted(math.dist(ring[i], ring[(i + 1) % 4]) for i in range(4))
        assert len(ring) == 4 and sides[0] > 8 and sides[-1] < 15, f["properties"]


def test_buildings_do_not_overlap(features: list[dict[str, Any]]) -> None:
    rings = [
        ring_xy(f)
        for f in features
        if f["properties"]["kind"] in {"building", "shelter", "armory", "war_room"}
    ]
    for i, p in enumerate(rings):
        for q in rings[i + 1 :]:
            if math.dist(p[0], q[0]) < 60:
                assert not convex_overlap(p, q)


def test_non_house_buildings(features: list[dict[str, Any]]) -> None:
    uses = {f["properties"]["ref"]: f["properties"]["use"] for f in of_kind(features, "building")}
    assert uses["S"] == "secretariat"
    assert "clinic" in uses.values() and "kindergarten" in uses.values()
    assert "dining_hall" in uses.values()
    assert all(uses[f"W{i}"] == "workers_quarters" for i in range(1, 5))
    assert [f["properties"]["ref"] for f in of_kind(features, "armory")] == ["A"]
    war_rooms = of_kind(features, "war_room")
    assert [f["properties"]["ref"] for f in war_rooms] == ["WR"]
    assert war_rooms[0]["properties"]["underground"] is True
    secretariat = next(f for f in of_kind(features, "building") if f["properties"]["ref"] == "S")
    assert math.dist(centroid(ring_xy(war_rooms[0])), centroid(ring_xy(secretariat))) < 40


def test_four_gates_on_the_boundary(features: list[dict[str, Any]], boundary: list[Pt]) -> None:
    gates = {
        f["properties"]["ref"]: to_xy(f["geometry"]["coordinates"])
        for f in of_kind(features, "gate")
    }
    assert sorted(gates) == ["1", "2", "3", "4"]
    for p in gates.values():
        edges = zip(boundary, boundary[1:] + boundary[:1], strict=True)
        assert min(point_segment_distance(p, a, b) for a, b in edges) < 1.0
    assert gates["1"][0] < -250  # main gate: west
    assert gates["2"][0] > 250  # back gate: east
    assert gates["3"][1] > 150  # agricultural gate: north
    assert gates["4"][1] < -150  # south gate


def test_shelters_points_and_cameras(features: list[dict[str, Any]], boundary: list[Pt]) -> None:
    assert sorted(f["properties"]["ref"] for f in of_kind(features, "shelter")) == ["P1", "P2"]
    assert [f["properties"]["ref"] for f in of_kind(features, "rally_point")] == ["R1"]
    assert [f["properties"]["ref"] for f in of_kind(features, "collection_point")] == ["C1"]
    cameras = of_kind(features, "camera")
    assert 5 <= len(cameras) <= 8
    for cam in cameras:
        assert cam["properties"]["ref"].startswith("CAM")
        assert 0 <= cam["properties"]["bearing_deg"] < 360
        assert inside(to_xy(cam["geometry"]["coordinates"]), boundary)
    armory = centroid(ring_xy(of_kind(features, "armory")[0]))
    rally = to_xy(of_kind(features, "rally_point")[0]["geometry"]["coordinates"])
    assert math.dist(armory, rally) < 30
    clinic = next(f for f in of_kind(features, "building") if f["properties"]["use"] == "clinic")
    collection = to_xy(of_kind(features, "collection_point")[0]["geometry"]["coordinates"])
    assert math.dist(centroid(ring_xy(clinic)), collection) < 30


def test_workers_quarters_opposite_the_armory(features: list[dict[str, Any]]) -> None:
    armory = centroid(ring_xy(of_kind(features, "armory")[0]))
    quarters = [
        centroid(ring_xy(f))
        for f in of_kind(features, "building")
        if f["properties"]["use"] == "workers_quarters"
    ]
    assert len(quarters) == 4
    assert armory[0] < 0
    for q in quarters:
        assert q[0] > 0
        assert math.dist(q, armory) > 400


def test_zones_cover_the_village(features: list[dict[str, Any]]) -> None:
    zones = {f["properties"]["ref"]: ring_xy(f) for f in of_kind(features, "zone")}
    assert sorted(zones) == ["east", "north", "south", "west"]
    for house in houses(features):
        c = centroid(ring_xy(house))
        containing = [ref for ref, ring in zones.items() if inside(c, ring)]
        assert containing == [house["properties"]["zone"]], house["properties"]


def test_fields_outside_the_boundary(features: list[dict[str, Any]], boundary: list[Pt]) -> None:
    fields = of_kind(features, "field")
    assert len(fields) >= 3
    for f in fields:
        ring = ring_xy(f)
        assert not any(inside(v, boundary) for v in ring)
        assert not any(inside(v, ring) for v in boundary)


def test_fence_and_paths(features: list[dict[str, Any]], boundary: list[Pt]) -> None:
    fences = of_kind(features, "fence")
    assert len(fences) >= 1
    fence = fences[0]["geometry"]["coordinates"]
    assert fence[0] == fence[-1]
    assert fence == of_kind(features, "boundary")[0]["geometry"]["coordinates"][0]
    paths = of_kind(features, "path")
    assert len(paths) >= 3
    for p in paths:
        assert len(p["geometry"]["coordinates"]) >= 2


# --- residents -----------------------------------------------------------------------------------


def test_people_count(residents: dict[str, Any]) -> None:
    assert 330 <= len(people(residents)) <= 370


def test_refs_and_phones_unique(residents: dict[str, Any]) -> None:
    households = residents["households"]
    assert len({h["ref"] for h in households}) == len(households)
    refs = [m["ref"] for m in people(residents)]
    assert len(set(refs)) == len(refs)
    phones = [m["phone"] for m in people(residents) if m["phone"] is not None]
    assert len(set(phones)) == len(phones)
    for phone in phones:
        assert phone.startswith("+97250555") and len(phone) == 13 and phone[1:].isdigit()


def test_member_fields(residents: dict[str, Any]) -> None:
    for h in residents["households"]:
        assert h["safe_room"] in {"in_home", "shared_shelter", "none"}
        assert h["name"] and h["members"]
        assert set(h["languages"]) <= LANGUAGES
        for m in h["members"]:
            assert m["ref"].startswith(f"p-{h['building_ref']}-")
            assert m["age_group"] in {"adult", "child", "infant", "elderly"}
            assert m["languages"] and set(m["languages"]) <= LANGUAGES
            assert set(m["special_needs"]) <= {"mobility", "medical", "hearing"}
        assert h["languages"][0] in {lang for m in h["members"] for lang in m["languages"]}


def test_all_five_languages_among_households(residents: dict[str, Any]) -> None:
    spoken = {lang for h in residents["households"] for lang in h["languages"]}
    assert spoken == LANGUAGES
    primary = Counter(h["languages"][0] for h in residents["households"])
    assert primary["he"] > primary["ar"] + primary["en"]


def test_households_point_to_existing_buildings(
    residents: dict[str, Any], features: list[dict[str, Any]]
) -> None:
    buildings = {f["properties"]["ref"] for f in of_kind(features, "building")}
    for h in residents["households"]:
        assert h["building_ref"] in buildings, h["ref"]
    house_refs = {f["properties"]["ref"] for f in houses(features)}
    housed = {h["building_ref"] for h in residents["households"]}
    assert house_refs <= housed


def test_workers_quarters_households(residents: dict[str, Any]) -> None:
    quarters = [h for h in residents["households"] if h["building_ref"].startswith("W")]
    assert sorted(h["building_ref"] for h in quarters) == ["W1", "W2", "W3", "W4"]
    assert 35 <= sum(len(h["members"]) for h in quarters) <= 45
    for h in quarters:
        assert h["name"] == f"Workers' quarters {h['building_ref']}"
        assert set(h["languages"]) <= {"th", "ne"}
        assert h["foreman"] in {m["ref"] for m in h["members"]}


def test_responders(residents: dict[str, Any]) -> None:
    responders = residents["responders"]
    assert len(responders) == 12
    members = {m["ref"]: (h["ref"], m) for h in residents["households"] for m in h["members"]}
    assert [r["ref"] for r in responders] == [f"r-{i}" for i in range(1, 13)]
    assert len({r["callsign"] for r in responders}) == 12
    for r in responders:
        household_ref, member = members[r["person_ref"]]
        assert household_ref == r["household_ref"]
        assert (member["name"], member["phone"]) == (r["name"], r["phone"])
        assert member["age_group"] == "adult"
        assert "responder" in r["roles"]
    assert responders[0]["roles"] == ["commander", "responder"]
    assert responders[1]["roles"] == ["commander", "responder"]
    roles = Counter(role for r in responders for role in r["roles"])
    assert roles["medic"] == 1 and roles["operator"] == 1


def test_admin(residents: dict[str, Any]) -> None:
    admins = residents["admins"]
    assert [a["ref"] for a in admins] == ["adm-1"]
    assert admins[0]["roles"] == ["admin"]
    members = {m["ref"] for m in people(residents)}
    assert admins[0]["person_ref"] in members


# --- reproducibility -----------------------------------------------------------------------------


def test_generator_is_byte_identical(tmp_path: Path) -> None:
    generate(tmp_path)
    demo = files("konenut.demo")
    for name in ("site_plan.geojson", "residents.json"):
        assert (tmp_path / name).read_bytes() == demo.joinpath(name).read_bytes(), name
