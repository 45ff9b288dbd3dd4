"""Apprise delivering to a real local HTTP receiver (json:// and form://), failures isolated."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from urllib.parse import parse_qs, unquote

import pytest

from helpers import run_async
from konenut.app.channels import Channel, DeliveryResult, OutboundMessage, Recipient
from konenut.notify.apprise_channel import AppriseChannel, redact, safe_url
from notify.receivers import Receiver
from notify.receivers import free_port as _free_port

ACK_URL = "https://konenut.example/he/ack#T0KEN-abc"


def _message(body: str, lang: str, title: str = "Konenut") -> OutboundMessage:
    return OutboundMessage(
        channel="sms",
        recipient=Recipient(person_id="p-1", phone="+972501234567", telegram_chat="-100123"),
        title=title,
        body=f"{body} {ACK_URL}",
        lang=lang,
        ack_url=ACK_URL,
        tag="muster-42",
    )


HEBREW_BODY = "חדירת מחבלים: הגיעו חמושים לנשקייה. השיבו 1 מגיע, 2 לא יכול"
THAI_BODY = "มีผู้บุกรุก มาพร้อมอาวุธที่คลังอาวุธ ตอบ 1 มา 2 ไม่ได้"


def test_json_delivers_hebrew_and_thai_with_ack_link(
    receiver_factory: Callable[..., Receiver],
) -> None:
    receiver = receiver_factory()
    channel = AppriseChannel("sms", f"json://127.0.0.1:{receiver.port}/hook/{{phone}}")
    assert isinstance(channel, Channel)

    async def run() -> list[DeliveryResult]:
        return [
            await channel.send(_message(HEBREW_BODY, "he", title="התראה")),
            await channel.send(_message(THAI_BODY, "th", title="แจ้งเตือน")),
        ]

    results = run_async(run())
    assert [r.sent for r in results] == [True, True], results
    assert len(receiver.requests) == 2
    hebrew, thai = (json.loads(r.body.decode("utf-8")) for r in receiver.requests)
    assert hebrew["title"] == "התראה"
    assert hebrew["message"] == f"{HEBREW_BODY} {ACK_URL}"
    assert thai["title"] == "แจ้งเตือน"
    assert thai["message"] == f"{THAI_BODY} {ACK_URL}"
    assert ACK_URL in thai["message"]
    # The phone number was URL-quoted into the template and reached the receiver's path.
    assert unquote(receiver.requests[0].path) == "/hook/+972501234567"


def test_form_delivers_text(receiver_factory: Callable[..., Receiver]) -> None:
    receiver = receiver_factory()
    channel = AppriseChannel("telegram", f"form://127.0.0.1:{receiver.port}/tg/{{telegram}}")
    result = run_async(channel.send(_message(HEBREW_BODY, "he", title="התראה")))
    assert result.sent, result
    (request,) = receiver.requests
    assert request.content_type.startswith("application/x-www-form-urlencoded")
    fields = parse_qs(request.body.decode("ascii"))
    assert fields["title"] == ["התראה"]
    assert fields["message"] == [f"{HEBREW_BODY} {ACK_URL}"]
    assert unquote(request.path) == "/tg/-100123"


def test_receiver_500_is_a_failure_with_reason(receiver_factory: Callable[..., Receiver]) -> None:
    receiver = receiver_factory(status=500)
    channel = AppriseChannel("sms", f"json://127.0.0.1:{receiver.port}/hook")
    result = run_async(channel.send(_message("Muster at the armory", "en")))
    assert not result.sent
    assert "500" in result.detail, result.detail
    assert len(receiver.requests) == 1


def test_unreachable_port_fails_within_timeout() -> None:
    channel = AppriseChannel("sms", f"json://127.0.0.1:{_free_port()}/hook", timeout_secs=5.0)

    async def run() -> tuple[DeliveryResult, float]:
        started = time.monotonic()
        result = await channel.send(_message("Muster at the armory", "en"))
        return result, time.monotonic() - started

    result, elapsed_secs = run_async(run())
    assert not result.sent and result.detail
    assert elapsed_secs < 5.5


def test_hanging_provider_times_out(receiver_factory: Callable[..., Receiver]) -> None:
    receiver = receiver_factory(hang=True)
    channel = AppriseChannel("sms", f"json://127.0.0.1:{receiver.port}/hook", timeout_secs=1.0)

    async def run() -> tuple[DeliveryResult, float]:
        started = time.monotonic()
        result = await channel.send(_message("Muster at the armory", "en"))
        return result, time.monotonic() - started

    result, elapsed_secs = run_async(run())
    assert not result.sent
    assert "no answer within 1 s" in result.detail
    assert elapsed_secs < 2.0


def test_failing_channel_does_not_block_a_healthy_one(
    receiver_factory: Callable[..., Receiver],
) -> None:
    healthy = receiver_factory()
    hanging = receiver_factory(hang=True)
    broken = AppriseChannel("sms", f"json://127.0.0.1:{hanging.port}/x", timeout_secs=2.0)
    dead = AppriseChannel("signal", f"json://127.0.0.1:{_free_port()}/x", timeout_secs=2.0)
    good = AppriseChannel("telegram", f"json://127.0.0.1:{healthy.port}/ok", timeout_secs=2.0)

    async def run() -> tuple[list[DeliveryResult], float]:
        first_done: list[float] = []
        started = time.monotonic()

        async def timed(channel: AppriseChannel) -> DeliveryResult:
            result = await channel.send(_message(HEBREW_BODY, "he"))
            if channel is good:
                first_done.append(time.monotonic() - started)
            return result

        results = await asyncio.gather(timed(broken), timed(dead), timed(good))
        return list(results), first_done[0]

    (r_broken, r_dead, r_good), good_after_secs = run_async(run())
    assert not r_broken.sent and not r_dead.sent
    assert r_good.sent, r_good
    assert good_after_secs < 2.0  # did not wait for the hanging provider
    (request,) = healthy.requests
    assert json.loads(request.body)["message"].startswith(HEBREW_BODY)


def test_missing_address_and_unknown_placeholder() -> None:
    channel = AppriseChannel("telegram", "tgram://123456789:SECRETtokenABCDEF/{telegram}")
    message = _message("x", "en")
    no_chat = OutboundMessage(
        channel="telegram",
        recipient=Recipient(person_id="p-2", phone="+972500000000"),
        title=message.title,
        body=message.body,
        lang="en",
        ack_url=ACK_URL,
        tag="t",
    )
    result = run_async(channel.send(no_chat))
    assert not result.sent and result.detail == "recipient has no telegram"
    with pytest.raises(ValueError, match="unknown placeholder"):
        AppriseChannel("x", "json://host/{nope}")


def test_secrets_never_shown() -> None:
    url = "tgram://123456789:SECRETtokenABCDEF/-100123"
    channel = AppriseChannel("telegram", url)
    assert "SECRET" not in repr(channel)
    assert "SECRET" not in safe_url(url)
    assert "SECRET" not in redact(f"failed to post to {url} with 123456789:SECRETtokenABCDEF", url)
    sms = "twilio://ACsid0000:authTOKEN99@%2B15550001111/%2B972501234567"
    assert redact("to +972501234567 via authTOKEN99", sms) == "to *** via ***"
