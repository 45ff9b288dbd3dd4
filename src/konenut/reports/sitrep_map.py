"""The SITREP's map image, drawn server-side with matplotlib from the site plan and the live
layers: the squad's last positions, threats where last seen, buildings that need help."""

from __future__ import annotations

import io
import math
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from konenut.app.sitrep import Sitrep, Threat
from konenut.domain.site_plan import POLYGONAL

MAP_SIZE_IN = (6.4, 4.8)  # fits a column of an A4 page beside the figures
MAP_DPI = 120  # sharp enough to print, small enough for an e-mail (~60-120 KB)
PLAN_STYLE: dict[str, dict[str, Any]] = {
    "boundary": {"facecolor": "none", "edgecolor": "#333333", "linewidth": 1.6},
    "building": {"facecolor": "#d9d9d9", "edgecolor": "#8c8c8c", "linewidth": 0.5},
    "zone": {"facecolor": "#f3f3e9", "edgecolor": "#c8c8b0", "linewidth": 0.4},
    "field": {"facecolor": "#eef5e6", "edgecolor": "#c9dcb8", "linewidth": 0.4},
}
LINE_STYLE = {"fence": ("#555555", 1.0, "--"), "path": ("#b0b0b0", 0.8, "-")}
POINT_STYLE = {  # kind -> (marker, colour): the places a squad moves between
    "gate": ("s", "#6a3d9a"),
    "armory": ("P", "#1f4e9a"),
    "war_room": ("D", "#1f4e9a"),
    "shelter": ("^", "#2e7d32"),
    "collection_point": ("X", "#c2185b"),
    "rally_point": ("o", "#1f4e9a"),
}
MARK_COLOUR = {"hostages": "#7b1fa2", "danger": "#d32f2f", "need_help": "#f57c00"}
THREAT_COLOUR = {"hostile": "#d32f2f", "unknown": "#ff8f00"}
UNIT_COLOUR = "#1565c0"


def render_map(sitrep: Sitrep) -> bytes:
    """A PNG of the plan with the live layers on it (CPU-heavy: call it off the event loop)."""
    figure = Figure(figsize=MAP_SIZE_IN, dpi=MAP_DPI)
    FigureCanvasAgg(figure)
    axes = figure.add_axes((0.0, 0.0, 1.0, 1.0))
    axes.set_axis_off()
    features = (sitrep.plan or {}).get("features", [])
    for feature in features:
        _draw_feature(axes, feature, sitrep.marked_buildings)
    for lon, lat in sitrep.units:
        axes.plot(lon, lat, "o", color=UNIT_COLOUR, markersize=5, markeredgecolor="white", zorder=5)
    for threat in sitrep.threats:
        _draw_threat(axes, threat)
    _fit(axes, features, sitrep)
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()


def _draw_threat(axes: Any, threat: Threat) -> None:
    """A triangle where the group was last seen, its count beside it in a white box."""
    colour = THREAT_COLOUR.get(threat.category, THREAT_COLOUR["hostile"])
    where = (threat.lon, threat.lat)
    axes.plot(*where, "v", color=colour, markersize=11, markeredgecolor="k", zorder=6)
    box = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": colour, "lw": 0.6}
    axes.annotate(
        str(threat.count),
        where,
        xytext=(7, 4),
        textcoords="offset points",
        fontsize=8,
        fontweight="bold",
        color=colour,
        bbox=box,
        zorder=7,
    )


def _draw_feature(axes: Any, feature: dict[str, Any], marked: dict[str, str]) -> None:
    properties = feature.get("properties") or {}
    kind, ref = str(properties.get("kind", "")), str(properties.get("ref", ""))
    geometry = feature.get("geometry") or {}
    if geometry.get("type") in POLYGONAL:
        style = dict(PLAN_STYLE.get(kind, PLAN_STYLE["zone"]))
        if kind == "building" and ref in marked:
            style["facecolor"] = MARK_COLOUR[marked[ref]]
        for ring in _outer_rings(geometry):
            xs, ys = zip(*ring, strict=True)
            axes.fill(xs, ys, zorder=_order(kind), **style)
        if kind == "building" and ref in marked:
            lon, lat = _outer_rings(geometry)[0][0]
            axes.annotate(ref, (lon, lat), fontsize=7, fontweight="bold", zorder=5)
    elif geometry.get("type") == "LineString" and kind in LINE_STYLE:
        colour, width, dash = LINE_STYLE[kind]
        xs, ys = zip(*(c[:2] for c in geometry["coordinates"]), strict=True)
        axes.plot(xs, ys, dash, color=colour, linewidth=width, zorder=2)
    elif geometry.get("type") == "Point" and kind in POINT_STYLE:
        marker, colour = POINT_STYLE[kind]
        lon, lat = geometry["coordinates"][:2]
        axes.plot(lon, lat, marker, color=colour, markersize=6, zorder=4)


def _order(kind: str) -> int:
    """Zones and fields under buildings, the boundary's line over both."""
    return {"zone": 0, "field": 0, "building": 1, "boundary": 3}.get(kind, 1)


def _outer_rings(geometry: dict[str, Any]) -> list[list[tuple[float, float]]]:
    polygons = geometry["coordinates"]
    if geometry["type"] == "Polygon":
        polygons = [polygons]
    return [[(float(c[0]), float(c[1])) for c in polygon[0]] for polygon in polygons]


def _fit(axes: Any, features: list[dict[str, Any]], sitrep: Sitrep) -> None:
    """The view: the boundary, or everything drawn; metres equal in both directions."""
    boundary = [f for f in features if (f.get("properties") or {}).get("kind") == "boundary"]
    points = [p for f in boundary for ring in _outer_rings(f["geometry"]) for p in ring]
    points += [(t.lon, t.lat) for t in sitrep.threats] + list(sitrep.units)
    if points:
        lons, lats = zip(*points, strict=True)
        pad_lon = (max(lons) - min(lons)) * 0.04 or 0.001
        pad_lat = (max(lats) - min(lats)) * 0.04 or 0.001
        axes.set_xlim(min(lons) - pad_lon, max(lons) + pad_lon)
        axes.set_ylim(min(lats) - pad_lat, max(lats) + pad_lat)
        axes.set_aspect(1.0 / math.cos(math.radians(sum(lats) / len(lats))), adjustable="box")
