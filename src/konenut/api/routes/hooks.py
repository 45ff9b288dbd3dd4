"""Inbound reply webhooks: SMS gateways and Telegram deliver a responder's "1"/"2" here,
and a resident's "1"-"5" to a broadcast (a household check-in).

No token (contracts §4): each channel has its own secret path segment, derived from one
key (`KONENUT_INBOUND_SECRET`, else the `inbound_secret` file in the data dir), and Telegram's
own secret header is checked when one is configured. A wrong secret is the same 404 as a path
that does not exist, and an address that keeps guessing gets 429. A body is limited as a
command's is (api/limits.py: 64 KiB; a reply is a few hundred bytes, a Telegram update a few KB).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any
from urllib.parse import parse_qs

import structlog
from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from konenut.api import problems
from konenut.api.deps import get_runtime
from konenut.api.problems import ApiProblem
from konenut.api.runtime import Runtime
from konenut.api.throttle import FailureThrottle, refuse_guessers
from konenut.app.replies import InboundChannel, InboundReply, answer_reply
from konenut.domain.phones import normalise_phone, site_country_code
from konenut.notify.hooks import HOOK_CHANNELS, HOOKS_PATH, hook_secret
from konenut.store.eventstore import IdempotencyKey, Outcome

log = structlog.get_logger(__name__)

router = APIRouter(prefix=HOOKS_PATH, tags=["hooks"])

MAX_TEXT_CHARS = 4096  # Telegram's own limit; the answer is read from the start
TELEGRAM_SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
FORM = "application/x-www-form-urlencoded"
# Field names of SMS gateways' form posts: Twilio first, then Vonage, Plivo and the like.
SMS_FORM_FIELDS = {
    "from": ("From", "from", "msisdn", "sender"),
    "text": ("Body", "body", "Text", "text", "message"),
    "message_id": ("MessageSid", "SmsSid", "MessageUUID", "messageId", "message_id", "id"),
}


def _app_state(request: Request) -> Any:
    return request.app.state


def _throttle(request: Request) -> FailureThrottle:
    state = _app_state(request)
    throttle: FailureThrottle | None = getattr(state, "hook_throttle", None)
    if throttle is None:
        throttle = state.hook_throttle = FailureThrottle()
    return throttle


def _expected_secret(request: Request, runtime: Runtime, channel: InboundChannel) -> str:
    state = _app_state(request)
    known: dict[str, str] | None = getattr(state, "hook_secrets", None)
    if known is None:
        known = state.hook_secrets = {c: hook_secret(runtime.settings, c) for c in HOOK_CHANNELS}
    return known[channel]


def _check_secret(
    request: Request, runtime: Runtime, channel: InboundChannel, given: str, header: str | None
) -> None:
    """404 (as for no route at all) for a wrong path secret; 429 for an address that guesses."""
    throttle = _throttle(request)
    address = refuse_guessers(
        throttle, request, "too many wrong webhook addresses from this address; wait a minute"
    )
    expected = _expected_secret(request, runtime, channel)
    if not hmac.compare_digest(given.encode(), expected.encode()):
        throttle.record_failure(address)
        raise ApiProblem(404, "Not Found")
    wanted = runtime.settings.telegram_webhook_secret
    if channel == "telegram" and wanted is not None and wanted.get_secret_value():
        sent = (header or "").encode()
        if not hmac.compare_digest(sent, wanted.get_secret_value().encode()):
            throttle.record_failure(address)
            raise ApiProblem(403, f"{TELEGRAM_SECRET_HEADER} does not match", slug="bad-signature")


def _invalid(exc: ValidationError) -> ApiProblem:
    errors = [
        {"loc": ".".join(str(p) for p in e["loc"]), "msg": str(e["msg"])} for e in exc.errors()
    ]
    first = errors[0] if errors else {"loc": "", "msg": "invalid"}
    return ApiProblem(422, f"{first['loc']}: {first['msg']}", "validation-error", errors)


def _json_object(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiProblem(400, "the body is not JSON", slug="bad-request") from None


# --- SMS --------------------------------------------------------------------------------------
class SmsReply(BaseModel):
    """An SMS reply as JSON, for gateways that post JSON."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    sender: str = Field(alias="from", min_length=1, max_length=64, description="+E.164")
    text: str = Field(max_length=MAX_TEXT_CHARS)
    message_id: str | None = Field(
        default=None, min_length=1, max_length=128, pattern=r"^[\x21-\x7e]+$"
    )


def _sms_reply(content_type: str, body: bytes, country_code: str) -> InboundReply:
    if content_type.startswith(FORM):
        form = parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)
        raw: Any = {
            name: next((form[a][0] for a in aliases if a in form), None)
            for name, aliases in SMS_FORM_FIELDS.items()
        }
    elif content_type.startswith("application/json") or not content_type:
        raw = _json_object(body)
    else:
        raise ApiProblem(415, f"send {FORM} (Twilio style) or application/json")
    try:
        reply = SmsReply.model_validate(raw)
    except ValidationError as exc:
        raise _invalid(exc) from None
    sender = normalise_phone(reply.sender, country_code) or reply.sender.strip()
    return InboundReply("sms", (sender,), reply.text, reply.message_id)


# --- Telegram ---------------------------------------------------------------------------------
class _Telegram(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TelegramUser(_Telegram):
    id: int
    username: str | None = Field(default=None, max_length=64)


class TelegramChat(_Telegram):
    id: int


class TelegramSticker(_Telegram):
    emoji: str | None = Field(default=None, max_length=16)


class TelegramMessage(_Telegram):
    chat: TelegramChat
    sender: TelegramUser | None = Field(default=None, alias="from")
    text: str | None = Field(default=None, max_length=MAX_TEXT_CHARS)
    sticker: TelegramSticker | None = None


class TelegramCallback(_Telegram):
    """A tap on an inline button under the bot's message."""

    sender: TelegramUser = Field(alias="from")
    message: TelegramMessage | None = None
    data: str | None = Field(default=None, max_length=64)


class TelegramUpdate(_Telegram):
    update_id: int
    message: TelegramMessage | None = None
    callback_query: TelegramCallback | None = None


def _telegram_reply(update: TelegramUpdate) -> InboundReply | None:
    """The reply in a Telegram update, or None for updates that are not one (edits, joins)."""
    message, text = update.message, None
    user = message.sender if message else None
    if message is not None:
        text = message.text or (message.sticker.emoji if message.sticker else None)
    elif update.callback_query is not None:
        callback = update.callback_query
        user, message, text = callback.sender, callback.message, callback.data
    else:
        return None
    senders: list[str] = []
    if user is not None:
        senders.append(str(user.id))
        if user.username:
            senders.append("@" + user.username.casefold())
    if message is not None and str(message.chat.id) not in senders:
        senders.append(str(message.chat.id))
    return InboundReply("telegram", tuple(senders), text or "", str(update.update_id))


# --- answering --------------------------------------------------------------------------------
def _idempotency(reply: InboundReply) -> IdempotencyKey | None:
    """The provider's message id is the key (contracts §4): its retries are answered once."""
    if reply.message_id is None:
        return None
    digest = hashlib.sha256("\n".join([*reply.senders, reply.text]).encode()).hexdigest()
    return IdempotencyKey(scope="hook:" + reply.channel, key=reply.message_id, request_hash=digest)


def _response(outcome: Outcome) -> JSONResponse:
    headers = {"Idempotent-Replayed": "true"} if outcome.replayed else None
    problem = outcome.body.get("problem")
    if problem is not None:
        return problems.problem(outcome.status, problem["detail"], problem["slug"], headers=headers)
    body = {k: outcome.body.get(k) for k in ("answer", "incident_id")}
    return JSONResponse(body, status_code=outcome.status, headers=headers)


async def _answer(runtime: Runtime, reply: InboundReply) -> JSONResponse:
    outcome = await runtime.run(runtime.site_id, answer_reply(reply), _idempotency(reply))
    return _response(outcome)


def _text_schema(**properties: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties}


STR: dict[str, Any] = {"type": "string"}
INT: dict[str, Any] = {"type": "integer"}
SMS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    **_text_schema(From=STR, Body=STR, MessageSid=STR),
                    "required": ["From", "Body"],
                }
            },
            "application/json": {
                "schema": {
                    **_text_schema(**{"from": STR, "text": STR, "message_id": STR}),
                    "required": ["from", "text"],
                }
            },
        },
    }
}
TELEGRAM_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    **_text_schema(
                        update_id=INT,
                        message=_text_schema(
                            chat={**_text_schema(id=INT), "required": ["id"]},
                            text=STR,
                            **{"from": _text_schema(id=INT, username=STR)},
                        ),
                    ),
                    "required": ["update_id"],
                }
            }
        },
    }
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "The same answer again: nothing new recorded"},
    201: {"description": "The answer is recorded as the person's muster status"},
    403: {"description": "unknown-sender: no one here has this number or chat"},
    404: {"description": "Not found (also: a wrong secret)"},
    409: {"description": "no-open-question: nothing open was asked of this person"},
    422: {"description": "not-an-answer, or a malformed body"},
    429: {"description": "too many wrong secrets from this address"},
}


@router.post(
    "/sms/{secret}",
    operation_id="receive_sms_reply",
    status_code=201,
    openapi_extra=SMS_BODY,
    responses=RESPONSES,
)
async def receive_sms_reply(
    secret: str, request: Request, runtime: Runtime = Depends(get_runtime)
) -> JSONResponse:
    """An SMS reply to a muster call ("1" coming, "2" cannot) or to a household's broadcast
    ("1" safe ... "5" not home), or the same in words in five languages.

    Form-encoded as Twilio posts it (From, Body, MessageSid), or JSON
    `{"from": "+9725...", "text": "1", "message_id": "..."}`.
    """
    _check_secret(request, runtime, "sms", secret, None)
    body = await request.body()
    country_code = site_country_code(runtime.store.state(runtime.site_id))
    content_type = request.headers.get("content-type", "")
    return await _answer(runtime, _sms_reply(content_type, body, country_code))


@router.post(
    "/telegram/{secret}",
    operation_id="receive_telegram_reply",
    status_code=201,
    openapi_extra=TELEGRAM_BODY,
    responses=RESPONSES,
)
async def receive_telegram_reply(
    secret: str, request: Request, runtime: Runtime = Depends(get_runtime)
) -> JSONResponse:
    """A Telegram Update (setWebhook) with a reply to the bot's muster call."""
    _check_secret(request, runtime, "telegram", secret, request.headers.get(TELEGRAM_SECRET_HEADER))
    raw = _json_object(await request.body())
    try:
        update = TelegramUpdate.model_validate(raw)
    except ValidationError as exc:
        raise _invalid(exc) from None
    reply = _telegram_reply(update)
    if reply is None:
        return JSONResponse({"ignored": "not a message"}, status_code=200)
    return await _answer(runtime, reply)
