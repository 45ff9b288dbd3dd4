"""Inbound SMS and Telegram replies through their webhooks (issue 4, contracts §4).

A reply acknowledges the person whose number or chat sent it, in the incident whose call was
sent to that number; unknown senders, replies with nothing to answer and text that is not an
answer are refused and audited; a provider's retry is answered once; a wrong secret looks like
no route at all.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import SecretStr
from typer.testing import CliRunner

from konenut.app.replies import InboundChannel
from konenut.cli import app as cli
from konenut.domain.events import NewEvent
from konenut.domain.ids import new_id
from konenut.domain.roles import Role
from konenut.domain.state import SiteState
from konenut.notify.hooks import hook_secret
from konenut.store.eventstore import Decision

from .conftest import SITE, Site, assert_problem

A_PHONE = "+972501234567"
B_CHAT = 555000111
ADMIN, COMMANDER = Role.ADMIN, Role.COMMANDER


# --- helpers ------------------------------------------------------------------------------------
def _ok(response: httpx.Response, status: int = 201) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    return body


def _path(site: Site, channel: InboundChannel) -> str:
    return f"/api/v1/hooks/{channel}/{hook_secret(site.client.app.state.runtime.settings, channel)}"


def _sms_form(site: Site, sender: str, text: str, sid: str) -> httpx.Response:
    """As Twilio posts it."""
    form = {"From": sender, "To": "+972549999999", "Body": text, "MessageSid": sid}
    return site.client.post(_path(site, "sms"), data=form)


def _sms_json(site: Site, sender: str, text: str, message_id: str) -> httpx.Response:
    body = {"from": sender, "text": text, "message_id": message_id}
    return site.client.post(_path(site, "sms"), json=body)


def _telegram(
    site: Site, chat_id: int, text: str, update_id: int, headers: dict[str, str] | None = None
) -> httpx.Response:
    update = {
        "update_id": update_id,
        "message": {
            "message_id": 17,
            "date": 1767225600,
            "chat": {"id": chat_id, "type": "private", "first_name": "Bina"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "Bina"},
            "text": text,
        },
    }
    return site.client.post(_path(site, "telegram"), json=update, headers=headers)


def _add_responder(
    site: Site, ref: str, roles: tuple[str, ...] = ("responder",), **more: Any
) -> str:
    body = {"ref": ref, "name": f"Responder {ref}", "roles": list(roles), **more}
    return str(_ok(site.post("/api/v1/site/people", ADMIN, json=body))["person_id"])


def _contact(site: Site, person_id: str, channel: str, address: str) -> None:
    path = f"/api/v1/people/{person_id}/contacts/{channel}"
    _ok(site.call("PUT", path, ADMIN, json={"address": address}))


def _activate(site: Site, **body: Any) -> dict[str, Any]:
    return _ok(site.post("/api/v1/squad/activate", COMMANDER, json=body))


def _sent(site: Site, incident_id: str, muster_id: str, person_id: str, channel: str) -> None:
    """A muster call sent to the person on a channel, recorded as the escalator records it."""

    def decide(state: SiteState, now: datetime) -> Decision:
        incident = state.incidents[incident_id]
        payload = {
            "notification_id": new_id(),
            "muster_id": muster_id,
            "person_id": person_id,
            "step": 1,
            "channel": channel,
            "to": "•••567",
            "question": "muster",
        }
        event = NewEvent(
            "notification.sent", payload, now, incident_id=incident_id, drill=incident.drill
        )
        return Decision([event])

    site.store.execute(SITE, decide)


def _state_of(site: Site, incident_id: str, person_id: str) -> str:
    board = _ok(site.get(f"/api/v1/incidents/{incident_id}/muster", COMMANDER), 200)
    return str(next(r["state"] for r in board["people"] if r["person_id"] == person_id))


def _ours(event_type: str) -> bool:
    """Not the escalator's attempts: it runs beside the API, trying the calls tests make."""
    return not event_type.startswith("notification.")


def _stored(site: Site, since: int) -> list[str]:
    return [e.type for e in site.events_after(since) if _ours(e.type)]


def _logged(site: Site, since: int, role: Role = ADMIN) -> list[dict[str, Any]]:
    site.flush()
    events = _ok(site.get(f"/api/v1/site/events?since={since}", role), 200)["events"]
    return [e for e in events if _ours(e["type"])]


@pytest.fixture
def called(site: Site) -> dict[str, str]:
    """A (phone on their record) and B (a Telegram chat) are called in the real incident, then
    in a drill; the real call was sent to A by SMS."""
    a = _add_responder(site, "r-a", phone=A_PHONE)
    b = _add_responder(site, "r-b")
    _contact(site, b, "telegram", str(B_CHAT))
    real = _activate(site)
    drill = _activate(site, drill=True)
    _sent(site, real["incident_id"], real["muster_id"], a, "sms")
    _sent(site, drill["incident_id"], drill["muster_id"], a, "push")  # another channel
    return {"a": a, "b": b, "real": real["incident_id"], "drill": drill["incident_id"]}


# --- answers ----------------------------------------------------------------------------------
def test_sms_reply_answers_the_call_sent_to_that_number(site: Site, called: dict[str, str]) -> None:
    a, real, drill = called["a"], called["real"], called["drill"]
    head = site.head()
    answered = _ok(_sms_form(site, A_PHONE, "1", "SM0001"))
    assert answered == {"answer": "coming", "incident_id": real}
    # The real incident asked A by SMS; the drill called later, but not on this number.
    assert _state_of(site, real, a) == "coming"
    assert _state_of(site, drill, a) != "coming"
    timeline = _ok(site.get(f"/api/v1/incidents/{real}/events?since={head}", COMMANDER), 200)
    [event] = [e for e in timeline["events"] if e["type"] == "responder.status_changed"]
    assert event["payload"] == {"person_id": a, "status": "coming", "via": "sms", "note": ""}
    assert event["actor"] == a


def test_provider_retry_is_answered_once(site: Site, called: dict[str, str]) -> None:
    first = _sms_form(site, A_PHONE, "1", "SM0002")
    head = site.head()
    again = _sms_form(site, A_PHONE, "1", "SM0002")
    assert again.status_code == first.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert _stored(site, head) == []
    # The same answer under a new message id changes nothing either, and says so.
    same = _sms_form(site, A_PHONE, "yes", "SM0003")
    assert _ok(same, 200) == first.json()
    assert _stored(site, head) == []


def test_telegram_reply_in_hebrew_is_cannot(site: Site, called: dict[str, str]) -> None:
    b, drill = called["b"], called["drill"]
    answered = _ok(_telegram(site, B_CHAT, "לא", 900001))
    # Nothing was sent to B's chat yet: the reply answers B's latest call, the drill's.
    assert answered == {"answer": "cannot", "incident_id": drill}
    assert _state_of(site, drill, b) == "cannot"
    assert _state_of(site, called["real"], b) != "cannot"


def test_reply_goes_where_telegram_asked(site: Site, called: dict[str, str]) -> None:
    b, real = called["b"], called["real"]
    board = _ok(site.get(f"/api/v1/incidents/{real}/muster", COMMANDER), 200)
    _sent(site, real, board["muster"]["muster_id"], b, "telegram")
    assert _ok(_telegram(site, B_CHAT, "👍", 900002))["incident_id"] == real
    assert _state_of(site, real, b) == "coming"


def test_arabic_indic_digit_in_json(site: Site, called: dict[str, str]) -> None:
    answered = _ok(_sms_json(site, "00972 50-123-4567", "١", "gw-1"))
    assert answered == {"answer": "coming", "incident_id": called["real"]}
    assert _state_of(site, called["real"], called["a"]) == "coming"
    # "2" afterwards undoes it: a mistaken answer is one reply away.
    assert _ok(_sms_json(site, A_PHONE, "2", "gw-2"))["answer"] == "cannot"
    assert _state_of(site, called["real"], called["a"]) == "cannot"


def test_contact_point_phone_is_a_sender(site: Site, called: dict[str, str]) -> None:
    c = _add_responder(site, "r-c")
    _contact(site, c, "whatsapp", "+972527654321")
    assert _ok(_sms_form(site, "+972527654321", "כן", "SM0100"))["answer"] == "coming"
    assert _state_of(site, called["drill"], c) == "coming"


# --- rejections ---------------------------------------------------------------------------------
def test_unknown_number_is_refused_and_audited(site: Site, called: dict[str, str]) -> None:
    head = site.head()
    assert_problem(_sms_form(site, "+15550100999", "1", "SM0200"), 403, "unknown-sender")
    [audit] = _logged(site, head)
    assert audit["type"] == "audit.inbound_rejected"
    assert audit["payload"] == {
        "channel": "sms",
        "sender": "•••999",
        "reason": "unknown sender",
        "message_id": "SM0200",
    }
    assert audit["incident_id"] is None and audit["actor"] is None
    # Nothing else was stored, and only admins see the record.
    assert _stored(site, head) == ["audit.inbound_rejected"]
    assert _logged(site, head, COMMANDER) == []
    # The provider's retry is answered alike, and audited once.
    assert_problem(_sms_form(site, "+15550100999", "1", "SM0200"), 403, "unknown-sender")
    assert _stored(site, head) == ["audit.inbound_rejected"]


def test_text_that_is_not_an_answer(site: Site, called: dict[str, str]) -> None:
    head = site.head()
    assert_problem(_sms_form(site, A_PHONE, "hello", "SM0300"), 422, "not-an-answer", "1")
    [audit] = _logged(site, head)
    assert audit["payload"]["reason"] == "not an answer"
    assert audit["actor"] == called["a"]
    assert "hello" not in str(audit)
    assert _state_of(site, called["real"], called["a"]) != "coming"


def test_reply_with_no_open_question(site: Site) -> None:
    operator = _add_responder(site, "r-op", roles=("operator",), phone="+972509990001")
    head = site.head()
    assert_problem(_sms_form(site, "+972509990001", "1", "SM0400"), 409, "no-open-question")
    [audit] = _logged(site, head)
    assert audit["payload"]["reason"] == "no open question"
    assert audit["actor"] == operator


def test_closed_incident_asks_nothing(site: Site) -> None:
    a = _add_responder(site, "r-a", phone=A_PHONE)
    real = _activate(site, person_ids=[a])
    _sent(site, real["incident_id"], real["muster_id"], a, "sms")
    _ok(site.post(f"/api/v1/incidents/{real['incident_id']}/close", COMMANDER, json={}))
    assert_problem(_sms_form(site, A_PHONE, "1", "SM0500"), 409, "no-open-question")


def test_wrong_secret_is_not_found_and_guessing_is_throttled(site: Site) -> None:
    head = site.head()
    nowhere = site.client.post("/api/v1/no-such-route", data={"From": A_PHONE, "Body": "1"})
    for attempt in range(10):
        guess = site.client.post(
            f"/api/v1/hooks/sms/guess{attempt}", data={"From": A_PHONE, "Body": "1"}
        )
        assert_problem(guess, 404, "not-found")
        assert guess.json() == nowhere.json()
    # The sms secret does not open the telegram hook either.
    wrong_channel = site.client.post(
        f"/api/v1/hooks/telegram/{hook_secret(site.client.app.state.runtime.settings, 'sms')}",
        json={"update_id": 1},
    )
    assert_problem(wrong_channel, 429, "too-many-attempts")
    throttled = _sms_form(site, A_PHONE, "1", "SM0600")
    assert_problem(throttled, 429, "too-many-attempts")
    assert int(throttled.headers["retry-after"]) >= 1
    assert _stored(site, head) == []


def test_telegram_secret_header(site: Site, called: dict[str, str]) -> None:
    runtime = site.client.app.state.runtime
    secret = SecretStr("s3cr3t")
    runtime.settings = runtime.settings.model_copy(update={"telegram_webhook_secret": secret})
    head = site.head()
    assert_problem(_telegram(site, B_CHAT, "1", 900100), 403, "bad-signature")
    wrong = {"X-Telegram-Bot-Api-Secret-Token": "guess"}
    assert_problem(_telegram(site, B_CHAT, "1", 900100, wrong), 403, "bad-signature")
    assert _stored(site, head) == []
    right = {"X-Telegram-Bot-Api-Secret-Token": "s3cr3t"}
    assert _ok(_telegram(site, B_CHAT, "1", 900100, right))["answer"] == "coming"


def test_telegram_updates_that_are_not_messages_are_ignored(site: Site) -> None:
    head = site.head()
    edit = {"update_id": 900200, "edited_message": {"chat": {"id": B_CHAT}, "text": "1"}}
    assert _ok(site.client.post(_path(site, "telegram"), json=edit), 200) == {
        "ignored": "not a message"
    }
    assert _stored(site, head) == []


def test_malformed_bodies_are_refused_without_storing(site: Site) -> None:
    head = site.head()
    sms = _path(site, "sms")
    assert_problem(site.client.post(sms, data={"Body": "1"}), 422, "validation-error", "from")
    assert_problem(site.client.post(sms, content=b"{", headers=_json()), 400, "bad-request")
    assert_problem(
        site.client.post(sms, content=b"1", headers={"Content-Type": "text/plain"}),
        415,
        "unsupported-media-type",
    )
    telegram = _path(site, "telegram")
    assert_problem(site.client.post(telegram, json={"message": {}}), 422, "validation-error")
    assert _stored(site, head) == []


def _padded_sms(size_bytes: int) -> bytes:
    """A's JSON reply "1", padded with spaces to `size_bytes`."""
    body = orjson.dumps({"from": A_PHONE, "text": "1", "message_id": f"pad-{size_bytes}"})
    return body + b" " * (size_bytes - len(body))


def test_a_reply_is_limited_as_a_command_is(site: Site, called: dict[str, str]) -> None:
    """64 KiB is answered; a byte more is 413 whether its length is declared or not."""
    head = site.head()
    sms = _path(site, "sms")
    for body in (_padded_sms(64 * 1024 + 1), iter([_padded_sms(64 * 1024 + 1)])):
        refused = site.client.post(sms, content=body, headers=_json())
        assert_problem(refused, 413, "too-large", "larger than 64 KiB")
    assert _stored(site, head) == []
    answered = _ok(site.client.post(sms, content=_padded_sms(64 * 1024), headers=_json()))
    assert answered == {"answer": "coming", "incident_id": called["real"]}


def _json() -> dict[str, str]:
    return {"Content-Type": "application/json"}


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = st.sampled_from(["From", "Body", "MessageSid", "from", "text", "msisdn", "x"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    telegram=JSON,
    sms=st.dictionaries(st.sampled_from(["from", "text", "message_id", "x"]), JSON, max_size=4),
    form=st.dictionaries(FIELDS, st.text(max_size=30), max_size=4),
)
def test_no_body_makes_a_server_error(
    site: Site, telegram: Any, sms: dict[str, Any], form: dict[str, str]
) -> None:
    for response in (
        site.client.post(_path(site, "telegram"), json=telegram),
        site.client.post(_path(site, "sms"), json=sms),
        site.client.post(_path(site, "sms"), data=form),
    ):
        assert response.status_code < 500, response.text


# --- the CLI prints URLs that work --------------------------------------------------------------
def test_cli_prints_the_webhook_urls(site: Site, called: dict[str, str]) -> None:
    data_dir = site.client.app.state.runtime.settings.data_dir
    result = CliRunner().invoke(cli, ["hooks", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    urls = {
        line.split()[0]: line.split()[1]
        for line in result.output.splitlines()
        if line.startswith(("sms ", "telegram "))
    }
    assert set(urls) == {"sms", "telegram"}
    sms_path = urlsplit(urls["sms"]).path
    answered = site.client.post(sms_path, data={"From": A_PHONE, "Body": "1", "MessageSid": "c1"})
    assert _ok(answered)["answer"] == "coming"
    telegram_path = urlsplit(urls["telegram"]).path
    assert telegram_path == _path(site, "telegram")
