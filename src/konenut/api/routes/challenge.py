"""An incident's challenge/password (the squad's) and safe word (the residents')."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from konenut.api.deps import Access, idempotency_key, incident_for, permit
from konenut.app import challenge
from konenut.domain.ids import format_time
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1/incidents", tags=["challenge"])

Key = Depends(idempotency_key)


@router.put("/{incident_id}/challenge", operation_id="set_challenge", status_code=201)
async def set_challenge(
    incident_id: str,
    body: challenge.SetChallenge,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("set_challenge")),
) -> JSONResponse:
    """Set the challenge and password: both words, or none to have two generated."""
    incident_for(access, incident_id)
    return await access.run(challenge.set_challenge(access.actor, incident_id, body), idem)


@router.post("/{incident_id}/challenge/rotate", operation_id="rotate_challenge", status_code=201)
async def rotate_challenge(
    incident_id: str,
    body: challenge.RotateChallenge,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("rotate_challenge")),
) -> JSONResponse:
    """A new generated pair; the replaced one still answers for `grace_mins`."""
    incident_for(access, incident_id)
    return await access.run(challenge.rotate_challenge(access.actor, incident_id, body), idem)


@router.get("/{incident_id}/challenge", operation_id="get_challenge")
def get_challenge(
    incident_id: str, access: Access = Depends(permit("get_challenge"))
) -> dict[str, Any]:
    """The current pair, the replaced one while it still answers, and the safe word."""
    incident = incident_for(access, incident_id)
    return challenge.challenge_view(incident, format_time(access.runtime.store.clock()))


@router.put("/{incident_id}/safe-word", operation_id="set_safe_word", status_code=201)
async def set_safe_word(
    incident_id: str,
    body: challenge.SetSafeWord,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("set_safe_word")),
) -> JSONResponse:
    """The word the squad says at a door; residents and guests are shown it."""
    incident_for(access, incident_id)
    return await access.run(challenge.set_safe_word(access.actor, incident_id, body), idem)
