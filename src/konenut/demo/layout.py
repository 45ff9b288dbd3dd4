"""The shape of the demo village in metres east and north of its centre: the fence's ring,
the streets and roads, rectangles for buildings (demo/plan.py places them and writes GeoJSON)."""

from __future__ import annotations

import math
import random

Pt = tuple[float, float]  # metres east and north of the village's centre
Street = tuple[str, str, str, float, float, float, float]

N_BOUNDARY = 48  # boundary vertices, one every 7.5 degrees (counter-clockwise from east)
# Boundary vertex indices (angle = index * 7.5 degrees).
GATE_VERTEX = {"1": 24, "2": 0, "3": 11, "4": 35}
ZONE_VERTICES = {"east": (-5, 5), "north": (5, 19), "west": (19, 29), "south": (29, 43)}


def rect(c: Pt, w: float, h: float, angle: float = 0.0) -> list[Pt]:
    """Counter-clockwise corners of a w (along angle) x h rectangle centred on c."""
    ca, sa = math.cos(angle), math.sin(angle)
    half = ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))
    return [(c[0] + dx * ca - dy * sa, c[1] + dx * sa + dy * ca) for dx, dy in half]


def box(x0: float, y0: float, x1: float, y1: float) -> list[Pt]:
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]


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
STREETS: list[Street] = [
    ("ST2", "HaTamar Street", "רחוב התמר", 178.0, 9.0, 0.4, 85.0),
    ("ST3", "HaRimon Street", "רחוב הרימון", 95.0, 7.0, 1.9, 75.0),
    ("ST4", "HaZayit Street", "רחוב הזית", -95.0, 8.0, 3.1, 80.0),
    ("ST5", "HaShita Street", "רחוב השיטה", -178.0, 9.0, 5.0, 90.0),
]


def street_point(street: Street, x: float) -> Pt:
    _, _, _, y0, amp, phase, wl = street
    return (x, y0 + amp * math.sin(x / wl + phase))


def street_slope(street: Street, x: float) -> float:
    _, _, _, _, amp, phase, wl = street
    return amp / wl * math.cos(x / wl + phase)


def lead_road(start: Pt, gate: Pt, steps: int = 10) -> list[Pt]:
    """From a junction on the main road to a gate, curving gently (x eases in quadratically)."""
    out: list[Pt] = []
    for i in range(steps + 1):
        t = i / steps
        out.append((start[0] + (gate[0] - start[0]) * t * t, start[1] + (gate[1] - start[1]) * t))
    return out
