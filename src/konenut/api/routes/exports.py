"""An incident's positions and sightings as CSV, GeoJSON or KML (docs/exports.md), audited."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from konenut.api.deps import Access, incident_for, permit
from konenut.app import handlers
from konenut.app.exports import GEO_TYPES, geo_rows, render_geo
from konenut.domain.event_types import REGISTRY
from konenut.domain.events import view_for

router = APIRouter(prefix="/api/v1/incidents", tags=["incidents"])

MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
}


@router.get(
    "/{incident_id}/places.{fmt}",
    operation_id="export_incident_places",
    response_class=Response,
    responses={200: {"content": {media_type: {} for media_type in MEDIA_TYPES.values()}}},
)
async def export_incident_places(
    incident_id: str,
    fmt: Literal["csv", "geojson", "kml"],
    redacted: bool = Query(False, description="For publishing: no callsigns (docs/exports.md)"),
    access: Access = Depends(permit("export_incident_places")),
) -> Response:
    """The incident's positions and sightings that the caller may see, as a file (audited)."""
    incident = incident_for(access, incident_id)
    site_id, viewer = access.actor.site_id, access.actor.viewer
    events = access.runtime.store.read(site_id, 0, incident_id=incident_id, types=GEO_TYPES)
    seen = [e for e in events if view_for(e, REGISTRY[e.type], viewer) is not None]
    rows = list(geo_rows(seen, "redacted" if redacted else "full"))
    audit = handlers.record_export(
        access.actor, incident_id, len(rows), "api", fmt=fmt, redacted=redacted
    )
    await access.runtime.run(site_id, audit, None)
    filename = f"incident-{incident.ref}-places.{fmt}"
    return Response(
        render_geo(rows, fmt),
        media_type=MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
