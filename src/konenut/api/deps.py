"""Request dependencies: the runtime, the bearer token, permissions, idempotency keys."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import datetime

import orjson
from fastapi import Depends, Header, Request
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from konenut.api.problems import ApiProblem
from konenut.api.runtime import Runtime
from konenut.app.identity import Actor, hash_secret
from konenut.app.permissions import PENDING_VOLUNTEER_OPERATIONS, allowed_scope
from konenut.app.volunteers import PendingVolunteer, is_pending
from konenut.domain.events import Scope
from konenut.domain.ids import format_time
from konenut.domain.state import SiteState, TokenView
from konenut.store.eventstore import Decide, IdempotencyKey, Outcome

bearer = HTTPBearer(auto_error=False, description="Device token from enrollment")

IDEMPOTENCY_KEY_MAX_CHARS = 128


# Dependencies that only read memory are `async`: FastAPI runs plain `def` dependencies in its
# thread pool, and those hops cost more than the work (several per request).
async def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def authenticate(
    credentials: HTTPAuthorizationCredentials | None = Depends(bearer),
    runtime: Runtime = Depends(get_runtime),
) -> Actor:
    """The caller behind the bearer token; 401 when it is missing, unknown, revoked or expired."""
    if credentials is None or not credentials.credentials:
        raise ApiProblem(
            401,
            "send your device token as 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return actor_for_token(runtime, credentials.credentials)


def actor_for_token(runtime: Runtime, token: str) -> Actor:
    """The caller behind a device token (HTTP bearer or the stream's auth message).

    ApiProblem 401 when the token is unknown, revoked or expired, or its incident is closed.
    """
    state = runtime.store.state(runtime.site_id)
    now = runtime.store.clock()
    return checked_actor(state, state.token_by_hash(hash_secret(token)), now)


def checked_actor(state: SiteState, token: TokenView | None, now: datetime) -> Actor:
    """The actor of an enrolled token that still works; ApiProblem 401 otherwise.

    The stream calls this again for open connections when a token is revoked or at heartbeats.
    """
    if token is None:
        raise ApiProblem(
            401,
            "this device token is not known here; enrol the device again",
            slug="token-unknown",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if token.revoked_at is not None:
        raise ApiProblem(
            401,
            f"this device was revoked at {token.revoked_at}",
            slug="token-revoked",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # The store's clock, not the wall's: an accelerated drill expires passes on its own time.
    if token.expires_at is not None and token.expires_at <= format_time(now):
        raise ApiProblem(
            401,
            f"this device's access expired at {token.expires_at}",
            slug="token-expired",
            headers={"WWW-Authenticate": "Bearer"},
        )
    incident = state.incidents.get(token.incident_id) if token.incident_id else None
    if incident is not None and not incident.is_open:
        raise ApiProblem(
            401,
            f"this pass was for incident {incident.ref}, which is closed",
            slug="token-expired",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if not token.roles:  # the person no longer holds any role the device was enrolled with
        raise ApiProblem(
            401,
            "this device's roles were taken from its holder; ask an admin to enrol it again",
            slug="token-outdated",
            headers={"WWW-Authenticate": "Bearer"},
        )
    if is_pending(state, token):
        return PendingVolunteer.from_token(state.site_id, token)
    return Actor.from_token(state.site_id, token)


@dataclass(frozen=True)
class Access:
    """An authorised call: who, and the scope the matrix grants for this operation."""

    actor: Actor
    scope: Scope
    runtime: Runtime
    operation: str

    @property
    def state(self) -> SiteState:
        return self.runtime.store.state(self.actor.site_id)

    def deny(self, reason: str) -> ApiProblem:
        self.runtime.denials.deny(self.actor, self.operation, reason)
        return ApiProblem(403, reason)

    async def execute(self, decide: Decide, idem: IdempotencyKey) -> Outcome:
        """Run a command under this device's idempotency keys (contracts §3)."""
        scoped = replace(idem, scope=self.actor.token_id)
        return await self.runtime.run(self.actor.site_id, decide, scoped)

    async def run(self, decide: Decide, idem: IdempotencyKey) -> JSONResponse:
        """Run a command and answer as contracts §3 says."""
        return command_response(await self.execute(decide, idem))

    def incident(self, incident_id: str) -> None:
        """Incident-bound tokens (guest, volunteer, liaison) reach only their incident."""
        bound = self.actor.incident_id
        if bound is not None and bound != incident_id:
            raise self.deny("this device's access is limited to another incident")

    def household(self, household_id: str) -> None:
        if self.scope is Scope.OWN and household_id != self.actor.household_id:
            raise self.deny("you may act only for your own household")

    def person(self, person_id: str | None) -> None:
        if self.scope is Scope.OWN and person_id not in (None, self.actor.subject_id):
            raise self.deny("you may act only for yourself")


def permit(operation: str) -> Callable[..., Awaitable[Access]]:
    """A dependency that authenticates and checks the permission matrix for `operation`."""

    async def dependency(
        actor: Actor = Depends(authenticate), runtime: Runtime = Depends(get_runtime)
    ) -> Access:
        scope = allowed_scope(operation, actor.roles)
        access = Access(actor, scope or Scope.OWN, runtime, operation)
        if isinstance(actor, PendingVolunteer) and operation not in PENDING_VOLUNTEER_OPERATIONS:
            raise access.deny("waiting for a commander's approval to join this incident")
        if scope is None:
            raise access.deny(
                f"the role(s) {', '.join(sorted(actor.roles))} "
                f"may not {operation.replace('_', ' ')}"
            )
        return access

    dependency.__name__ = f"permit_{operation}"
    return dependency


async def idempotency_key(
    request: Request,
    key: str = Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX_CHARS,
        pattern=r"^[\x21-\x7e]+$",
        description="Unique per command; a retry with the same key and body is answered once",
    ),
) -> IdempotencyKey:
    """The Idempotency-Key header with a hash of the request it came with (contracts §3).

    The scope (token, pass or code) is filled in by `Access.run` or the enrollment route.
    """
    body = await request.body()
    return IdempotencyKey(
        scope="", key=key, request_hash=request_hash(request.method, request.url.path, body)
    )


def request_hash(method: str, path: str, body: bytes) -> str:
    """What a replayed key's request must match: method, path and body (contracts §3).

    A JSON body counts by its value, as canonical JSON (sorted keys, no insignificant
    whitespace), so a retry that re-serialises the same fields replays; any other body
    (a photo upload) counts by its bytes.
    """
    digest = hashlib.sha256()
    digest.update(method.encode() + b" " + path.encode() + b"\n")
    digest.update(_canonical_json(body))
    return digest.hexdigest()


def _canonical_json(body: bytes) -> bytes:
    """`body` as canonical JSON when it is JSON, else unchanged."""
    try:
        return orjson.dumps(orjson.loads(body), option=orjson.OPT_SORT_KEYS)
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        return body


def command_response(outcome: Outcome) -> JSONResponse:
    """201 with the appended events, 200 when nothing changed, or the stored replay."""
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)
