"""The real test services (contracts §8) are real: talk to them over their own protocols."""

from __future__ import annotations

import os
import socket
import struct
import uuid
from pathlib import Path

import psycopg
import pytest

from services import (
    MosquittoServer,
    PostgresServer,
    RedisServer,
    can_connect,
    libpq_url,
    redis_ping,
)

# -- PostgreSQL -----------------------------------------------------------------------------


def test_postgres_url_shape(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://")
    if "KONENUT_TEST_POSTGRES_URL" not in os.environ:
        assert postgres_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
        assert postgres_url.endswith("/konenut_test")


def test_postgres_durability_settings(postgres_url: str) -> None:
    with psycopg.connect(libpq_url(postgres_url)) as conn:
        for setting in ("synchronous_commit", "fsync"):
            row = conn.execute(f"SHOW {setting}").fetchone()
            assert row == ("on",), setting
        if "KONENUT_TEST_POSTGRES_URL" not in os.environ:
            row = conn.execute("SHOW max_connections").fetchone()
            assert row == ("200",)
            row = conn.execute("SHOW listen_addresses").fetchone()
            assert row == ("127.0.0.1",)


def test_postgres_create_insert_select(postgres_url: str) -> None:
    with psycopg.connect(libpq_url(postgres_url)) as conn:
        conn.execute("CREATE TEMPORARY TABLE greeting (id serial PRIMARY KEY, word text NOT NULL)")
        conn.execute("INSERT INTO greeting (word) VALUES (%s), (%s)", ("hei", "moi"))
        rows = conn.execute("SELECT id, word FROM greeting ORDER BY id").fetchall()
    assert rows == [(1, "hei"), (2, "moi")]


def test_postgres_commit_is_visible_to_another_connection(postgres_url: str) -> None:
    url = libpq_url(postgres_url)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS services_probe")
        conn.execute("CREATE TABLE services_probe (n int)")
    try:
        with psycopg.connect(url) as writer:
            writer.execute("INSERT INTO services_probe VALUES (42)")
        with psycopg.connect(url) as reader:
            assert reader.execute("SELECT n FROM services_probe").fetchall() == [(42,)]
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("DROP TABLE services_probe")


def _tables(url: str) -> list[tuple[str]]:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(
            "SELECT table_name::text FROM information_schema.tables "
            "WHERE table_schema = 'public' ORDER BY 1"
        ).fetchall()


@pytest.mark.parametrize("round_", [1, 2])
def test_fresh_postgres_url_is_a_new_empty_database(
    fresh_postgres_url: str, postgres_url: str, round_: int
) -> None:
    assert fresh_postgres_url != postgres_url
    assert _tables(fresh_postgres_url) == []  # the table from round 1 is gone
    with psycopg.connect(libpq_url(fresh_postgres_url)) as conn:
        conn.execute("CREATE TABLE only_here (round int)")
        conn.execute("INSERT INTO only_here VALUES (%s)", (round_,))
    assert _tables(fresh_postgres_url) == [("only_here",)]
    assert ("only_here",) not in _tables(postgres_url)


# -- Redis (raw RESP over a socket) ---------------------------------------------------------


def _redis_address(url: str) -> tuple[str, int]:
    rest = url.removeprefix("redis://").split("/", 1)[0]
    host, _, port = rest.rpartition(":")
    return host or "127.0.0.1", int(port or 6379)


def _resp_command(*parts: bytes) -> bytes:
    out = [b"*%d\r\n" % len(parts)]
    for part in parts:
        out.append(b"$%d\r\n%s\r\n" % (len(part), part))
    return b"".join(out)


def _recv_line(sock: socket.socket) -> bytes:
    buf = b""
    while not buf.endswith(b"\r\n"):
        chunk = sock.recv(1)
        assert chunk, "connection closed"
        buf += chunk
    return buf


def test_redis_ping_set_get(redis_url: str) -> None:
    assert redis_url.startswith("redis://")
    with socket.create_connection(_redis_address(redis_url), timeout=5) as sock:
        sock.sendall(_resp_command(b"PING"))
        assert _recv_line(sock) == b"+PONG\r\n"
        sock.sendall(_resp_command(b"SET", b"konenut:probe", b"ok\xc3\xa4"))
        assert _recv_line(sock) == b"+OK\r\n"
        sock.sendall(_resp_command(b"GET", b"konenut:probe"))
        assert _recv_line(sock) == b"$4\r\n"
        assert _recv_line(sock) == b"ok\xc3\xa4\r\n"
        sock.sendall(_resp_command(b"DEL", b"konenut:probe"))
        assert _recv_line(sock) == b":1\r\n"


# -- Mosquitto (raw MQTT 3.1.1 over a socket) -----------------------------------------------


def _remaining_length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _mqtt_str(s: str) -> bytes:
    raw = s.encode()
    return struct.pack("!H", len(raw)) + raw


def _packet(first_byte: int, body: bytes) -> bytes:
    return bytes([first_byte]) + _remaining_length(len(body)) + body


def _recv_exact(sock: socket.socket, n: int) -> bytes:
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        assert chunk, "broker closed the connection"
        buf += chunk
    return buf


def _recv_packet(sock: socket.socket) -> tuple[int, bytes]:
    first = _recv_exact(sock, 1)[0]
    length, shift = 0, 0
    while True:
        byte = _recv_exact(sock, 1)[0]
        length |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            break
    return first, _recv_exact(sock, length)


def _mqtt_connect(sock: socket.socket, client_id: str) -> None:
    variable = _mqtt_str("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 30)  # 3.1.1, clean
    sock.sendall(_packet(0x10, variable + _mqtt_str(client_id)))
    first, body = _recv_packet(sock)
    assert first == 0x20, f"expected CONNACK, got {first:#x}"
    assert body == b"\x00\x00"  # no session present, return code 0 (accepted)


def test_mqtt_connect_subscribe_publish(mqtt_broker: tuple[str, int]) -> None:
    host, port = mqtt_broker
    topic = "konenut/test/services"
    payload = "hälytys 🚨".encode()
    with socket.create_connection((host, port), timeout=5) as sock:
        _mqtt_connect(sock, f"konenut-test-{uuid.uuid4().hex[:8]}")

        # SUBSCRIBE (packet id 1, QoS 0) -> SUBACK granting QoS 0
        sock.sendall(_packet(0x82, struct.pack("!H", 1) + _mqtt_str(topic) + b"\x00"))
        first, body = _recv_packet(sock)
        assert first == 0x90, f"expected SUBACK, got {first:#x}"
        assert body == struct.pack("!H", 1) + b"\x00"

        # PUBLISH QoS 0 to ourselves, and receive it back
        sock.sendall(_packet(0x30, _mqtt_str(topic) + payload))
        first, body = _recv_packet(sock)
        assert first & 0xF0 == 0x30, f"expected PUBLISH, got {first:#x}"
        (topic_len,) = struct.unpack("!H", body[:2])
        assert body[2 : 2 + topic_len].decode() == topic
        assert body[2 + topic_len :] == payload

        sock.sendall(b"\xe0\x00")  # DISCONNECT


# -- lifecycle of tests/services.py itself --------------------------------------------------


def _assert_stopped(pid: int, tmp: Path) -> None:
    assert not tmp.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_redis_and_mosquitto_start_and_stop_cleanly() -> None:
    for server in (RedisServer(), MosquittoServer()):
        with server:
            assert server.process is not None and server.tmp is not None
            pid, tmp, port = server.process.pid, server.tmp, server.port
            assert can_connect("127.0.0.1", port)
        _assert_stopped(pid, tmp)
        assert not redis_ping("127.0.0.1", port)
        assert not can_connect("127.0.0.1", port)


def test_postgres_starts_and_stops_cleanly() -> None:
    with PostgresServer() as server:
        assert server.process is not None and server.tmp is not None
        pid, tmp = server.process.pid, server.tmp
        with psycopg.connect(libpq_url(server.url()), autocommit=True) as conn:
            row = conn.execute("SELECT current_database(), current_user").fetchone()
            assert row == ("konenut_test", "postgres")
            # a client still connected must not hold up the shutdown ("fast" mode)
            server.stop()
        _assert_stopped(pid, tmp)
        assert not can_connect("127.0.0.1", server.port)
