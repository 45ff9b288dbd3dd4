"""Enrollment, the caller's own identity, enrollment codes and devices."""

from __future__ import annotations

from dataclasses import replace

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from konenut.api.deps import (
    Access,
    command_response,
    get_runtime,
    idempotency_key,
    permit,
)
from konenut.api.passes import count_wrong_code, refuse_guessing
from konenut.api.problems import ApiProblem
from konenut.api.runtime import Runtime
from konenut.api.throttle import CodeSpace
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import enrollment_link, hash_code, new_code, new_token
from konenut.app.passes import qr_data_url
from konenut.domain.roles import primary_role
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1", tags=["identity"])


@router.post("/enroll", operation_id="enroll_device", status_code=201)
async def enroll_device(
    request: Request,
    body: c.EnrollDevice,
    idem: IdempotencyKey = Depends(idempotency_key),
    runtime: Runtime = Depends(get_runtime),
) -> JSONResponse:
    """Redeem a one-time enrollment code: the answer holds this device's token, shown once.

    An address that sent too many unknown codes in the last minute gets 429 (guessing), and so
    does everyone while all addresses together did (Settings.code_guesses_per_min).
    """
    address = refuse_guessing(runtime, request, CodeSpace.ENROLLMENT_CODE)
    state = runtime.store.state(runtime.site_id)
    code_hash = hash_code(state.code_key, body.code)
    if state.code_by_hash(code_hash) is None:
        count_wrong_code(runtime, address, CodeSpace.ENROLLMENT_CODE)
        raise ApiProblem(
            404,
            "this enrollment code is unknown; check it or ask for a new one",
            slug="code-unknown",
        )
    # Contracts §4: for codes the key's scope is (site, code, key).
    scoped = replace(idem, scope="code:" + code_hash[:40])
    outcome = await runtime.run(runtime.site_id, handlers.enroll_device(body, new_token()), scoped)
    return command_response(outcome)


@router.get("/me", operation_id="get_me")
def get_me(access: Access = Depends(permit("get_me"))) -> dict[str, object]:
    """Who this device is: subject, roles, the view to open, household and incident."""
    actor = access.actor
    state = access.state
    person = state.persons.get(actor.subject_id)
    household = state.households.get(actor.household_id or "")
    subject = person or household
    return {
        "site_id": actor.site_id,
        "site_name": (state.site or {}).get("name"),
        "token_id": actor.token_id,
        "subject_id": actor.subject_id,
        "subject_kind": actor.subject_kind.value,
        "roles": sorted(actor.roles),
        "primary_role": primary_role(actor.roles).value,
        "name": state.subject_name(actor.subject_id),
        "languages": subject.languages if subject else None,
        "household_id": actor.household_id,
        "incident_id": actor.incident_id,
    }


@router.post("/site/enrollment-codes", operation_id="issue_enrollment_code", status_code=201)
async def issue_enrollment_code(
    body: c.IssueEnrollmentCode,
    idem: IdempotencyKey = Depends(idempotency_key),
    access: Access = Depends(permit("issue_enrollment_code")),
) -> JSONResponse:
    """A one-time code (valid 24 h), its link and a PNG QR of the link (a data: URL) that
    enrol one device for a subject."""
    code = new_code()
    outcome = await access.execute(handlers.issue_enrollment_code(access.actor, body, code), idem)
    if "code" not in outcome.body:
        return command_response(outcome)
    link = enrollment_link(access.runtime.links_url(), outcome.body["code"], body.language)
    added = {"link": link, "qr_data_url": qr_data_url(link)}
    return command_response(replace(outcome, body={**outcome.body, **added}))


@router.get("/site/devices", operation_id="list_devices")
def list_devices(access: Access = Depends(permit("list_devices"))) -> list[dict[str, object]]:
    """Enrolled devices (tokens), without their secrets."""
    return [t.model_dump(exclude={"token_hash"}) for t in list(access.state.tokens.values())]


@router.post("/site/devices/{token_id}/revoke", operation_id="revoke_device", status_code=201)
async def revoke_device(
    token_id: str,
    body: c.RevokeDevice,
    idem: IdempotencyKey = Depends(idempotency_key),
    access: Access = Depends(permit("revoke_device")),
) -> JSONResponse:
    """Revoke a device at once (a lost or captured phone)."""
    return await access.run(handlers.revoke_device(access.actor, token_id, body), idem)


@router.post(
    "/site/people/{person_id}/revoke-devices",
    operation_id="revoke_person_devices",
    status_code=201,
)
async def revoke_person_devices(
    person_id: str,
    body: c.RevokeDevice,
    idem: IdempotencyKey = Depends(idempotency_key),
    access: Access = Depends(permit("revoke_person_devices")),
) -> JSONResponse:
    """Revoke every device of one person at once (a captured phone, someone leaving the
    squad): their streams close and their push subscriptions are dropped in the same step."""
    return await access.run(handlers.revoke_person_devices(access.actor, person_id, body), idem)
