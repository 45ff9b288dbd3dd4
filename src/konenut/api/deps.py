"""Request dependencies: the runtime, the bearer token, permissions, incidents, idempotency keys.

Access is decided by `app/permissions.authorize` alone: `permit` asks it for the operation,
`Access.check` (and `incident_for`) for what the call reaches.
"""

from __future__ import annotations

import hashlib
import re
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
from konenut.app.permissions import Denied, Target, authorize
from konenut.app.volunteers import PendingVolunteer, is_pending
from konenut.domain.events import Scope
from konenut.domain.ids import format_time
from konenut.domain.state import IncidentView, SiteState, TokenView
from konenut.store.eventstore import Decide, IdempotencyKey, Outcome

bearer = HTTPBearer(auto_error=False, description="Device token from enrollment")

IDEMPOTENCY_KEY_MAX_CHARS = 128
IDEMPOTENCY_KEY_PATTERN = r"^[\x21-\x7e]+$"  # printable ASCII, no spaces
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)


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
        return denial(self.runtime, self.actor, self.operation, reason)

    async def execute(self, decide: Decide, idem: IdempotencyKey) -> Outcome:
        """Run a command under this device's idempotency keys (contracts §3)."""
        scoped = replace(idem, scope=self.actor.token_id)
        return await self.runtime.run(self.actor.site_id, decide, scoped)

    async def run(self, decide: Decide, idem: IdempotencyKey) -> JSONResponse:
        """Run a command and answer as contracts §3 says."""
        return command_response(await self.execute(decide, idem))

    def check(self, target: Target) -> None:
        """403 (recorded) unless `authorize` lets this call reach `target`."""
        decided = authorize(self.actor, self.operation, target)
        if isinstance(decided, Denied):
            raise self.deny(decided.reason)

    def incident(self, incident_id: str) -> None:
        """Incident-bound tokens (guest, volunteer, liaison) reach only their incident."""
        self.check(Target(incident_id=incident_id))

    def household(self, household_id: str) -> None:
        self.check(Target(household_id=household_id))

    def person(self, person_id: str | None) -> None:
        self.check(Target(subject_id=person_id))


def denial(runtime: Runtime, actor: Actor, operation: str, reason: str) -> ApiProblem:
    """The 403 to raise, recorded as a denial (api/denials.py)."""
    runtime.denials.deny(actor, operation, reason)
    return ApiProblem(403, reason)


def permitted(runtime: Runtime, actor: Actor, operation: str) -> Access:
    """The actor's access to `operation` (what `permit` gives the route); 403 when denied."""
    decided = authorize(actor, operation, Target())
    if isinstance(decided, Denied):
        raise denial(runtime, actor, operation, decided.reason)
    return Access(actor, decided, runtime, operation)


def permit(operation: str) -> Callable[..., Awaitable[Access]]:
    """A dependency that authenticates and checks the permission matrix for `operation`."""

    async def dependency(
        actor: Actor = Depends(authenticate), runtime: Runtime = Depends(get_runtime)
    ) -> Access:
        return permitted(runtime, actor, operation)

    dependency.__name__ = f"permit_{operation}"
    return dependency


def incident_for(access: Access, incident_id: str) -> IncidentView:
    """The incident a call is about: 403 when the caller may not reach it, 404 when none."""
    access.incident(incident_id)
    incident = access.state.incidents.get(incident_id)
    if incident is None:
        raise ApiProblem(404, f"no incident {incident_id}")
    return incident


async def idempotency_key(
    request: Request,
    key: str = Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=IDEMPOTENCY_KEY_MAX_CHARS,
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Unique per command; a retry with the same key and body is answered once",
    ),
) -> IdempotencyKey:
    """The Idempotency-Key header with a hash of the request it came with (contracts §3).

    The scope (token, pass or code) is filled in by `Access.run` or the enrollment route.
    """
    return keyed(request, key, await request.body())


def well_formed_key(key: str) -> bool:
    """Whether an Idempotency-Key header is one `idempotency_key` accepts."""
    return len(key) <= IDEMPOTENCY_KEY_MAX_CHARS and _IDEMPOTENCY_KEY.fullmatch(key) is not None


def keyed(request: Request, key: str, body: bytes) -> IdempotencyKey:
    """The key with a hash of the request it came with (contracts §3)."""
    hashed = request_hash(request.method, request.url.path, body)
    return IdempotencyKey(scope="", key=key, request_hash=hashed)


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
