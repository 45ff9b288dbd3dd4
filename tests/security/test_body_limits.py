"""Floods of bytes against the real `konenut serve`: every body is refused (413 problem+json) as
soon as it passes its route's limit, before auth, JSON parsing or a hot route read it, and
nothing is stored; a WebSocket message past its limit closes the stream (1009)."""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from server import KonenutServer, run_konenut

MIB = 1024 * 1024
FLOOD_BYTES = 300 * MIB  # the review's three POSTs took the server from 147 MB to 1.99 GB
ANSWER_TIMEOUT_SECS = 20.0  # a server that waited for the whole body would never answer
INCIDENT = "/api/v1/incidents/0190c5a0-0000-7000-8000-000000000000"
# (method, path, the limit its 413 names): commands, the hot routes, enrolment (no token
# at all), a photo, a registry sheet and the site plan.
LIMITED_ROUTES = [
    ("POST", "/api/v1/incidents", "64 KiB"),
    ("POST", f"{INCIDENT}/households/h-14/check-ins", "64 KiB"),
    ("POST", f"{INCIDENT}/positions", "64 KiB"),
    ("POST", "/api/v1/enroll", "64 KiB"),
    ("POST", f"{INCIDENT}/photos", "5 MB"),
    ("POST", "/api/v1/site/households/import", "20 MB"),
    ("PUT", "/api/v1/site", "8 MB"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KonenutServer]:
    data_dir = tmp_path_factory.mktemp("limits") / "site"
    init = run_konenut("init", "--data-dir", str(data_dir))
    assert init.returncode == 0, init.stderr
    with KonenutServer(data_dir) as running:
        yield running


def connection(server: KonenutServer) -> http.client.HTTPConnection:
    return http.client.HTTPConnection(server.host, server.port, timeout=ANSWER_TIMEOUT_SECS)


def answer(conn: http.client.HTTPConnection) -> tuple[int, dict[str, str], dict[str, Any]]:
    response = conn.getresponse()
    headers = {k.lower(): v for k, v in response.getheaders()}
    body: dict[str, Any] = orjson.loads(response.read())
    return response.status, headers, body


def head_seq(server: KonenutServer) -> int:
    with server.client() as client:
        seq: int = client.get("/readyz").json()["seq"]
    return seq


def assert_too_large(
    status: int, headers: dict[str, str], body: dict[str, Any], limit: str
) -> None:
    assert status == 413, body
    assert headers["content-type"].startswith("application/problem+json")
    assert body["type"] == "urn:konenut:problem:too-large"
    assert body["detail"] == f"the request body is larger than {limit}"


@pytest.mark.parametrize(("method", "path", "limit"), LIMITED_ROUTES)
def test_a_declared_flood_is_refused_before_its_body_is_sent(
    server: KonenutServer, method: str, path: str, limit: str
) -> None:
    """Three 300 MiB bodies announced without a token: each answered 413 at once, while not
    one byte of it has been sent (a server that read first would wait for all 300 MiB)."""
    before = head_seq(server)
    for _ in range(3):
        conn = connection(server)
        conn.putrequest(method, path)
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Content-Length", str(FLOOD_BYTES))
        conn.endheaders()
        assert_too_large(*answer(conn), limit)
        conn.close()
    assert head_seq(server) == before
    assert not (server.data_dir / "photos").exists()


# The JSON routes read their body before auth; the photo route refuses a wrong token before
# reading a byte (tests/api/test_photos.py sends its chunked flood with a working one).
@pytest.mark.parametrize(("method", "path", "limit"), LIMITED_ROUTES[:4])
def test_an_unannounced_flood_is_cut_off_while_it_is_read(
    server: KonenutServer, method: str, path: str, limit: str
) -> None:
    """Chunked, with no length given: refused once past the limit, the rest never sent."""
    limit_bytes = int(limit.split()[0]) * (MIB if limit.endswith("MB") else 1024)
    chunk = b"\x00" * (64 * 1024)
    before = head_seq(server)
    conn = connection(server)
    conn.putrequest(method, path)
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Authorization", "Bearer not-a-token")
    conn.putheader("Transfer-Encoding", "chunked")
    conn.endheaders()
    for _ in range(limit_bytes // len(chunk) + 1):  # one chunk past the limit, no last chunk
        conn.send(b"%x\r\n%s\r\n" % (len(chunk), chunk))
    assert_too_large(*answer(conn), limit)
    conn.close()
    assert head_seq(server) == before
    assert not (server.data_dir / "photos").exists()


def test_a_large_stream_message_closes_the_stream(server: KonenutServer) -> None:
    """The stream's clients send a token and pongs; a 64 KiB message is not read, it closes."""
    url = f"ws://{server.host}:{server.port}/api/v1/stream"
    with connect(url, open_timeout=ANSWER_TIMEOUT_SECS) as ws:
        ws.send(orjson.dumps({"type": "auth", "token": "x" * (64 * 1024)}).decode())
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=ANSWER_TIMEOUT_SECS)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
