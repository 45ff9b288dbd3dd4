"""The demo site plan (seed 7): the fictional village Tel Kinamon, laid out in metres
(demo/layout.py), its buildings placed clear of the fence, the roads and each other, written
as GeoJSON (contracts §5a). Geometry goes through domain/geo.py."""

from __future__ import annotations

import json
import math
import random
from typing import Any

from konenut.demo.layout import (
    GATE_VERTEX,
    N_BOUNDARY,
    STREETS,
    ZONE_VERTICES,
    Pt,
    Street,
    box,
    compass_bearing,
    lead_road,
    main_road_y,
    make_boundary,
    rect,
    street_point,
    street_slope,
    toward_centre,
    zone_of,
)
from konenut.domain import geo

Json = dict[str, Any]

# Centre of the fictional village: open desert ground, no settlement there.
LAT0 = 30.4300
LON0 = 34.9700
FRAME = geo.LocalFrame((LON0, LAT0))

N_HOUSES = 120
BOUNDARY_CLEARANCE_M = 14.0
PATH_CLEARANCE_M = 5.0
BUILDING_CLEARANCE_M = 4.0
STREET_CLEARANCE_M = 7.0  # a street keeps this far from the fence
NEIGHBOURHOOD_M = 70.0  # houses farther apart than this cannot touch: not compared
FIELD_CLEARANCE_M = 20.0  # fields lie outside the fence, this far at least

ZONE_NAMES = {
    "north": ("North quarter", "השכונה הצפונית"),
    "south": ("South quarter", "השכונה הדרומית"),
    "east": ("East quarter", "השכונה המזרחית"),
    "west": ("West quarter", "השכונה המערבית"),
}
GATE_NAMES = {
    "1": ("Main gate (west)", "השער הראשי", "main"),
    "2": ("Back gate (east)", "השער האחורי", "back"),
    "3": ("Agricultural gate (north)", "השער החקלאי", "agricultural"),
    "4": ("South gate", "השער הדרומי", "service"),
}
ARMORY_CENTRE = (-255.0, 25.0)
SHELTERS = {"P1": (-130.0, 35.0), "P2": (130.0, -35.0)}
WORKERS = {"W1": (258.0, 35.0), "W2": (280.0, 35.0), "W3": (258.0, -35.0), "W4": (280.0, -35.0)}
# ref, boundary vertex, where (en, he): cameras just inside the fence, looking outward.
CAMERAS = [
    ("CAM1", 24, "main gate", "השער הראשי"),
    ("CAM2", 0, "back gate", "השער האחורי"),
    ("CAM3", 11, "agricultural gate", "השער החקלאי"),
    ("CAM4", 35, "south gate", "השער הדרומי"),
    ("CAM5", 6, "north-east fence", "הגדר הצפון-מזרחית"),
    ("CAM6", 27, "west fence", "הגדר המערבית"),
]
FIELDS = [
    ("F1", "Avocado orchard", "מטע אבוקדו", "avocado", box(-280, 300, 60, 430)),
    ("F2", "Field crops", "גידולי שדה", "field_crops", box(-260, -440, 180, -305)),
    ("F3", "Greenhouses", "חממות", "greenhouses", box(400, -160, 520, 140)),
    ("F4", "Date palms", "מטע תמרים", "date_palms", box(-540, -260, -410, -60)),
]


# --------------------------------------------------------------------------- GeoJSON helpers


def lonlat(p: Pt) -> list[float]:
    """Local metres (x east, y north) from the centre -> GeoJSON [lon, lat]."""
    lon, lat = FRAME.lonlat(p)
    return [round(lon, 7), round(lat, 7)]


def polygon(ring: list[Pt]) -> Json:
    if not geo.is_counter_clockwise(ring):  # RFC 7946: exterior rings counter-clockwise
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


class Drawing:
    """The plan as it is drawn: the fence first, then what must keep clear of it and of each
    other, feature by feature in the order the shipped file lists them."""

    def __init__(self, boundary: list[Pt]) -> None:
        self.boundary = boundary
        self.fence = geo.outline_of(boundary)
        self.features: list[Json] = []
        self.obstacles: list[list[Pt]] = []  # what a house keeps clear of
        self.gates = {ref: boundary[i] for ref, i in GATE_VERTEX.items()}

    def add(self, kind: str, ref: str, geometry: Json, props: Json) -> None:
        self.features.append(feature(kind, ref, geometry, props))

    def well_inside(self, poly: list[Pt], margin_m: float) -> bool:
        return (
            all(geo.contains(self.boundary, v) for v in poly)
            and geo.gap(geo.outline_of(poly), self.fence) >= margin_m
        )

    def clear_of_fence(self, p: Pt) -> bool:
        return geo.gap(geo.line_of([p]), self.fence) >= STREET_CLEARANCE_M

    def add_structure(self, kind: str, ref: str, ring: list[Pt], props: Json) -> None:
        """A building-like feature, inside the fence with room to spare: an obstacle."""
        assert self.well_inside(ring, BOUNDARY_CLEARANCE_M), ref
        self.obstacles.append(ring)
        self.add(kind, ref, polygon(ring), props)

    def outline(self) -> None:
        """The boundary, the fence along it, and the zones: wedges that tile the site."""
        self.add(
            "boundary",
            "site",
            polygon(self.boundary),
            {
                "name_en": "Tel Kinamon",
                "name_he": "תל קינמון",
                "name_ar": "تل قينمون",
                "fictional": True,
                "note": "Invented village for the Konenut demo; placed on open ground.",
            },
        )
        self.add(
            "fence",
            "1",
            linestring([*self.boundary, self.boundary[0]]),
            {"name_en": "Perimeter fence", "name_he": "גדר היקפית", "height_m": 2.5},
        )
        for ref in ("north", "south", "east", "west"):
            lo, hi = ZONE_VERTICES[ref]
            wedge = [(0.0, 0.0)] + [self.boundary[i % N_BOUNDARY] for i in range(lo, hi + 1)]
            en, he = ZONE_NAMES[ref]
            self.add("zone", ref, polygon(wedge), {"name_en": en, "name_he": he})

    def add_gates(self) -> None:
        """Gates, on boundary vertices."""
        for ref in ("1", "2", "3", "4"):
            en, he, use = GATE_NAMES[ref]
            props: Json = {"name_en": en, "name_he": he, "use": use}
            if ref == "1":
                props["name_ar"] = "البوابة الرئيسية"
            self.add("gate", ref, point(self.gates[ref]), props)

    def roads(self) -> list[geo.Shape]:
        """The main road, the residential streets, the patrol road and the lanes to the
        gates; answers them as lines for the houses to keep clear of."""
        g1, g2, g3, g4 = (self.gates[ref] for ref in ("1", "2", "3", "4"))
        main_xs = [float(x) for x in range(-340, 341, 20) if g1[0] + 5 < x < g2[0] - 5]
        main_road = [g1, *[(x, main_road_y(x)) for x in main_xs], g2]
        patrol = [toward_centre(p, 6.0) for p in self.boundary]
        paths: list[tuple[str, str, str, list[Pt]]] = [
            ("ST1", "Derech HaKinamon (main road)", "דרך הקינמון", main_road),
            *[(s[0], s[1], s[2], self.street(s)) for s in STREETS],
            ("ST6", "Patrol road", "דרך הביטחון", [*patrol, patrol[0]]),
            ("ST7", "Orchard lane (to the north gate)", "שביל הפרדס", self.lane(55.0, g3)),
            ("ST8", "Fields lane (to the south gate)", "שביל השדות", self.lane(-65.0, g4)),
        ]
        for ref, en, he, line in paths:
            self.add("path", ref, linestring(line), {"name_en": en, "name_he": he})
        return [geo.line_of(line) for _, _, _, line in paths]

    def street(self, street: Street) -> list[Pt]:
        line = [street_point(street, float(x)) for x in range(-340, 341, 10)]
        return [p for p in line if geo.contains(self.boundary, p) and self.clear_of_fence(p)]

    @staticmethod
    def lane(junction_x: float, gate: Pt) -> list[Pt]:
        return lead_road((junction_x, main_road_y(junction_x)), gate)

    def public_buildings(self) -> None:
        """Public buildings and other structures (all obstacles for the houses)."""
        for ref, use, ring, given in (
            ("S", "secretariat", rect((-45.0, 28.0), 24, 14), ("Secretariat", "מזכירות")),
            ("D", "dining_hall", rect((15.0, 32.0), 30, 18), ("Dining hall", "חדר האוכל")),
            ("CL", "clinic", rect((-35.0, -28.0), 16, 12), ("Clinic", "מרפאה", "العيادة")),
            ("K", "kindergarten", rect((25.0, -30.0), 20, 14), ("Kindergarten", "גן ילדים")),
        ):
            names = dict(zip(("name_en", "name_he", "name_ar"), given, strict=False))
            self.add_structure("building", ref, ring, {"use": use, **names})
        for ref, c in WORKERS.items():
            props = {
                "use": "workers_quarters",
                "name_en": f"Workers' quarters {ref}",
                "name_he": f"מגורי עובדים {ref}",
            }
            self.add_structure("building", ref, rect(c, 9, 40), props)

    def defence(self) -> None:
        """The armory, the war room and the public shelters."""
        self.add_structure(
            "armory",
            "A",
            rect(ARMORY_CENTRE, 10, 8),
            {
                "name_en": "Armory",
                "name_he": "נשקייה",
                "name_ar": "مخزن السلاح",
                "name_th": "คลังอาวุธ",
                "name_ne": "शस्त्रागार",
                "locked": True,
            },
        )
        war_room = rect((-45.0, 47.0), 12, 8)  # underground, beside the secretariat
        self.obstacles.append(war_room)
        self.add(
            "war_room",
            "WR",
            polygon(war_room),
            {"name_en": "War room", "name_he": "חדר מלחמה", "underground": True, "near": "S"},
        )
        for i, (ref, c) in enumerate(SHELTERS.items(), start=1):
            names = {
                "name_en": f"Public shelter {i}",
                "name_he": f"מקלט ציבורי {i}",
                "name_ar": f"ملجأ عام {i}",
            }
            self.add_structure("shelter", ref, rect(c, 14, 9), {**names, "capacity": 60})

    def meeting_points(self) -> None:
        """The squad's rally point by the armory and the casualty collection point."""
        self.add(
            "rally_point",
            "R1",
            point((ARMORY_CENTRE[0], ARMORY_CENTRE[1] - 12.0)),
            {
                "name_en": "Squad rally point (armory)",
                "name_he": "נקודת כינוס — נשקייה",
                "name_ar": "نقطة تجمع الفرقة (مخزن السلاح)",
                "name_th": "จุดรวมพล (คลังอาวุธ)",
                "name_ne": "भेला हुने ठाउँ (शस्त्रागार)",
                "at": "A",
            },
        )
        self.add(
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

    def cameras(self) -> None:
        for i, (ref, vertex, en, he) in enumerate(CAMERAS, start=1):
            v = self.boundary[vertex]
            self.add(
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

    def house_plots(self, rng: random.Random, roads: list[geo.Shape]) -> list[tuple[list[Pt], str]]:
        """Plots along both sides of each residential street that keep clear of the fence,
        the roads and every building already placed."""
        candidates: list[tuple[list[Pt], str]] = []
        accepted: list[list[Pt]] = list(self.obstacles)
        for street in STREETS:
            for side in (1.0, -1.0):
                xs = [float(x) for x in range(-234, 235, 26)]
                for x0 in xs if side > 0 else xs[::-1]:
                    ring, centre = _plot(rng, street, side, x0)
                    if self.plot_fits(ring, centre, roads, accepted):
                        accepted.append(ring)
                        candidates.append((ring, street[0]))
        return candidates

    def plot_fits(
        self, ring: list[Pt], centre: Pt, roads: list[geo.Shape], accepted: list[list[Pt]]
    ) -> bool:
        if not self.well_inside(ring, BOUNDARY_CLEARANCE_M):
            return False
        outline = geo.outline_of(ring)
        if any(geo.gap(outline, road) < PATH_CLEARANCE_M for road in roads):
            return False
        near = [o for o in accepted if math.dist(geo.vertex_mean(o), centre) < NEIGHBOURHOOD_M]
        plot = geo.area_of(ring)
        return all(geo.gap(plot, geo.area_of(o)) >= BUILDING_CLEARANCE_M for o in near)

    def houses(self, rng: random.Random, roads: list[geo.Shape]) -> list[str]:
        """N_HOUSES of the plots that fit, chosen at random; answers their refs in order."""
        candidates = self.house_plots(rng, roads)
        if len(candidates) < N_HOUSES:
            raise RuntimeError(f"only {len(candidates)} house plots fit")
        dropped = set(rng.sample(range(len(candidates)), len(candidates) - N_HOUSES))
        house_refs: list[str] = []
        for ring, street_ref in (c for i, c in enumerate(candidates) if i not in dropped):
            ref = str(len(house_refs) + 1)
            house_refs.append(ref)
            props = {"use": "house", "name_en": f"House {ref}", "name_he": f"בית {ref}"}
            where = {"street": street_ref, "zone": zone_of(geo.vertex_mean(ring))}
            self.add("building", ref, polygon(ring), {**props, **where})
        return house_refs

    def fields(self) -> None:
        """Fields outside the fence."""
        for ref, en, he, crop, ring in FIELDS:
            assert not any(geo.contains(self.boundary, v) for v in ring)
            assert not any(geo.contains(ring, v) for v in self.boundary)
            assert geo.gap(geo.outline_of(ring), self.fence) > FIELD_CLEARANCE_M
            assert all(math.hypot(*v) < 800 for v in ring)
            self.add("field", ref, polygon(ring), {"name_en": en, "name_he": he, "crop": crop})


def _plot(
    rng: random.Random,
    street: Street,
    side: float,
    x0: float,
) -> tuple[list[Pt], Pt]:
    """A house's rectangle set back from the street near x0, on one side (+1 north, -1 south),
    rounded to centimetres; and the point it was centred on."""
    x = x0 + rng.uniform(-1.5, 1.5)
    c = street_point(street, x)
    t = math.atan(street_slope(street, x))
    setback = 16.0 + rng.uniform(-1.0, 1.5)
    centre = (c[0] - side * setback * math.sin(t), c[1] + side * setback * math.cos(t))
    ring = rect(centre, 12 + rng.uniform(-1.0, 1.5), 10 + rng.uniform(-1.0, 1.0), t)
    return [(round(px, 2), round(py, 2)) for px, py in ring], centre


def build_site_plan(rng: random.Random) -> tuple[Json, list[str]]:
    """Return the FeatureCollection and the house refs in order."""
    drawing = Drawing(make_boundary(rng))
    drawing.outline()
    drawing.add_gates()
    roads = drawing.roads()
    drawing.public_buildings()
    drawing.defence()
    drawing.meeting_points()
    drawing.cameras()
    house_refs = drawing.houses(rng, roads)
    drawing.fields()
    collection: Json = {
        "type": "FeatureCollection",
        "name": "Tel Kinamon (fictional demo site)",
        "features": drawing.features,
    }
    return collection, house_refs


# --------------------------------------------------------------------------- output


def render_site_plan(collection: Json) -> str:
    """One feature per line: diff-friendly and byte-stable."""
    head = {k: v for k, v in collection.items() if k != "features"}
    lines = [
        json.dumps(f, ensure_ascii=False, separators=(",", ":")) for f in collection["features"]
    ]
    opening = json.dumps(head, ensure_ascii=False, separators=(",", ":"))[:-1]
    return opening + ',"features":[\n' + ",\n".join(lines) + "\n]}\n"
