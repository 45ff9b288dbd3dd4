"""Apprise delivering to a real local HTTP receiver (json:// and form://), failures isolated."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from urllib.parse import parse_qs, unquote

import pytest

from helpers import run_async
from konenut.app.channels import Channel, DeliveryResult, OutboundMessage, Recipient
from konenut.notify.apprise_channel import AppriseChannel, redact, safe_url
from notify.receivers import Receiver
from notify.receivers import free_port as _free_port

ACK_URL = "https://konenut.example/he/ack#T0KEN-abc"
HELD_WAIT_SECS = 5.0  # how long a test waits for a hanging receiver to hold every request


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


def test_messages_on_one_channel_reach_the_provider_on_one_connection(
    receiver_factory: Callable[..., Receiver],
) -> None:
    """No message pays for a connection (and, to a real provider, a TLS handshake) of its own."""
    provider = receiver_factory(keep_alive=True)
    channel = AppriseChannel("sms", f"json://127.0.0.1:{provider.port}/sms/{{phone}}")
    phones = [f"+97250000000{i}" for i in range(5)]

    async def run() -> list[DeliveryResult]:
        return [await channel.send(_to(phone, f"Muster {phone}", "en")) for phone in phones]

    results = run_async(run())
    assert [r.sent for r in results] == [True] * len(phones), results
    assert [unquote(r.path) for r in provider.requests] == [f"/sms/{p}" for p in phones]
    assert [r.json()["message"] for r in provider.requests] == [f"Muster {p}" for p in phones]
    assert provider.connections() == 1


SIGNAL_FROM = "+15550001111"


def _to(phone: str, body: str, lang: str) -> OutboundMessage:
    return OutboundMessage(
        channel="signal",
        recipient=Recipient(person_id=f"p-{phone}", phone=phone),
        title="",
        body=body,
        lang=lang,
        ack_url=ACK_URL,
        tag="muster-42",
    )


def _send_together(
    channel: AppriseChannel, messages: list[OutboundMessage]
) -> list[DeliveryResult]:
    async def run() -> list[DeliveryResult]:
        return list(await asyncio.gather(*(channel.send(m) for m in messages)))

    return run_async(run())


def test_a_provider_taking_several_recipients_gets_one_request_per_text(
    receiver_factory: Callable[..., Receiver],
) -> None:
    """`batch=yes` on a provider whose Apprise plugin sends to several numbers in one request
    (Signal's REST API): the same text to three people is one request; each message still has
    its own outcome, and each person their own language."""
    provider = receiver_factory(status=201)
    batched = f"signal://127.0.0.1:{provider.port}/{SIGNAL_FROM}/{{phone}}?batch=yes"
    hebrew = [f"+97250111111{i}" for i in range(3)]
    messages = [_to(p, HEBREW_BODY, "he") for p in hebrew] + [_to("+66812345678", THAI_BODY, "th")]

    results = _send_together(AppriseChannel("signal", batched), messages)

    assert [r.sent for r in results] == [True] * 4, results
    sent = sorted((r.json() for r in provider.requests), key=lambda p: len(p["recipients"]))
    assert [(p["recipients"], p["message"]) for p in sent] == [
        (["+66812345678"], THAI_BODY),
        (hebrew, HEBREW_BODY),
    ]


def test_a_refused_request_fails_every_message_it_carried_and_no_other(
    receiver_factory: Callable[..., Receiver],
) -> None:
    refusing = receiver_factory(status=500, body=b"quota exceeded for +972501111110")
    batched = f"signal://127.0.0.1:{refusing.port}/{SIGNAL_FROM}/{{phone}}?batch=yes"
    messages = [_to(f"+97250111111{i}", HEBREW_BODY, "he") for i in range(3)]
    no_phone = replace(messages[0], recipient=Recipient(person_id="p-none"))

    results = _send_together(AppriseChannel("signal", batched), [*messages, no_phone])

    assert len(refusing.requests) == 1
    assert [r.sent for r in results] == [False] * 4
    assert {r.detail for r in results[:3]} == {results[0].detail}
    assert "500" in results[0].detail and "quota" not in results[0].detail  # no remote body
    assert results[3].detail == "recipient has no phone"


def test_without_batch_each_message_is_its_own_request(
    receiver_factory: Callable[..., Receiver],
) -> None:
    provider = receiver_factory(status=201)
    single = f"signal://127.0.0.1:{provider.port}/{SIGNAL_FROM}/{{phone}}"
    messages = [_to(f"+97250111111{i}", HEBREW_BODY, "he") for i in range(3)]

    results = _send_together(AppriseChannel("signal", single), messages)

    assert [r.sent for r in results] == [True] * 3
    assert sorted(r.json()["recipients"][0] for r in provider.requests) == sorted(
        m.recipient.phone or "" for m in messages
    )


def test_a_slow_provider_gets_every_send_in_flight_at_once(
    receiver_factory: Callable[..., Receiver],
) -> None:
    """Apprise does not hold the sends back to its own small pool (cpu_count + 4 threads, at most
    32): a gateway answering slowly still gets the whole muster at once, not in rounds."""
    in_flight = 40
    provider = receiver_factory(hang=True, hang_secs=2 * HELD_WAIT_SECS)  # until released
    channel = AppriseChannel("sms", f"json://127.0.0.1:{provider.port}/sms/{{phone}}")
    messages = [_to(f"+9725000000{i:02}", "Muster", "en") for i in range(in_flight)]

    async def run() -> list[DeliveryResult]:
        # As the escalator's loop does: one worker thread per send in flight (app/sending.py).
        asyncio.get_running_loop().set_default_executor(ThreadPoolExecutor(in_flight))
        sends = asyncio.gather(*(channel.send(m) for m in messages))
        deadline = time.monotonic() + HELD_WAIT_SECS
        while len(provider.requests) < in_flight and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        provider.release.set()
        return list(await sends)

    results = run_async(run())
    assert [r.sent for r in results] == [True] * in_flight
    assert provider.most_held == in_flight


def test_a_proxy_set_in_the_environment_still_carries_every_send(
    receiver_factory: Callable[..., Receiver], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The channel's session reads HTTP_PROXY once per provider, and still obeys it."""
    proxy = receiver_factory(keep_alive=True)
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.port}")
    channel = AppriseChannel("sms", "json://gateway.invalid/sms/{phone}")
    phones = ["+972500000001", "+972500000002"]

    async def run() -> list[DeliveryResult]:
        return [await channel.send(_to(phone, "Muster", "en")) for phone in phones]

    assert [r.sent for r in run_async(run())] == [True, True]
    assert [unquote(r.path) for r in proxy.requests] == [
        f"http://gateway.invalid/sms/{p}" for p in phones
    ]
