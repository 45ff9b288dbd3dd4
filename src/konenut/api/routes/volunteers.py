"""Standing passes and volunteers: the join QR, redeeming it, and the commander's decision."""

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
from konenut.app import passes, volunteers
from konenut.app.identity import new_token
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1", tags=["volunteers"])

Key = Depends(idempotency_key)


@router.post(
    "/incidents/{incident_id}/volunteer-pass", operation_id="issue_volunteer_pass", status_code=201
)
async def issue_volunteer_pass(
    incident_id: str,
    body: passes.IssueVolunteerPass,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("issue_volunteer_pass")),
) -> JSONResponse:
    """A "join as volunteer" pass for this incident: a code to read out, its link and QR.

    Valid for 12 h at most and only while the incident is open; each device that redeems it
    becomes a pending volunteer until a commander approves. The code is shown only here.
    """
    incident_for(access, incident_id)
    code = passes.new_pass_code()
    decide = passes.issue_volunteer_pass(access.actor, incident_id, body, code)
    outcome = await access.execute(decide, idem)
    if "code" not in outcome.body:
        return command_response(outcome)
    base_url = access.runtime.links_url()
    link = passes.pass_link(base_url, outcome.body["code"], body.language)
    added = {"link": link, "qr_data_url": passes.qr_data_url(link)}
    return command_response(replace(outcome, body={**outcome.body, **added}))


@router.post("/passes/{pass_id}/revoke", operation_id="revoke_pass", status_code=201)
async def revoke_pass(
    pass_id: str,
    body: passes.RevokePass,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("revoke_pass")),
) -> JSONResponse:
    """Withdraw a pass at once: its code redeems nothing more, and the devices it enrolled are
    revoked with it (their streams close, their push is dropped) unless `keep_devices`."""
    found = access.state.passes.get(pass_id)
    if found is not None and found.incident_id is not None:
        access.incident(found.incident_id)
    return await access.run(passes.revoke_pass(access.actor, pass_id, body), idem)


@router.post("/passes/redeem", operation_id="redeem_pass", status_code=201)
async def redeem_pass(
    request: Request,
    body: volunteers.RedeemPass,
    idem: IdempotencyKey = Key,
    runtime: Runtime = Depends(get_runtime),
) -> JSONResponse:
    """Join by a pass's code: the answer holds this device's token, shown once.

    A volunteer stays pending (their token shows only their own status) until a commander
    approves. An address that sent too many unknown codes in the last minute gets 429.
    """
    _, code_hash = known_pass(runtime, request, body.code)
    return await redeem(
        runtime, code_hash, idem, volunteers.redeem_volunteer_pass(body, new_token())
    )


@router.get("/volunteers/me", operation_id="get_my_volunteer")
def get_my_volunteer(access: Access = Depends(permit("get_my_volunteer"))) -> dict[str, Any]:
    """A volunteer's own standing: pending, approved or declined (allowed while pending)."""
    return volunteers.my_volunteer(access.state, access.actor)


@router.get("/incidents/{incident_id}/volunteers", operation_id="list_volunteers")
def list_volunteers(
    incident_id: str, access: Access = Depends(permit("list_volunteers"))
) -> list[dict[str, Any]]:
    """Who joined the incident by a pass, pending ones first, with what they said of themselves."""
    incident_for(access, incident_id)
    return volunteers.volunteers_of(access.state, incident_id)


@router.post(
    "/incidents/{incident_id}/volunteers/{volunteer_id}/approve",
    operation_id="approve_volunteer",
    status_code=201,
)
async def approve_volunteer(
    incident_id: str,
    volunteer_id: str,
    body: volunteers.DecideVolunteer,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("approve_volunteer")),
) -> JSONResponse:
    """One tap: the volunteer gets responder-like rights in this incident, until it closes."""
    incident_for(access, incident_id)
    decide = volunteers.approve(access.actor, incident_id, volunteer_id, body)
    return await access.run(decide, idem)


@router.post(
    "/incidents/{incident_id}/volunteers/{volunteer_id}/decline",
    operation_id="decline_volunteer",
    status_code=201,
)
async def decline_volunteer(
    incident_id: str,
    volunteer_id: str,
    body: volunteers.DecideVolunteer,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("decline_volunteer")),
) -> JSONResponse:
    """Turn a volunteer away: their device is revoked at once."""
    incident_for(access, incident_id)
    decide = volunteers.decline(access.actor, incident_id, volunteer_id, body)
    return await access.run(decide, idem)
