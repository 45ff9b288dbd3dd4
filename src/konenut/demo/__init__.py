"""Shipped demo site (the fictional village Tel Kinamon) for `konenut serve --demo`."""

from __future__ import annotations

import json
from importlib.resources import files
from typing import Any

SITE_PLAN_FILE = "site_plan.geojson"
RESIDENTS_FILE = "residents.json"


def _load(name: str) -> dict[str, Any]:
    data = json.loads(files(__name__).joinpath(name).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{name} is not a JSON object")
    return data


def load_site_plan() -> dict[str, Any]:
    """The demo site plan: a GeoJSON FeatureCollection (contracts §5a)."""
    return _load(SITE_PLAN_FILE)


def load_residents() -> dict[str, Any]:
    """The demo households, responders and admins."""
    return _load(RESIDENTS_FILE)
