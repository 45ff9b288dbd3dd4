"""Web Push to a real local push endpoint that verifies the VAPID JWT and decrypts the payload."""

from __future__ import annotations

import json
import stat
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from helpers import run_async
from konenut.app.channels import Channel, OutboundMessage, PushSubscription, Recipient
from konenut.notify.push_endpoints import PushEndpointPolicy
from konenut.notify.webpush import (
    PUSH_TTL_SECS,
    VAPID_PRIVATE_KEY_NAME,
    WebPushChannel,
    load_or_create_vapid_keys,
)
from notify.receivers import (
    LOCAL_PUSH,
    LOCATION,
    PUSH_PATH,
    Browser,
    Delivered,
    Receiver,
    b64url,
    b64url_decode,
    verify_vapid,
)
from notify.receivers import free_port as _free_port

SUBJECT = "mailto:squad-admin@alumim.example"
ACK_URL = "https://konenut.example/he/ack#T0KEN-abc"


def _message(subscription: PushSubscription | None, tag: str = "muster-42") -> OutboundMessage:
    return OutboundMessage(
        channel="webpush",
        recipient=Recipient(person_id="p-1", push_subscription=subscription),
        title="התראה: חדירת מחבלים",
        body="הגיעו חמושים לנשקייה",
        lang="he",
        ack_url=ACK_URL,
        tag=tag,
    )


def test_vapid_keys_created_private_and_reloaded(tmp_path: Path) -> None:
    keys = load_or_create_vapid_keys(tmp_path / "data")
    assert keys.created
    path = tmp_path / "data" / VAPID_PRIVATE_KEY_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    raw = b64url_decode(keys.application_server_key)
    assert len(raw) == 65 and raw[0] == 4  # uncompressed P-256 point
    again = load_or_create_vapid_keys(tmp_path / "data")
    assert not again.created
    assert again.application_server_key == keys.application_server_key


def test_push_verified_and_decrypted(
    tmp_path: Path, push_service: Callable[[Browser, int], tuple[str, list[Delivered]]]
) -> None:
    browser = Browser()
    endpoint, delivered = push_service(browser, 201)
    keys = load_or_create_vapid_keys(tmp_path)
    channel = WebPushChannel(keys, SUBJECT, endpoints=LOCAL_PUSH)
    assert isinstance(channel, Channel)

    result = run_async(channel.send(_message(browser.subscription(endpoint))))

    assert result.sent, result
    assert result.provider_message_id == LOCATION
    (push,) = delivered
    assert push.payload == {
        "title": "התראה: חדירת מחבלים",
        "body": "הגיעו חמושים לנשקייה",
        "lang": "he",
        "ack_url": ACK_URL,
        "tag": "muster-42",
    }
    assert push.claims["sub"] == SUBJECT
    assert push.vapid_key == keys.application_server_key  # the key the browser subscribed with
    assert push.headers["ttl"] == str(PUSH_TTL_SECS)
    assert push.headers["urgency"] == "high"
    assert push.headers["topic"] == "muster-42"


def test_pushes_to_one_push_service_share_one_connection(
    tmp_path: Path, push_service: Callable[[Browser, int], tuple[str, list[Delivered]]]
) -> None:
    """Pushes to one push service (most phones are on one of two or three) do not each pay a
    new connection and TLS handshake."""
    browser = Browser()
    endpoint, delivered = push_service(browser, 201)
    channel = WebPushChannel(load_or_create_vapid_keys(tmp_path), SUBJECT, endpoints=LOCAL_PUSH)
    tags = ["muster-1", "muster-2", "muster-3"]

    async def run() -> list[bool]:
        subscription = browser.subscription(endpoint)
        return [(await channel.send(_message(subscription, tag))).sent for tag in tags]

    assert run_async(run()) == [True, True, True]
    assert [push.payload["tag"] for push in delivered] == tags
    assert len({push.peer for push in delivered}) == 1


def test_subscription_gone(
    tmp_path: Path, push_service: Callable[[Browser, int], tuple[str, list[Delivered]]]
) -> None:
    browser = Browser()
    channel = WebPushChannel(load_or_create_vapid_keys(tmp_path), SUBJECT, endpoints=LOCAL_PUSH)
    for status in (410, 404):
        endpoint, _ = push_service(browser, status)
        result = run_async(channel.send(_message(browser.subscription(endpoint))))
        assert not result.sent and result.gone
        assert result.detail == f"subscription gone ({status})"


def test_other_errors_have_a_reason(
    tmp_path: Path, push_service: Callable[[Browser, int], tuple[str, list[Delivered]]]
) -> None:
    browser = Browser()
    keys = load_or_create_vapid_keys(tmp_path)
    channel = WebPushChannel(keys, SUBJECT, endpoints=LOCAL_PUSH, timeout_secs=3.0)
    endpoint, _ = push_service(browser, 503)
    result = run_async(channel.send(_message(browser.subscription(endpoint))))
    assert not result.sent and not result.gone
    assert "503" in result.detail
    assert "/push/abc" not in result.detail  # the endpoint is a capability URL

    unreachable = f"http://127.0.0.1:{_free_port()}/push/abc"
    result = run_async(channel.send(_message(browser.subscription(unreachable))))
    assert not result.sent and "unreachable" in result.detail
    assert "/push/abc" not in result.detail

    result = run_async(channel.send(_message(None)))
    assert not result.sent and result.detail == "recipient has no push subscription"


def test_an_endpoint_in_the_servers_own_network_is_never_posted_to(
    tmp_path: Path, push_service: Callable[[Browser, int], tuple[str, list[Delivered]]]
) -> None:
    """A phone names its endpoint: one on loopback, a private or link-local address (the cloud
    metadata service), or plain http, is refused before any connection, and the subscription
    is dropped; the push service listening there gets nothing (issue 11, item 2)."""
    browser = Browser()
    endpoint, delivered = push_service(browser, 201)
    port = endpoint.split(":")[2].split("/")[0]
    channel = WebPushChannel(load_or_create_vapid_keys(tmp_path), SUBJECT)  # no allow-list
    for hostile in (
        endpoint,
        endpoint.replace("http://", "https://"),
        f"https://localhost:{port}{PUSH_PATH}",
        f"https://[::ffff:127.0.0.1]:{port}{PUSH_PATH}",
        "https://10.0.0.8/push/abc",
        "https://169.254.169.254/latest/meta-data",
    ):
        result = run_async(channel.send(_message(browser.subscription(hostile))))
        assert not result.sent and result.gone, (hostile, result)
        assert "public address" in result.detail or "https://" in result.detail
    assert delivered == []

    # A name that does not resolve now may resolve later: failed, but the phone keeps it.
    result = run_async(channel.send(_message(browser.subscription("https://push.invalid/p/1"))))
    assert not result.sent and not result.gone
    assert result.detail == "the push service push.invalid cannot be found"


def test_the_address_each_connection_lands_on_is_checked_again(
    receiver_factory: Callable[..., Receiver],
) -> None:
    """A name can resolve to a public address for the check and to a private one a moment later
    for the connection (DNS rebinding): the send's own connection is refused there."""
    receiver = receiver_factory(status=201)
    session = PushEndpointPolicy().session(f"https://127.0.0.1:{receiver.port}{PUSH_PATH}")
    with session, pytest.raises(requests.ConnectionError, match="not on a public address"):
        session.post(f"https://127.0.0.1:{receiver.port}{PUSH_PATH}", data=b"x", timeout=5)
    assert receiver.requests == []


def test_a_push_services_answer_never_reaches_the_board(
    tmp_path: Path, receiver_factory: Callable[..., Receiver]
) -> None:
    """Only the status is kept: the body of a failed answer (whatever is at that address) is
    not echoed into the delivery's reason, which commanders read."""
    receiver = receiver_factory(status=500, body=b"<h1>router admin</h1> password=hunter2")
    channel = WebPushChannel(load_or_create_vapid_keys(tmp_path), SUBJECT, endpoints=LOCAL_PUSH)
    endpoint = f"http://127.0.0.1:{receiver.port}{PUSH_PATH}"
    result = run_async(channel.send(_message(Browser().subscription(endpoint))))
    assert not result.sent
    assert result.detail == f"push service http://127.0.0.1:{receiver.port} answered 500"


def test_a_redirect_is_not_followed(
    tmp_path: Path, receiver_factory: Callable[..., Receiver]
) -> None:
    """A push service that redirects could send the POST anywhere: the send fails instead."""
    target = receiver_factory(status=201)
    redirect = {"Location": f"http://127.0.0.1:{target.port}/internal"}
    redirecting = receiver_factory(status=307, headers=redirect)
    channel = WebPushChannel(load_or_create_vapid_keys(tmp_path), SUBJECT, endpoints=LOCAL_PUSH)
    endpoint = f"http://127.0.0.1:{redirecting.port}{PUSH_PATH}"
    result = run_async(channel.send(_message(Browser().subscription(endpoint))))
    assert not result.sent
    assert len(redirecting.requests) == 1 and target.requests == []


def test_verifier_rejects_a_forged_jwt(tmp_path: Path) -> None:
    """The endpoint's check is not vacuous: another key's signature or an altered claim fails."""
    from cryptography.exceptions import InvalidSignature
    from py_vapid import Vapid02

    origin = "http://127.0.0.1:1"
    claims = {"sub": SUBJECT, "aud": origin, "exp": int(time.time()) + 3600}
    header = Vapid02(private_key=ec.generate_private_key(ec.SECP256R1())).sign(dict(claims))
    authorization = header["Authorization"]
    verify_vapid(authorization, origin)  # genuine: passes
    token, key = authorization.removeprefix("vapid t=").split(",k=")
    other_key = b64url(
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    with pytest.raises(InvalidSignature):
        verify_vapid(f"vapid t={token},k={other_key}", origin)
    head, _, signature = token.split(".")
    forged_claims = b64url(json.dumps({**claims, "sub": "mailto:x@evil.example"}).encode())
    with pytest.raises(InvalidSignature):
        verify_vapid(f"vapid t={head}.{forged_claims}.{signature},k={key}", origin)
    with pytest.raises(AssertionError):
        verify_vapid(authorization, "http://127.0.0.1:2")  # wrong audience
