"""Sighting photos: upload (raw image body) and download, for the squad only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from konenut.api.deps import Access, incident_for, permit
from konenut.api.offload import off_the_loop
from konenut.api.problems import ApiProblem
from konenut.api.runtime import Runtime
from konenut.app.photos import PhotoStore, media_type_of

router = APIRouter(tags=["photos"])

UPLOAD_BODY = {
    "required": True,
    "content": {
        media_type: {"schema": {"type": "string", "format": "binary", "minLength": 1}}
        for media_type in ("image/jpeg", "image/png", "image/webp")
    },
}


def photo_store(runtime: Runtime) -> PhotoStore:
    return PhotoStore.in_data_dir(runtime.settings.data_dir)


@router.post(
    "/api/v1/incidents/{incident_id}/photos",
    operation_id="upload_photo",
    status_code=201,
    openapi_extra={"requestBody": UPLOAD_BODY},
)
async def upload_photo(
    incident_id: str, request: Request, access: Access = Depends(permit("upload_photo"))
) -> dict[str, Any]:
    """A photo for a sighting: checked by decoding it, stripped of EXIF (GPS included),
    scaled to at most 2048 px, kept by its SHA-256 (the same picture twice is one file).
    Send the image itself as the body. Its id goes into a sighting's `photo_ids`."""
    incident_for(access, incident_id)
    data = await request.body()  # at most MAX_PHOTO_BYTES: api/limits.py counts it as it comes
    if not data:
        raise ApiProblem(422, "send the image as the request body", slug="validation-error")
    stored = await off_the_loop(photo_store(access.runtime).save, data)
    return {
        "photo_id": stored.photo_id,
        "media_type": stored.media_type,
        "width": stored.width,
        "height": stored.height,
        "size": stored.size,
        "url": f"/api/v1/photos/{stored.photo_id}",
    }


@router.get(
    "/api/v1/photos/{photo_id}",
    operation_id="get_photo",
    response_class=Response,
    responses={200: {"content": {m: {} for m in ("image/jpeg", "image/png", "image/webp")}}},
)
def get_photo(photo_id: str, access: Access = Depends(permit("get_photo"))) -> Response:
    """A stored photo. Its id is its hash, so it never changes: cached for a day, privately."""
    data = photo_store(access.runtime).read(photo_id)
    if data is None:
        raise ApiProblem(404, f"no photo {photo_id}")
    return Response(
        data,
        media_type=media_type_of(data),
        headers={
            "Cache-Control": "private, max-age=86400, immutable",
            "ETag": f'"{photo_id}"',
            "Content-Disposition": "inline",
        },
    )
