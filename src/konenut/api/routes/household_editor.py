"""The admin's household editor: a household and its members saved in one request."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from konenut.api.deps import Access, idempotency_key, permit
from konenut.app import household_editor
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/site/households", tags=["site"])


@router.put(
    "/{household_id}",
    operation_id="edit_household",
    status_code=201,
    responses={
        200: {"description": "Nothing changed; nothing stored"},
        422: {"description": "errors [{loc, msg}], e.g. body.members.0.phone"},
    },
)
async def edit_household(
    household_id: str,
    body: household_editor.EditHousehold,
    idem: IdempotencyKey = Depends(idempotency_key),
    access: Access = Depends(permit("edit_household")),
) -> JSONResponse:
    """Save a household as the editor shows it: its fields and its members (those left out are
    no longer its members; those without person_id are new). Only the differences are stored."""
    return await access.run(household_editor.edit_household(access.actor, household_id, body), idem)
