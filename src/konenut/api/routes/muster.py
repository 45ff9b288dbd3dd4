"""The muster: activation, the board, answers, escalation policy, contacts, push, assets."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from konenut.api.deps import Access, idempotency_key, incident_for, permit
from konenut.api.problems import ApiProblem
from konenut.app import commands as c
from konenut.app import handlers, muster
from konenut.domain.event_types import PHONE_ADDRESS_CHANNELS, address_problem
from konenut.domain.muster import board, policy_of
from konenut.domain.roles import COMMAND, Role
from konenut.store.eventstore import IdempotencyKey

router = APIRouter(prefix="/api/v1", tags=["muster"])

Key = Depends(idempotency_key)
ContactChannel = Literal["sms", "telegram", "signal", "whatsapp", "email", "voice"]


@router.post("/squad/activate", operation_id="activate_squad", status_code=201)
async def activate_squad(
    body: c.ActivateSquad,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("activate_squad")),
) -> JSONResponse:
    """One tap: open the incident (or use the open one) and call the squad from a template.

    The answer's `incident_id` and `muster_id` say where the call went; the escalation
    (Web Push, then SMS, Telegram, a call, the deputy) starts at once.
    """
    return await access.run(muster.activate_squad(access.actor, body), idem)


@router.get("/muster-templates", operation_id="list_muster_templates")
def list_muster_templates(
    access: Access = Depends(permit("list_muster_templates")),
) -> list[dict[str, Any]]:
    """Muster calls ready to send: built-in ones and the site's own, with texts per language."""
    return list(muster.templates(access.state).values())


@router.post("/incidents/{incident_id}/muster", operation_id="call_muster", status_code=201)
async def call_muster(
    incident_id: str,
    body: c.CallMuster,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("call_muster")),
) -> JSONResponse:
    """Call the squad to a rally point inside an open incident (the armory by default)."""
    incident_for(access, incident_id)
    return await access.run(handlers.call_muster(access.actor, incident_id, body), idem)


@router.get("/incidents/{incident_id}/muster", operation_id="get_muster")
def get_muster(incident_id: str, access: Access = Depends(permit("get_muster"))) -> dict[str, Any]:
    """The muster board of the latest call: counts by state, each person's state and ETA.

    Commanders and operators also get the channels tried for each person and the keys.
    """
    incident = incident_for(access, incident_id)
    full = bool(access.actor.roles & (COMMAND | {Role.ADMIN}))
    return board(access.state, incident, access.runtime.store.clock(), full)


@router.post(
    "/incidents/{incident_id}/muster/status",
    operation_id="change_responder_status",
    status_code=201,
)
async def change_responder_status(
    incident_id: str,
    body: c.ChangeResponderStatus,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("change_responder_status")),
) -> JSONResponse:
    """A responder's status: coming, cannot, en route, at the rally point, in position, ...

    An answer stops the escalation for that person. A mistake is undone by sending the
    previous status again.
    """
    incident_for(access, incident_id)
    access.person(body.person_id)
    return await access.run(handlers.change_responder_status(access.actor, incident_id, body), idem)


@router.post(
    "/incidents/{incident_id}/muster/seen", operation_id="mark_muster_seen", status_code=201
)
async def mark_muster_seen(
    incident_id: str,
    body: c.MarkMusterSeen,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("mark_muster_seen")),
) -> JSONResponse:
    """The call was shown on the caller's screen (200 and nothing stored when already seen)."""
    incident_for(access, incident_id)
    return await access.run(muster.mark_seen(access.actor, incident_id, body), idem)


# --- escalation policy and contact points ------------------------------------------------------
@router.get("/escalation-policy", operation_id="get_escalation_policy")
def get_escalation_policy(
    access: Access = Depends(permit("get_escalation_policy")),
) -> dict[str, Any]:
    """The chain of channels tried until each person answers (the built-in one until set)."""
    policy = policy_of(access.state)
    return {**policy.model_dump(mode="json"), "built_in": access.state.escalation_policy is None}


@router.put("/escalation-policy", operation_id="set_escalation_policy", status_code=201)
async def set_escalation_policy(
    body: c.SetEscalationPolicy,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("set_escalation_policy")),
) -> JSONResponse:
    """Replace the escalation chain: steps of (channel, seconds after the call), in time order."""
    return await access.run(muster.set_escalation_policy(access.actor, body), idem)


@router.get("/people/{person_id}/contacts", operation_id="list_contact_points")
def list_contact_points(
    person_id: str, access: Access = Depends(permit("list_contact_points"))
) -> dict[str, Any]:
    """Where the person is reached beyond the app, channel by channel."""
    access.person(person_id)
    person = access.state.persons.get(person_id)
    if person is None:
        raise ApiProblem(404, f"no person {person_id}")
    contacts = access.state.contacts.get(person_id, {})
    return {
        "person_id": person_id,
        "phone": person.phone,
        "contacts": [v.model_dump() for v in list(contacts.values())],
        "push_devices": sum(
            1 for p in list(access.state.push_subscriptions.values()) if p.person_id == person_id
        ),
    }


@router.put(
    "/people/{person_id}/contacts/{channel}", operation_id="set_contact_point", status_code=201
)
async def set_contact_point(
    person_id: str,
    channel: ContactChannel,
    body: c.SetContactPoint,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("set_contact_point")),
) -> JSONResponse:
    """Set (or with `address: null` remove) one of a person's contact points."""
    access.person(person_id)
    # Phone numbers are normalised with the site's country code by the handler, which refuses them.
    problem = None if channel in PHONE_ADDRESS_CHANNELS else address_problem(channel, body.address)
    if problem:
        raise ApiProblem(422, problem, errors=[{"loc": "body.address", "msg": problem}])
    return await access.run(muster.set_contact_point(access.actor, person_id, channel, body), idem)


# --- Web Push --------------------------------------------------------------------------------
@router.get("/push/key", operation_id="get_push_key")
def get_push_key(access: Access = Depends(permit("get_push_key"))) -> dict[str, str]:
    """The site's VAPID public key: the `applicationServerKey` for `pushManager.subscribe`."""
    return {"application_server_key": access.runtime.vapid_keys.application_server_key}


@router.put("/push/subscription", operation_id="subscribe_push", status_code=201)
async def subscribe_push(
    body: c.SubscribePush,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("subscribe_push")),
) -> JSONResponse:
    """This device's push subscription (its `PushSubscription.toJSON()` endpoint and keys).

    The endpoint must be `https://` on a public address (or a push service the deployment
    allow-lists, KONENUT_PUSH_ALLOW_HOSTS); anything else is 422.
    """
    refused = await access.runtime.push_endpoints.refusal_off_loop(body.endpoint)
    if refused is not None:
        reason = refused.reason
        raise ApiProblem(422, reason, errors=[{"loc": "body.endpoint", "msg": reason}])
    return await access.run(muster.subscribe_push(access.actor, body), idem)


# --- assets: keys, radios, lockers -------------------------------------------------------------
@router.get("/assets", operation_id="list_assets")
def list_assets(access: Access = Depends(permit("list_assets"))) -> list[dict[str, Any]]:
    """The site's keys, radios and lockers, and who holds each."""
    persons = access.state.persons
    return [
        {
            **a.model_dump(),
            "holder_name": persons[a.holder_person_id].name
            if a.holder_person_id in persons
            else None,
        }
        for a in sorted(list(access.state.assets.values()), key=lambda a: (a.kind, a.ref))
    ]


@router.post("/assets", operation_id="add_asset", status_code=201)
async def add_asset(
    body: c.AddAsset,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("add_asset")),
) -> JSONResponse:
    """Add a key, radio, locker... with its holder."""
    return await access.run(muster.add_asset(access.actor, body), idem)


@router.post("/assets/{asset_id}/holder", operation_id="hand_over_asset", status_code=201)
async def hand_over_asset(
    asset_id: str,
    body: c.HandOverAsset,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("hand_over_asset")),
) -> JSONResponse:
    """Record who holds the asset now (null: back in the armory)."""
    return await access.run(muster.hand_over_asset(access.actor, asset_id, body), idem)


@router.post(
    "/incidents/{incident_id}/assets/{asset_id}/request",
    operation_id="request_asset",
    status_code=201,
)
async def request_asset(
    incident_id: str,
    asset_id: str,
    body: c.RequestAsset,
    idem: IdempotencyKey = Key,
    access: Access = Depends(permit("request_asset")),
) -> JSONResponse:
    """Ask the holder of a key (or radio...) to bring it to the muster."""
    incident_for(access, incident_id)
    return await access.run(muster.request_asset(access.actor, incident_id, asset_id, body), idem)
