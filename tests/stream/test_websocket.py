"""The stream through a real server: uvicorn on a free loopback port, `websockets` clients.

The app is `create_app` over a SQLite store seeded by `helpers.seed_site` (a device token per
role); commands go in over HTTP with httpx, and the tests read the frames each client got.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import uvicorn
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from helpers import Seeded, enrol, open_store, seed_site
from konenut.api.routes import stream as stream_route
from konenut.app import commands as c
from konenut.app.identity import hash_secret
from konenut.bus import hub as hub_module
from konenut.config import Settings
from konenut.domain.roles import Role, SubjectKind
from konenut.server import create_app
from konenut.store.eventstore import EventStore
from services import free_port

HERE = {"lat": 30.4301, "lon": 34.9702}
WAIT_SECS = 5.0  # contracts §8: "appears on the other page" waits up to 5 s
START_SECS = 20.0


@dataclass
class Server:
    url: str
    ws_url: str
    store: EventStore
    seeded: Seeded
    http: httpx.Client

    def post(self, path: str, role: Role, body: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(path, json=body, headers={
            "Authorization": f"Bearer {self.seeded.tokens[role]}",
            "Idempotency-Key": uuid.uuid4().hex})
        assert response.status_code == 201, response.text
        result: dict[str, Any] = response.json()
        return result

    def incident(self, what: str) -> str:
        return f"/api/v1/incidents/{self.seeded.incident_id}/{what}"

    def broadcast(self, text: str) -> int:
        body = self.post(self.incident("broadcasts"), Role.COMMANDER, {"texts": {"en": text}})
        seq: int = body["events"][0]["seq"]
        return seq

    def head(self) -> int:
        return self.store.head("site")


@contextmanager
def serving(data_dir: Path, **settings: Any) -> Iterator[Server]:
    """A seeded site behind uvicorn in a thread of this process (so constants can be patched),
    with these settings."""
    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    seeded = seed_site(store)
    # No background sender unless asked: its delivery events would land at moments no stream
    # test can predict.
    settings = {"data_dir": data_dir, "escalate": False, **settings}
    app = create_app(Settings(**settings), store)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           ws_per_message_deflate=False))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_SECS
    while not (server.started and app.state.stream_hub.started):
        assert thread.is_alive() and time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=url, timeout=30.0) as http:
            yield Server(url, f"ws://127.0.0.1:{port}{stream_route.STREAM_PATH}", store, seeded,
                         http)
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        store.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serving(tmp_path_factory.mktemp("stream")) as running:
        yield running


# --- a client that records every frame -----------------------------------------------------------
class Client:
    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws
        self.frames: list[dict[str, Any]] = []

    def recv(self) -> dict[str, Any]:
        frame: dict[str, Any] = orjson.loads(self.ws.recv(timeout=WAIT_SECS))
        self.frames.append(frame)
        return frame

    def until(self, type_: str, **fields: Any) -> dict[str, Any]:
        """Read frames until one of this type (and these fields) arrives."""
        while True:
            frame = self.recv()
            if frame["type"] == type_ and all(frame.get(k) == v for k, v in fields.items()):
                return frame

    @property
    def events(self) -> list[dict[str, Any]]:
        return [f for f in self.frames if "." in f["type"]]

    def close_code(self) -> int | None:
        """Read until the server closes; its close code."""
        try:
            while True:
                self.recv()
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else None


@contextmanager
def stream(server: Server, token: str | None, since: int | None = 0) -> Iterator[Client]:
    query = "" if since is None else f"?since={since}"
    with connect(server.ws_url + query, compression=None, open_timeout=WAIT_SECS) as ws:
        if token is not None:
            ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        yield Client(ws)


@contextmanager
def live(server: Server, role: Role, since: int = 0) -> Iterator[Client]:
    """A stream of the role's token, caught up."""
    with stream(server, server.seeded.tokens[role], since) as client:
        client.until("live")
        yield client


# --- connect, replay, live -----------------------------------------------------------------------
def test_hello_replay_then_live(server: Server) -> None:
    head = server.head()
    with stream(server, server.seeded.tokens[Role.OPERATOR]) as client:
        hello = client.recv()
        assert hello == {"type": "hello", "seq": head, "since": 0, "roles": ["operator"],
                         "heartbeat_secs": hub_module.HEARTBEAT_SECS}
        live_at = client.until("live")
        replayed = [f["seq"] for f in client.events]
        assert replayed == sorted(set(replayed)) and replayed[-1] <= head == live_at["seq"]
        assert {"person.added", "incident.opened", "household.added"} <= {
            f["type"] for f in client.events}
        seq = server.broadcast("Stay inside")
        event = client.until("broadcast.sent")
        assert event["seq"] == seq and event["payload"]["texts"] == {"en": "Stay inside"}


@pytest.mark.parametrize("role", [Role.COMMANDER, Role.RESIDENT], ids=str)
def test_replay_after_since_is_the_rest_read(server: Server, role: Role) -> None:
    """From any since, the replay is what GET /site/events?since= gives the same token."""
    head = server.head()
    for since in (0, 1, head // 2, head - 3, head):
        with live(server, role, since) as client:
            read = server.http.get("/api/v1/site/events", params={"since": since}, headers={
                "Authorization": f"Bearer {server.seeded.tokens[role]}"}).json()["events"]
            assert client.events == [e for e in read if e["seq"] <= head], since


def test_a_live_event_is_shaped_as_the_rest_read_shapes_it(server: Server) -> None:
    with live(server, Role.RESPONDER, server.head()) as client:
        seq = server.broadcast("Shelter now")
        streamed = client.until("broadcast.sent", seq=seq)
    response = server.http.get(server.incident("events"), params={"since": seq - 1}, headers={
        "Authorization": f"Bearer {server.seeded.tokens[Role.RESPONDER]}"})
    assert response.json()["events"][0] == streamed


# --- the role filter on the wire -----------------------------------------------------------------
def test_a_resident_never_receives_positions_sightings_or_other_households(
    server: Server,
) -> None:
    seeded = server.seeded
    with live(server, Role.RESIDENT) as resident, live(server, Role.RESPONDER) as responder:
        server.post(server.incident("positions"), Role.RESPONDER, {"location": HERE})
        server.post(server.incident("sightings"), Role.COMMANDER,
                    {"location": HERE, "category": "hostile", "count": 3})
        server.post(server.incident(f"households/{seeded.other_household_id}/check-ins"),
                    Role.OPERATOR, {"status": "need_medic"})
        server.post(server.incident(f"households/{seeded.household_id}/check-ins"),
                    Role.RESIDENT, {"status": "safe"})
        server.post(server.incident("broadcasts"), Role.COMMANDER, {
            "texts": {"en": "Levi family: stay in the safe room"},
            "household_ids": [seeded.other_household_id]})
        last = server.broadcast("All clear soon")
        resident.until("broadcast.sent", seq=last)
        responder.until("broadcast.sent", seq=last)
    got = [f["type"] for f in resident.events]
    assert "position.reported" not in got and "sighting.reported" not in got
    assert "sighting.updated" not in got and "device.enrolled" not in got
    for frame in resident.events:
        assert seeded.other_household_id not in orjson.dumps(frame).decode(), frame
    assert [f["payload"]["status"] for f in resident.events
            if f["type"] == "household.checked_in"] == ["safe"]
    # The squad does see them (the filter is not just an empty stream).
    assert {"position.reported", "sighting.reported", "household.checked_in"} <= {
        f["type"] for f in responder.events}


def test_a_guest_sees_only_public_news(server: Server) -> None:
    with live(server, Role.GUEST) as guest:
        server.post(server.incident("positions"), Role.RESPONDER, {"location": HERE})
        last = server.broadcast("Guests: stay in the hall")
        guest.until("broadcast.sent", seq=last)
    assert {f["type"] for f in guest.events} <= {"site.configured", "incident.opened",
                                                 "incident.closed", "broadcast.sent"}
    assert all(f["actor"] is None for f in guest.events)


# --- auth ----------------------------------------------------------------------------------------
def test_an_unknown_token_is_closed_4401(server: Server) -> None:
    with stream(server, "not-a-token") as client:
        assert client.close_code() == 4401


def test_a_revoked_token_is_closed_4401(server: Server) -> None:
    token, _subject = enrol(server.store, c.IssueEnrollmentCode(
        subject_kind=SubjectKind.GUEST, incident_id=server.seeded.incident_id))
    view = server.store.state("site").token_by_hash(hash_secret(token))
    assert view is not None
    with live(server, Role.GUEST) as other_guest, stream(server, token) as open_stream:
        open_stream.until("live")
        server.post(f"/api/v1/site/devices/{view.token_id}/revoke", Role.ADMIN,
                    {"reason": "lost"})
        assert open_stream.close_code() == 4401  # the open stream ends at once
        seq = server.broadcast("Still here")
        assert other_guest.until("broadcast.sent")["seq"] == seq  # other devices stay
    with stream(server, token) as client:
        assert client.close_code() == 4401


def test_no_auth_message_in_time_is_closed_4401(server: Server,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stream_route, "AUTH_TIMEOUT_SECS", 0.3)
    started = time.monotonic()
    with stream(server, None) as client:
        assert client.close_code() == 4401
    assert time.monotonic() - started < 3.0


def test_a_first_message_that_is_not_auth_is_closed_4401(server: Server) -> None:
    with connect(server.ws_url, compression=None) as ws:
        ws.send('{"type": "pong"}')
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=WAIT_SECS)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_a_bad_since_is_closed_4400(server: Server) -> None:
    with stream(server, server.seeded.tokens[Role.OPERATOR], since=None) as ok:
        assert ok.until("live")["type"] == "live"  # no since: everything (0)
    with connect(server.ws_url + "?since=-1", compression=None) as ws, \
            pytest.raises(ConnectionClosed) as closed:
        ws.recv(timeout=WAIT_SECS)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4400


# --- resync, heartbeats, idle --------------------------------------------------------------------
@pytest.fixture
def tight_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A server with a tiny buffer and replay limit (heartbeats as usual: a slow test machine
    must not close these clients for silence)."""
    for name, value in (("BUFFER_EVENTS", 4), ("MAX_REPLAY_EVENTS", 10)):
        monkeypatch.setattr(hub_module, name, value)
    with serving(tmp_path) as running:
        yield running


@pytest.fixture
def beating_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    """A server with fast heartbeats and a short idle timeout."""
    for name, value in (("HEARTBEAT_SECS", 0.3), ("HEARTBEAT_JITTER_SECS", 0.1),
                        ("IDLE_TIMEOUT_SECS", 1.5), ("SWEEP_SECS", 0.1)):
        monkeypatch.setattr(hub_module, name, value)
    with serving(tmp_path) as running:
        yield running


def test_a_client_too_far_behind_is_told_to_resync(tight_server: Server) -> None:
    head = tight_server.head()
    with stream(tight_server, tight_server.seeded.tokens[Role.COMMANDER], since=1) as client:
        assert client.recv()["type"] == "hello"
        assert client.recv() == {"type": "resync", "seq": head}
        assert client.recv() == {"type": "live", "seq": head}
        seq = tight_server.broadcast("After the resync")
        assert client.until("broadcast.sent")["seq"] == seq


def test_replay_older_than_the_buffer_comes_from_the_log(tight_server: Server) -> None:
    head = tight_server.head()
    since = head - 9  # 4 events in the buffer, 5 read from the log
    with live(tight_server, Role.COMMANDER, since) as client:
        read = tight_server.http.get("/api/v1/site/events", params={"since": since}, headers={
            "Authorization": f"Bearer {tight_server.seeded.tokens[Role.COMMANDER]}"})
        assert client.events == read.json()["events"]
        assert [f["type"] for f in client.frames if "." not in f["type"]] == ["hello", "live"]


def test_heartbeats_come_and_silent_clients_are_closed_4408(beating_server: Server) -> None:
    with live(beating_server, Role.OPERATOR) as talker, live(beating_server, Role.MEDIC) as silent:
        ping = talker.until("ping")
        assert ping["seq"] >= 0
        deadline = time.monotonic() + 3.0
        while time.monotonic() < deadline:  # the talker answers; the silent one does not
            talker.ws.send('{"type": "pong"}')
            time.sleep(0.2)
        assert silent.close_code() == 4408
        talker.ws.send('{"type": "pong"}')
        assert talker.until("ping")["type"] == "ping"  # still open
