"""The operator's audience preview: the households a broadcast would reach, counted by the
rule the broadcast itself uses, before anything is sent."""

from __future__ import annotations

from typing import Any

from helpers import SITE
from konenut.demo import load_site_plan
from konenut.domain.roles import Role
from konenut.domain.site_plan import FeatureKind, feature_points

from .conftest import Site, assert_problem

COUNT = "/api/v1/broadcast-audience"


def square(lon: float, lat: float, half: float = 0.00005) -> dict[str, Any]:
    ring = [
        [lon - half, lat - half],
        [lon + half, lat - half],
        [lon + half, lat + half],
        [lon - half, lat + half],
        [lon - half, lat - half],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def test_an_area_counts_the_households_the_broadcast_then_reaches(site: Site) -> None:
    ids = {}
    for ref, building in (("aud-7", "7"), ("aud-8", "8")):
        added = site.post(
            "/api/v1/site/households",
            Role.ADMIN,
            json={"ref": ref, "name": "Audience", "building_ref": building},
        )
        assert added.status_code == 201, added.text
        ids[ref] = added.json()["household_id"]
    lon, lat = feature_points(load_site_plan(), FeatureKind.BUILDING)["7"]
    area = square(lon, lat)
    before = site.head()
    counted = site.post(COUNT, Role.OPERATOR, json={"area": area})
    assert counted.status_code == 200, counted.text
    assert counted.json()["refs"] == ["aud-7"] and counted.json()["households"] == 1
    assert site.events_after(before) == []  # a preview stores nothing

    sent = site.post(
        f"/api/v1/incidents/{site.incident_id}/broadcasts",
        Role.OPERATOR,
        json={"template": "stay_in_shelter", "area": area},
    )
    assert sent.status_code == 201, sent.text
    event = next(e for e in sent.json()["events"] if e["type"] == "broadcast.sent")
    assert event["payload"]["household_ids"] == counted.json()["household_ids"]


def test_empty_areas_count_zero_and_everyone_counts_all(site: Site) -> None:
    far = square(34.0, 31.0)
    assert site.post(COUNT, Role.COMMANDER, json={"area": far}).json()["households"] == 0
    everyone = site.post(COUNT, Role.COMMANDER, json={}).json()
    assert everyone["households"] == len(site.store.state(SITE).households)
    both = site.post(COUNT, Role.COMMANDER, json={"area": far, "group": "no_safe_room"})
    assert_problem(both, 422, "empty-audience", "one audience")
    assert_problem(site.post(COUNT, Role.RESIDENT, json={}), 403, "forbidden")
