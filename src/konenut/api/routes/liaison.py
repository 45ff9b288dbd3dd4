"""Liaison passes over HTTP (docs/liaison.md): made for an arriving unit, redeemed, listed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from konenut.api.deps import (
    Access,
    command_response,
    get_runtime,
    idempotency_key,
    incident_for,
    permit,
)
from konenut.api.passes import known_pass, redeem
from konenut.api.runtime import Runtime
from konenut.app import liaison, passes
from konenut.app.identity import new_token
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1", tags=["liaison"])

Key = Depends(idempotency_key)


@router.post(
    "/incidents/{incident_id}/liaison-passes",
    operation_id="issue_liaison_pass",
    status_code=201,
)
async def issue_liaison_pass(
    incident_id: str,
    body: liaison.IssueLiaisonPass,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("issue_liaison_pass")),
) -> JSONResponse:
    """A liaison pass for the arriving unit: its link and QR, and a short code of 12 digits to
    read out over the radio; shown only here.

    Each of up to `max_devices` devices that redeems it sees this incident's picture read-only
    until the pass expires (12 h by default), the incident closes, or the pass is revoked
    (`POST /passes/{pass_id}/revoke`).
    """
    incident_for(access, incident_id)
    code, radio_code = passes.new_pass_code(), liaison.new_radio_code()
    decide = liaison.issue_liaison_pass(access.actor, incident_id, body, code, radio_code)
    outcome = await access.execute(decide, idem)
    if "code" not in outcome.body:
        return command_response(outcome)
    link = passes.pass_link(access.runtime.links_url(), outcome.body["code"], body.language)
    added = {"link": link, "qr_data_url": passes.qr_data_url(link)}
    return command_response(replace(outcome, body={**outcome.body, **added}))


@router.get("/incidents/{incident_id}/liaison-passes", operation_id="list_liaison_passes")
def list_liaison_passes(
    incident_id: str, access: Access = Depends(permit("list_liaison_passes"))
) -> list[dict[str, Any]]:
    """The incident's liaison passes, newest first, with how many devices each enrolled."""
    incident_for(access, incident_id)
    return liaison.liaison_passes_of(access.state, incident_id)


@router.post("/passes/redeem-liaison", operation_id="redeem_liaison_pass", status_code=201)
async def redeem_liaison_pass(
    request: Request,
    body: liaison.RedeemLiaisonPass,
    idem: IdempotencyKey = Key,
    runtime: Runtime = Depends(get_runtime),
) -> JSONResponse:
    """Enrol this device with a liaison pass's code or radio code: the answer holds its token,
    shown once. A device past the pass's cap is refused (409 pass-used-up); an address that
    sent too many unknown codes in the last minute gets 429.
    """
    _, code_hash = known_pass(runtime, request, body.code)
    return await redeem(runtime, code_hash, idem, liaison.redeem_liaison_pass(body, new_token()))


@router.get("/liaison/me", operation_id="get_my_liaison_pass")
def get_my_liaison_pass(
    access: Access = Depends(permit("get_my_liaison_pass")),
) -> dict[str, Any]:
    """A liaison device's own pass: the unit it was made for, and until when it works."""
    return liaison.my_liaison_pass(access.state, access.actor)
