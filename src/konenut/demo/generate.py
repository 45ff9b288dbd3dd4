"""Deterministic generator (seed 7) of the fictional Tel Kinamon demo site plan and residents."""

from __future__ import annotations

import json
import math
import random
import sys
from pathlib import Path
from typing import Any

Pt = tuple[float, float]
Edge = tuple[Pt, Pt]
Json = dict[str, Any]

SEED = 7
SITE_PLAN_FILE = "site_plan.geojson"
RESIDENTS_FILE = "residents.json"

# Centre of the fictional village: open desert ground, no settlement there.
LAT0 = 30.4300
LON0 = 34.9700
_PHI = math.radians(LAT0)
M_PER_DEG_LAT = 111_132.92 - 559.82 * math.cos(2 * _PHI) + 1.175 * math.cos(4 * _PHI)
M_PER_DEG_LON = 111_412.84 * math.cos(_PHI) - 93.5 * math.cos(3 * _PHI)

N_BOUNDARY = 48  # boundary vertices, one every 7.5 degrees (counter-clockwise from east)
N_HOUSES = 120
HOUSE_PEOPLE = 310  # people living in the houses; the workers' quarters add 40
BOUNDARY_CLEARANCE_M = 14.0
PATH_CLEARANCE_M = 5.0
BUILDING_CLEARANCE_M = 4.0

# Boundary vertex indices (angle = index * 7.5 degrees).
GATE_VERTEX = {"1": 24, "2": 0, "3": 11, "4": 35}
ZONE_VERTICES = {"east": (-5, 5), "north": (5, 19), "west": (19, 29), "south": (29, 43)}


# --------------------------------------------------------------------------- geometry (metres)


def lonlat(p: Pt) -> list[float]:
    """Local metres (x east, y north) from the centre -> GeoJSON [lon, lat]."""
    return [round(LON0 + p[0] / M_PER_DEG_LON, 7), round(LAT0 + p[1] / M_PER_DEG_LAT, 7)]


def signed_area(ring: list[Pt]) -> float:
    total = 0.0
    for i, (x1, y1) in enumerate(ring):
        x2, y2 = ring[(i + 1) % len(ring)]
        total += x1 * y2 - x2 * y1
    return total / 2


def rect(c: Pt, w: float, h: float, angle: float = 0.0) -> list[Pt]:
    """Counter-clockwise corners of a w (along angle) x h rectangle centred on c."""
    ca, sa = math.cos(angle), math.sin(angle)
    half = ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))
    return [(c[0] + dx * ca - dy * sa, c[1] + dx * sa + dy * ca) for dx, dy in half]


def box(x0: float, y0: float, x1: float, y1: float) -> list[Pt]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


def centroid(ring: list[Pt]) -> Pt:
    return (sum(p[0] for p in ring) / len(ring), sum(p[1] for p in ring) / len(ring))


def inside(p: Pt, ring: list[Pt]) -> bool:
    """Ray casting point-in-polygon (open ring)."""
    x, y = p
    result = False
    for i, (x1, y1) in enumerate(ring):
        x2, y2 = ring[(i + 1) % len(ring)]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            result = not result
    return result


def point_seg_dist(p: Pt, a: Pt, b: Pt) -> float:
    dx, dy = b[0] - a[0], b[1] - a[1]
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else ((p[0] - a[0]) * dx + (p[1] - a[1]) * dy) / length2
    t = max(0.0, min(1.0, t))
    return math.hypot(p[0] - a[0] - t * dx, p[1] - a[1] - t * dy)


def _cross(o: Pt, a: Pt, b: Pt) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def seg_dist(e: Edge, f: Edge) -> float:
    (a, b), (c, d) = e, f
    if _cross(c, d, a) * _cross(c, d, b) < 0 and _cross(a, b, c) * _cross(a, b, d) < 0:
        return 0.0
    return min(
        point_seg_dist(a, c, d),
        point_seg_dist(b, c, d),
        point_seg_dist(c, a, b),
        point_seg_dist(d, a, b),
    )


def ring_edges(ring: list[Pt]) -> list[Edge]:
    return [(ring[i], ring[(i + 1) % len(ring)]) for i in range(len(ring))]


def line_edges(line: list[Pt]) -> list[Edge]:
    return [(line[i], line[i + 1]) for i in range(len(line) - 1)]


def edges_dist(a: list[Edge], b: list[Edge]) -> float:
    return min(seg_dist(e, f) for e in a for f in b)


def poly_dist(p: list[Pt], q: list[Pt]) -> float:
    if any(inside(v, q) for v in p) or any(inside(v, p) for v in q):
        return 0.0
    return edges_dist(ring_edges(p), ring_edges(q))


# --------------------------------------------------------------------------- GeoJSON helpers


def polygon(ring: list[Pt]) -> Json:
    if signed_area(ring) < 0:  # RFC 7946: exterior rings counter-clockwise
        ring = ring[::-1]
    coords = [lonlat(p) for p in ring]
    coords.append(coords[0])
    return {"type": "Polygon", "coordinates": [coords]}


def linestring(line: list[Pt]) -> Json:
    return {"type": "LineString", "coordinates": [lonlat(p) for p in line]}


def point(p: Pt) -> Json:
    return {"type": "Point", "coordinates": lonlat(p)}


def feature(kind: str, ref: str, geometry: Json, props: Json) -> Json:
    return {
        "type": "Feature",
        "properties": {"kind": kind, "ref": ref, **props},
        "geometry": geometry,
    }


# --------------------------------------------------------------------------- site plan


def make_boundary(rng: random.Random) -> list[Pt]:
    """A rounded (superellipse 700 m x 500 m), gently irregular, star-shaped ring."""
    a, b, n = 350.0, 250.0, 2.6
    waves = [(k, rng.uniform(0.012, 0.03), rng.uniform(0.0, 2 * math.pi)) for k in (2, 3, 5)]
    ring: list[Pt] = []
    for i in range(N_BOUNDARY):
        t = 2 * math.pi * i / N_BOUNDARY
        c, s = math.cos(t), math.sin(t)
        r = (abs(c / a) ** n + abs(s / b) ** n) ** (-1 / n)
        r *= 1 + sum(amp * math.sin(k * t + ph) for k, amp, ph in waves)
        ring.append((r * c, r * s))
    return ring


def toward_centre(p: Pt, metres: float) -> Pt:
    r = math.hypot(p[0], p[1])
    return (p[0] * (r - metres) / r, p[1] * (r - metres) / r)


def compass_bearing(dx: float, dy: float) -> int:
    return round((90 - math.degrees(math.atan2(dy, dx))) % 360) % 360


def zone_of(p: Pt) -> str:
    deg = math.degrees(math.atan2(p[1], p[0])) % 360
    if deg < 37.5 or deg >= 322.5:
        return "east"
    if deg < 142.5:
        return "north"
    if deg < 217.5:
        return "west"
    return "south"


def main_road_y(x: float) -> float:
    return 3.0 * math.sin(x / 70.0)


# ref, name_en, name_he, y0, amplitude, phase, wavelength (m / rad)
STREETS: list[tuple[str, str, str, float, float, float, float]] = [
    ("ST2", "HaTamar Street", "רחוב התמר", 178.0, 9.0, 0.4, 85.0),
    ("ST3", "HaRimon Street", "רחוב הרימון", 95.0, 7.0, 1.9, 75.0),
    ("ST4", "HaZayit Street", "רחוב הזית", -95.0, 8.0, 3.1, 80.0),
    ("ST5", "HaShita Street", "רחוב השיטה", -178.0, 9.0, 5.0, 90.0),
]


def street_point(street: tuple[str, str, str, float, float, float, float], x: float) -> Pt:
    _, _, _, y0, amp, phase, wl = street
    return (x, y0 + amp * math.sin(x / wl + phase))


def street_slope(street: tuple[str, str, str, float, float, float, float], x: float) -> float:
    _, _, _, _, amp, phase, wl = street
    return amp / wl * math.cos(x / wl + phase)


def lead_road(start: Pt, gate: Pt, steps: int = 10) -> list[Pt]:
    """From a junction on the main road to a gate, curving gently (x eases in quadratically)."""
    out: list[Pt] = []
    for i in range(steps + 1):
        t = i / steps
        out.append((start[0] + (gate[0] - start[0]) * t * t, start[1] + (gate[1] - start[1]) * t))
    return out


def build_site_plan(rng: random.Random) -> tuple[Json, list[str]]:
    """Return the FeatureCollection and the house refs in order."""
    boundary = make_boundary(rng)
    b_edges = ring_edges(boundary)
    features: list[Json] = []

    def well_inside(poly: list[Pt], margin: float) -> bool:
        return (
            all(inside(v, boundary) for v in poly)
            and edges_dist(ring_edges(poly), b_edges) >= margin
        )

    features.append(
        feature(
            "boundary",
            "site",
            polygon(boundary),
            {
                "name_en": "Tel Kinamon",
                "name_he": "תל קינמון",
                "name_ar": "تل قينمون",
                "fictional": True,
                "note": "Invented village for the Konenut demo; placed on open ground.",
            },
        )
    )
    features.append(
        feature(
            "fence",
            "1",
            linestring([*boundary, boundary[0]]),
            {"name_en": "Perimeter fence", "name_he": "גדר היקפית", "height_m": 2.5},
        )
    )

    # Zones: wedges from the centre to the boundary; together they tile the site.
    zone_names = {
        "north": ("North quarter", "השכונה הצפונית"),
        "south": ("South quarter", "השכונה הדרומית"),
        "east": ("East quarter", "השכונה המזרחית"),
        "west": ("West quarter", "השכונה המערבית"),
    }
    for ref in ("north", "south", "east", "west"):
        lo, hi = ZONE_VERTICES[ref]
        wedge: list[Pt] = [(0.0, 0.0)] + [boundary[i % N_BOUNDARY] for i in range(lo, hi + 1)]
        en, he = zone_names[ref]
        features.append(feature("zone", ref, polygon(wedge), {"name_en": en, "name_he": he}))

    # Gates, on boundary vertices.
    gate_names = {
        "1": ("Main gate (west)", "השער הראשי", "main"),
        "2": ("Back gate (east)", "השער האחורי", "back"),
        "3": ("Agricultural gate (north)", "השער החקלאי", "agricultural"),
        "4": ("South gate", "השער הדרומי", "service"),
    }
    gates = {ref: boundary[i] for ref, i in GATE_VERTEX.items()}
    for ref in ("1", "2", "3", "4"):
        en, he, use = gate_names[ref]
        props: Json = {"name_en": en, "name_he": he, "use": use}
        if ref == "1":
            props["name_ar"] = "البوابة الرئيسية"
        features.append(feature("gate", ref, point(gates[ref]), props))

    # Roads.
    g1, g2, g3, g4 = gates["1"], gates["2"], gates["3"], gates["4"]
    main_xs = [float(x) for x in range(-340, 341, 20) if g1[0] + 5 < x < g2[0] - 5]
    main_road = [g1, *[(x, main_road_y(x)) for x in main_xs], g2]
    north_road = lead_road((55.0, main_road_y(55.0)), g3)
    south_road = lead_road((-65.0, main_road_y(-65.0)), g4)
    patrol = [toward_centre(p, 6.0) for p in boundary]
    streets: dict[str, list[Pt]] = {}
    for street in STREETS:
        xs = [float(x) for x in range(-340, 341, 10)]
        line = [street_point(street, x) for x in xs]
        line = [p for p in line if inside(p, boundary) and edges_dist([(p, p)], b_edges) >= 7.0]
        streets[street[0]] = line
    paths: list[tuple[str, str, str, list[Pt]]] = [
        ("ST1", "Derech HaKinamon (main road)", "דרך הקינמון", main_road),
        *[(s[0], s[1], s[2], streets[s[0]]) for s in STREETS],
        ("ST6", "Patrol road", "דרך הביטחון", [*patrol, patrol[0]]),
        ("ST7", "Orchard lane (to the north gate)", "שביל הפרדס", north_road),
        ("ST8", "Fields lane (to the south gate)", "שביל השדות", south_road),
    ]
    for ref, en, he, line in paths:
        features.append(feature("path", ref, linestring(line), {"name_en": en, "name_he": he}))
    path_edges = [line_edges(line) for _, _, _, line in paths]

    # Public buildings and other structures (all obstacles for the houses).
    obstacles: list[list[Pt]] = []

    def add_building(ref: str, use: str, ring: list[Pt], props: Json) -> None:
        assert well_inside(ring, BOUNDARY_CLEARANCE_M), ref
        obstacles.append(ring)
        features.append(feature("building", ref, polygon(ring), {"use": use, **props}))

    secretariat = rect((-45.0, 28.0), 24, 14)
    add_building("S", "secretariat", secretariat, {"name_en": "Secretariat", "name_he": "מזכירות"})
    add_building(
        "D",
        "dining_hall",
        rect((15.0, 32.0), 30, 18),
        {"name_en": "Dining hall", "name_he": "חדר האוכל"},
    )
    clinic = rect((-35.0, -28.0), 16, 12)
    add_building(
        "CL",
        "clinic",
        clinic,
        {"name_en": "Clinic", "name_he": "מרפאה", "name_ar": "العيادة"},
    )
    add_building(
        "K",
        "kindergarten",
        rect((25.0, -30.0), 20, 14),
        {"name_en": "Kindergarten", "name_he": "גן ילדים"},
    )
    workers = {"W1": (258.0, 35.0), "W2": (280.0, 35.0), "W3": (258.0, -35.0), "W4": (280.0, -35.0)}
    for ref, c in workers.items():
        add_building(
            ref,
            "workers_quarters",
            rect(c, 9, 40),
            {"name_en": f"Workers' quarters {ref}", "name_he": f"מגורי עובדים {ref}"},
        )

    armory_c = (-255.0, 25.0)
    armory = rect(armory_c, 10, 8)
    assert well_inside(armory, BOUNDARY_CLEARANCE_M)
    obstacles.append(armory)
    features.append(
        feature(
            "armory",
            "A",
            polygon(armory),
            {
                "name_en": "Armory",
                "name_he": "נשקייה",
                "name_ar": "مخزن السلاح",
                "name_th": "คลังอาวุธ",
                "name_ne": "शस्त्रागार",
                "locked": True,
            },
        )
    )
    war_room = rect((-45.0, 47.0), 12, 8)
    obstacles.append(war_room)
    features.append(
        feature(
            "war_room",
            "WR",
            polygon(war_room),
            {"name_en": "War room", "name_he": "חדר מלחמה", "underground": True, "near": "S"},
        )
    )
    shelters = {"P1": (-130.0, 35.0), "P2": (130.0, -35.0)}
    for i, (ref, c) in enumerate(shelters.items(), start=1):
        ring = rect(c, 14, 9)
        assert well_inside(ring, BOUNDARY_CLEARANCE_M)
        obstacles.append(ring)
        features.append(
            feature(
                "shelter",
                ref,
                polygon(ring),
                {
                    "name_en": f"Public shelter {i}",
                    "name_he": f"מקלט ציבורי {i}",
                    "name_ar": f"ملجأ عام {i}",
                    "capacity": 60,
                },
            )
        )
    features.append(
        feature(
            "rally_point",
            "R1",
            point((armory_c[0], armory_c[1] - 12.0)),
            {
                "name_en": "Squad rally point (armory)",
                "name_he": "נקודת כינוס — נשקייה",
                "name_ar": "نقطة تجمع الفرقة (مخزن السلاح)",
                "name_th": "จุดรวมพล (คลังอาวุธ)",
                "name_ne": "भेला हुने ठाउँ (शस्त्रागार)",
                "at": "A",
            },
        )
    )
    features.append(
        feature(
            "collection_point",
            "C1",
            point((-35.0, -13.0)),
            {
                "name_en": "Casualty collection point (clinic)",
                "name_he": "נקודת ריכוז נפגעים — מרפאה",
                "name_ar": "نقطة تجميع المصابين — العيادة",
                "at": "CL",
            },
        )
    )

    # Cameras just inside the fence, looking outward.
    cameras = [
        ("CAM1", 24, "main gate", "השער הראשי"),
        ("CAM2", 0, "back gate", "השער האחורי"),
        ("CAM3", 11, "agricultural gate", "השער החקלאי"),
        ("CAM4", 35, "south gate", "השער הדרומי"),
        ("CAM5", 6, "north-east fence", "הגדר הצפון-מזרחית"),
        ("CAM6", 27, "west fence", "הגדר המערבית"),
    ]
    for i, (ref, vertex, en, he) in enumerate(cameras, start=1):
        v = boundary[vertex]
        features.append(
            feature(
                "camera",
                ref,
                point(toward_centre(v, 8.0)),
                {
                    "name_en": f"Camera {i} — {en}",
                    "name_he": f"מצלמה {i} — {he}",
                    "bearing_deg": compass_bearing(v[0], v[1]),
                    "fov_deg": 90,
                },
            )
        )

    # Houses along the residential streets.
    candidates: list[tuple[list[Pt], str]] = []
    accepted: list[list[Pt]] = list(obstacles)
    for street in STREETS:
        for side in (1.0, -1.0):
            xs = [float(x) for x in range(-234, 235, 26)]
            if side < 0:
                xs.reverse()
            for x0 in xs:
                x = x0 + rng.uniform(-1.5, 1.5)
                c = street_point(street, x)
                t = math.atan(street_slope(street, x))
                setback = 16.0 + rng.uniform(-1.0, 1.5)
                centre = (c[0] - side * setback * math.sin(t), c[1] + side * setback * math.cos(t))
                ring = rect(centre, 12 + rng.uniform(-1.0, 1.5), 10 + rng.uniform(-1.0, 1.0), t)
                ring = [(round(px, 2), round(py, 2)) for px, py in ring]
                if not well_inside(ring, BOUNDARY_CLEARANCE_M):
                    continue
                if any(edges_dist(ring_edges(ring), pe) < PATH_CLEARANCE_M for pe in path_edges):
                    continue
                near = [o for o in accepted if math.dist(centroid(o), centre) < 70]
                if any(poly_dist(ring, o) < BUILDING_CLEARANCE_M for o in near):
                    continue
                accepted.append(ring)
                candidates.append((ring, street[0]))
    if len(candidates) < N_HOUSES:
        raise RuntimeError(f"only {len(candidates)} house plots fit")
    dropped = set(rng.sample(range(len(candidates)), len(candidates) - N_HOUSES))
    house_refs: list[str] = []
    for ring, street_ref in (c for i, c in enumerate(candidates) if i not in dropped):
        ref = str(len(house_refs) + 1)
        house_refs.append(ref)
        features.append(
            feature(
                "building",
                ref,
                polygon(ring),
                {
                    "use": "house",
                    "name_en": f"House {ref}",
                    "name_he": f"בית {ref}",
                    "street": street_ref,
                    "zone": zone_of(centroid(ring)),
                },
            )
        )

    # Fields outside the fence.
    fields = [
        ("F1", "Avocado orchard", "מטע אבוקדו", "avocado", box(-280, 300, 60, 430)),
        ("F2", "Field crops", "גידולי שדה", "field_crops", box(-260, -440, 180, -305)),
        ("F3", "Greenhouses", "חממות", "greenhouses", box(400, -160, 520, 140)),
        ("F4", "Date palms", "מטע תמרים", "date_palms", box(-540, -260, -410, -60)),
    ]
    for ref, en, he, crop, ring in fields:
        assert not any(inside(v, boundary) for v in ring) and not any(
            inside(v, ring) for v in boundary
        )
        assert edges_dist(ring_edges(ring), b_edges) > 20
        assert all(math.hypot(*v) < 800 for v in ring)
        features.append(
            feature("field", ref, polygon(ring), {"name_en": en, "name_he": he, "crop": crop})
        )

    collection: Json = {
        "type": "FeatureCollection",
        "name": "Tel Kinamon (fictional demo site)",
        "features": features,
    }
    return collection, house_refs


# --------------------------------------------------------------------------- residents


def _words(text: str) -> list[str]:
    return text.split()


HE_SURNAMES = _words(
    "Levi Cohen Mizrahi Peretz Biton Dahan Avraham Friedman Azoulay Malka Katz Shapiro Ben-David "
    "Golan Harel Carmeli Shalev Navon Almog Barak Segal Amar Ohana Gabay Ashkenazi Rosen Weiss "
    "Klein Sharabi Yosef Elbaz Vaknin Sasson Ben-Ami Hazan Kaplan Lerner Adler Meir Oren Dror "
    "Regev Shani Zohar Eshel Nahum Ben-Haim Alon Ziv Galili Sela Raz Lavi Gilad Hadar Yaron Nir "
    "Erez Paz Avni Doron Elkayam Maman Tzur Ben-Shimon Shitrit Abutbul Saban Toledano Edri "
    "Turgeman Hayun Malul Yehezkel Tzadok Kadosh Buzaglo Ben-Harush Amsalem Levin Rubin Stern "
    "Gold Schwartz Baruch Goldstein Horowitz Margalit Ronen Arbel Shaked Tamir Yardeni Kedem "
    "Peleg Rotem Ben-Tov Hasson Agmon Naor Gafni Elimelech"
)

NAMES: dict[str, dict[str, list[str]]] = {
    "he": {
        "surname": HE_SURNAMES,
        "m": _words(
            "Avi Moshe David Yossi Eitan Noam Amit Itai Yoav Omer Ariel Oren Gil Ronen Eyal Shai "
            "Nadav Tomer Ido Uri Yonatan Daniel Roi Erez Ofer Asaf Guy Elad Yair Amir Nir Alon"
        ),
        "f": _words(
            "Dana Michal Noa Shira Tamar Yael Maya Roni Hila Keren Liat Orly Sigal Merav Efrat "
            "Anat Galit Yifat Inbal Adi Neta Ayelet Limor Osnat Dafna Naama Talia Shani Avigail "
            "Hadas"
        ),
        "em": _words(
            "Shlomo Yaakov Meir Haim Baruch Tzvi Menachem Avraham Yitzhak Mordechai Eliyahu Shimon"
        ),
        "ef": _words("Rivka Sara Rachel Leah Miriam Ruth Esther Hana Tzipora Bella Aliza Shoshana"),
        "cm": _words("Ori Yuval Itamar Ofek Omri Lavi Harel Eyal Ido Nitai Ariel Yoav Amitai Erel"),
        "cf": _words(
            "Lia Agam Ella Romi Alma Eden Yahli Noga Gaya Shaked Tamar Hallel Ofri Maayan"
        ),
    },
    "ar": {
        "surname": _words(
            "Khoury Nasser Mansour Halabi Saleh Khatib Awad Hamdan Zidan Asadi Kassem Bishara Jaber"
        ),
        "m": _words(
            "Ahmad Mohammad Yousef Omar Khaled Samir Rami Fadi Nabil Karim Tarek Wasim Majd"
        ),
        "f": _words("Mariam Rania Lina Samira Huda Amal Nour Yasmin Reem Salma Dina Hala Maysa"),
        "em": _words("Ibrahim Mahmoud Hassan Saleem Jamil Fuad"),
        "ef": _words("Aisha Khadija Amina Zeinab Najwa Fatima"),
        "cm": _words("Adam Rayan Ali Hamza Jad Sami Elias"),
        "cf": _words("Jana Lana Sara Layan Tala Celine Maya"),
    },
    "en": {
        "surname": _words(
            "Miller Goldberg Stein Robinson Green Fisher Walker Bennett Marks Harris Gordon Jacobs "
            "Sherman"
        ),
        "m": _words("David Michael Jonathan Daniel Benjamin Aaron Joshua Samuel Nathan Adam Ethan"),
        "f": _words("Sarah Rachel Emily Hannah Rebecca Abigail Naomi Julia Jessica Chloe Zoe"),
        "em": _words("Harold Bernard Stanley Arthur Leonard Howard"),
        "ef": _words("Margaret Dorothy Joan Shirley Barbara Evelyn"),
        "cm": _words("Noah Eli Jacob Max Toby Sam Gabriel"),
        "cf": _words("Ava Lily Mia Ruby Abby Grace Ellie"),
    },
}

THAI_GIVEN = _words(
    "Somchai Somsak Prasert Anan Wichai Surachai Kittisak Chaiwat Sombat Thongchai Boonmee Narong "
    "Pichit Sakda Manop Suchart Wirat Adisak Kriangsak Nattapong Sarawut Teerapong Yutthana "
    "Apichat Weerachai Jirayu Phongsak Malee Siriporn Nittaya"
)
THAI_SURNAMES = _words(
    "Srisuk Wongsa Boonyarat Phromma Saetang Kaewkham Thongdee Sukjai Inthong Chaisri Phanthong "
    "Siriwat Ruangrit Saengchan Bunma Kongkaew Yodsiri Namwong Jaidee Sombun Thepsiri Chanthara "
    "Promsri Kaewmanee Suwannarat Phumphuang Intharak Wongchai Saelim Rattanakorn Khamphan"
)
NEPALI_GIVEN = _words(
    "Ram-Bahadur Hari Krishna Bishnu Suman Dipak Prakash Santosh Bikash Rajesh Sunil Ramesh Binod "
    "Kamal Gopal Dinesh Mohan Nabin Sagar Anil"
)
NEPALI_SURNAMES = _words(
    "Gurung Tamang Magar Rai Thapa Shrestha Adhikari Karki Limbu Sherpa Bhandari Poudel Khadka "
    "Basnet"
)

Slot = tuple[str, str]  # (age_group, sex)

TEMPLATES: list[tuple[str, int]] = [
    ("single_adult", 12),
    ("single_elderly", 10),
    ("couple", 18),
    ("elderly_couple", 18),
    ("family", 30),
    ("single_parent", 5),
    ("three_generations", 7),
]


def household_slots(rng: random.Random, template: str) -> list[Slot]:
    def child() -> Slot:
        return ("child", rng.choice("mf"))

    if template == "single_adult":
        return [("adult", rng.choice("mf"))]
    if template == "single_elderly":
        return [("elderly", rng.choice("mf"))]
    if template == "couple":
        return [("adult", "m"), ("adult", "f")]
    if template == "elderly_couple":
        return [("elderly", "m"), ("elderly", "f")]
    if template == "family":
        slots = [("adult", "m"), ("adult", "f")] + [child() for _ in range(rng.randint(1, 3))]
        if rng.random() < 0.3:
            slots.append(("infant", rng.choice("mf")))
        return slots
    if template == "single_parent":
        return [("adult", "f" if rng.random() < 0.8 else "m")] + [
            child() for _ in range(rng.randint(1, 2))
        ]
    # three generations
    kids = [child() for _ in range(rng.randint(1, 2))]
    return [("adult", "m"), ("adult", "f"), ("elderly", rng.choice("mf")), *kids]


def special_needs(rng: random.Random, age_group: str) -> list[str]:
    odds = {
        "elderly": (("mobility", 0.3), ("hearing", 0.15), ("medical", 0.15)),
        "adult": (("mobility", 0.02), ("medical", 0.03), ("hearing", 0.01)),
        "child": (("medical", 0.03),),
        "infant": (),
    }[age_group]
    return [need for need, p in odds if rng.random() < p]


class Phones:
    """Unique invented numbers in +97250555xxxx."""

    def __init__(self, rng: random.Random) -> None:
        self._pool = list(range(10000))
        rng.shuffle(self._pool)

    def take(self) -> str:
        return f"+97250555{self._pool.pop():04d}"


def member_languages(group: str, bilingual: bool, age_group: str) -> list[str]:
    if group == "he":
        return ["he"]
    if age_group == "child":
        return [group, "he"] if group == "ar" or bilingual else [group]
    if age_group == "elderly":
        return [group]
    return [group, "he"] if bilingual else [group]


def build_residents(rng: random.Random, house_refs: list[str]) -> Json:
    phones = Phones(rng)
    used_names: set[str] = set()

    groups = ["he"] * 96 + ["ar"] * 12 + ["en"] * 12
    rng.shuffle(groups)
    template_names = [t for t, _ in TEMPLATES]
    weights = [w for _, w in TEMPLATES]
    plans: list[tuple[str, str, list[Slot]]] = []
    for group in groups:
        template = rng.choices(template_names, weights)[0]
        plans.append((group, template, household_slots(rng, template)))

    # Bring the house population to exactly HOUSE_PEOPLE by removing or adding children.
    total = sum(len(s) for _, _, s in plans)
    while total > HOUSE_PEOPLE:
        many = [s for _, _, s in plans if sum(1 for a, _ in s if a == "child") >= 2]
        slots = rng.choice(many)
        slots.remove(next(x for x in reversed(slots) if x[0] == "child"))
        total -= 1
    while total < HOUSE_PEOPLE:
        parents = [s for _, t, s in plans if t in ("family", "single_parent", "three_generations")]
        slots = rng.choice(parents)
        at = next((i for i, x in enumerate(slots) if x[0] == "infant"), len(slots))
        slots.insert(at, ("child", rng.choice("mf")))
        total += 1

    def pick_name(pool: list[str], surname: str) -> str:
        for _ in range(200):
            name = f"{rng.choice(pool)} {surname}"
            if name not in used_names:
                used_names.add(name)
                return name
        raise RuntimeError(f"no free name for {surname}")

    surnames = {g: rng.sample(NAMES[g]["surname"], groups.count(g)) for g in ("he", "ar", "en")}
    bilingual = {"ar": [True] * 8 + [False] * 4, "en": [True] * 8 + [False] * 4, "he": [True] * 96}
    for g in ("ar", "en"):
        rng.shuffle(bilingual[g])
    counters = {"he": 0, "ar": 0, "en": 0}

    households: list[Json] = []
    sexes: dict[str, str] = {}  # person ref -> sex, used only to cast the responders
    for ref, (group, _template, slots) in zip(house_refs, plans, strict=True):
        k = counters[group]
        counters[group] += 1
        surname = surnames[group][k]
        both = bilingual[group][k]
        names = NAMES[group]
        members: list[Json] = []
        for i, (age_group, sex) in enumerate(slots, start=1):
            pool_key = {
                "adult": sex,
                "elderly": "e" + sex,
                "child": "c" + sex,
                "infant": "c" + sex,
            }[age_group]
            person_ref = f"p-{ref}-{i}"
            sexes[person_ref] = sex
            has_phone = age_group in ("adult", "elderly") or (
                age_group == "child" and rng.random() < 0.5
            )
            members.append(
                {
                    "ref": person_ref,
                    "name": pick_name(names[pool_key], surname),
                    "age_group": age_group,
                    "phone": phones.take() if has_phone else None,
                    "languages": member_languages(group, both, age_group),
                    "special_needs": special_needs(rng, age_group),
                }
            )
        languages: list[str] = []
        for m in members:
            for lang in m["languages"]:
                if lang not in languages:
                    languages.append(lang)
        safe_room = rng.choices(["in_home", "shared_shelter", "none"], [70, 25, 5])[0]
        households.append(
            {
                "ref": f"h-{ref}",
                "building_ref": ref,
                "name": f"{surname} family",
                "languages": languages,
                "safe_room": safe_room,
                "members": members,
            }
        )

    # Workers' quarters: group households of Thai and Nepali agricultural workers.
    worker_mix = {
        "W1": ["th"] * 11,
        "W2": ["th"] * 10,
        "W3": ["ne"] * 10,
        "W4": ["th"] * 5 + ["ne"] * 4,
    }
    thai_surnames = rng.sample(THAI_SURNAMES, len(THAI_SURNAMES))
    nepali_surnames = NEPALI_SURNAMES[:]
    for building, langs in worker_mix.items():
        members = []
        for i, lang in enumerate(langs, start=1):
            if lang == "th":
                name = pick_name(THAI_GIVEN, thai_surnames.pop())
            else:
                name = pick_name(NEPALI_GIVEN, rng.choice(nepali_surnames)).replace("-", " ")
            foreman = i == 1
            member_langs = [lang] + (
                ["he"] if foreman and lang == "th" else ["en"] if foreman else []
            )
            members.append(
                {
                    "ref": f"p-{building}-{i}",
                    "name": name,
                    "age_group": "adult",
                    "phone": phones.take(),
                    "languages": member_langs,
                    "special_needs": special_needs(rng, "adult"),
                }
            )
        households.append(
            {
                "ref": f"h-{building}",
                "building_ref": building,
                "name": f"Workers' quarters {building}",
                "languages": list(dict.fromkeys(langs)),
                "safe_room": "shared_shelter",
                "members": members,
                "foreman": f"p-{building}-1",
            }
        )

    # Responders (residents too) and the admin.
    house_hh = households[: len(house_refs)]
    used: set[str] = set()

    def cast(lang: str, sex: str | None) -> tuple[Json, Json]:
        options = [
            (h, m)
            for h in house_hh
            if h["ref"] not in used and h["languages"][0] == lang
            for m in h["members"]
            if m["age_group"] == "adult" and (sex is None or sexes[m["ref"]] == sex)
        ]
        h, m = rng.choice(options)
        used.add(h["ref"])
        return h, m

    cast_list: list[tuple[str, str | None, list[str], str]] = [
        ("he", "m", ["commander", "responder"], "Squad leader"),
        ("he", "m", ["commander", "responder"], "Deputy squad leader"),
        ("he", "f", ["medic", "responder"], "Village nurse"),
        ("he", None, ["operator", "responder"], "War room operator"),
        ("ar", "m", ["responder"], "Squad member"),
        ("en", None, ["responder"], "Squad member"),
    ] + [("he", None, ["responder"], "Squad member")] * 6
    responders: list[Json] = []
    for n, (lang, wanted, roles, title) in enumerate(cast_list, start=1):
        h, m = cast(lang, wanted)
        responders.append(
            {
                "ref": f"r-{n}",
                "name": m["name"],
                "callsign": f"Kinamon {n}",
                "roles": roles,
                "title": title,
                "phone": m["phone"],
                "languages": m["languages"],
                "household_ref": h["ref"],
                "person_ref": m["ref"],
            }
        )
    h, m = cast("he", None)
    admins = [
        {
            "ref": "adm-1",
            "name": m["name"],
            "roles": ["admin"],
            "title": "Security coordinator",
            "phone": m["phone"],
            "languages": m["languages"],
            "household_ref": h["ref"],
            "person_ref": m["ref"],
        }
    ]
    return {"households": households, "responders": responders, "admins": admins}


# --------------------------------------------------------------------------- output


def render_site_plan(collection: Json) -> str:
    """One feature per line: diff-friendly and byte-stable."""
    head = {k: v for k, v in collection.items() if k != "features"}
    lines = [
        json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]
    ]
    opening = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    return opening + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"


def main(out_dir: str | Path | None = None) -> None:
    """Write site_plan.geojson and residents.json into out_dir (default: this package)."""
    target = Path(out_dir) if out_dir is not None else Path(__file__).resolve().parent
    target.mkdir(parents=True, exist_ok=True)
    rng = random.Random(SEED)
    collection, house_refs = build_site_plan(rng)
    residents = build_residents(rng, house_refs)
    (target / SITE_PLAN_FILE).write_bytes(render_site_plan(collection).encode("utf-8"))
    text = json.dumps(residents, ensure_ascii=False, indent=2) + "\n"
    (target / RESIDENTS_FILE).write_bytes(text.encode("utf-8"))


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
