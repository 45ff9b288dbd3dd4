"""An incident's positions and sightings as files over the API (docs/exports.md): what a
commander downloads, what an admin may see of it, who may not, and the audit record."""

from __future__ import annotations

import csv
import io

import orjson

from konenut.domain.roles import Role

from .conftest import HERE, Site, assert_problem


def places(site: Site, fmt: str, role: Role, query: str = "") -> bytes:
    answer = site.get(f"/api/v1/incidents/{site.incident_id}/places.{fmt}{query}", role)
    assert answer.status_code == 200, answer.text
    assert "attachment" in answer.headers["content-disposition"]
    return answer.content


def test_a_commander_downloads_positions_and_sightings_and_the_export_is_audited(
    site: Site,
) -> None:
    position = site.post(
        f"/api/v1/incidents/{site.incident_id}/positions",
        Role.COMMANDER,
        json={"location": {"lat": 30.431, "lon": 34.971}},
    )
    assert position.status_code == 201, position.text

    table = places(site, "csv", Role.COMMANDER).decode().lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(table)))
    assert [(r["kind"], r["label"], float(r["lat"]), float(r["lon"])) for r in rows] == [
        ("sighting", "unknown", HERE["lat"], HERE["lon"]),
        ("position", "commander-1", 30.431, 34.971),
    ]
    geojson = orjson.loads(places(site, "geojson", Role.COMMANDER))
    assert [f["properties"]["kind"] for f in geojson["features"]] == ["sighting", "position"]
    assert geojson["features"][1]["geometry"]["coordinates"] == [34.971, 30.431]
    head = site.head()
    kml = places(site, "kml", Role.COMMANDER, "?redacted=true").decode()
    assert "<coordinates>34.971,30.431</coordinates>" in kml and "commander-1" not in kml

    audit = site.events_after(head)[-1]
    assert audit.type == "audit.log_exported"
    assert audit.payload == {
        "format": "kml",
        "event_count": 2,
        "via": "api",
        "redacted": True,
        "incident_id": site.incident_id,
    }


def test_an_admin_gets_no_positions_and_the_squad_may_not_export(site: Site) -> None:
    # Positions and sightings are not in an admin's audience (contracts §4): the file is empty.
    assert orjson.loads(places(site, "geojson", Role.ADMIN))["features"] == []
    for role in (Role.OPERATOR, Role.RESPONDER, Role.RESIDENT, Role.LIAISON):
        denied = site.get(f"/api/v1/incidents/{site.incident_id}/places.csv", role)
        assert_problem(denied, 403, "forbidden")
    unknown = site.get(f"/api/v1/incidents/{site.incident_id}/places.xls", Role.COMMANDER)
    assert unknown.status_code == 422
