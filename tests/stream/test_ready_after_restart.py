"""Ready means every public surface answers (issue 10 item 9): a real `konenut serve`, restarted
on a log longer than the stream's ring, answers a WebSocket as soon as /readyz says 200."""

from __future__ import annotations

from pathlib import Path

import orjson
from websockets.sync.client import connect

from helpers import SITE, open_store, seed_site
from konenut.api.routes.stream import STREAM_PATH
from konenut.app import handlers
from konenut.bus.hub import BUFFER_EVENTS
from konenut.domain.roles import Role
from server import KonenutServer

WAIT_SECS = 10.0
# A log longer than the stream's ring: after a start, the hub loads a full ring from the log
# before it takes clients, which is when a /readyz that ignored it said 200 early.
EXTRA_EVENTS = BUFFER_EVENTS + 1_000


def _seed(data_dir: Path) -> str:
    """A site whose log is longer than the ring; the commander's device token."""
    store = open_store(f"sqlite:///{data_dir / 'konenut.db'}")
    try:
        seeded = seed_site(store)
        # Audit records are the cheapest events to append in bulk (group commit).
        denied = [
            store.submit(SITE, handlers.record_denial(None, "list_people", f"probe {n}"))
            for n in range(EXTRA_EVENTS)
        ]
        for future in denied:
            future.result()
    finally:
        store.close()
    return seeded.tokens[Role.COMMANDER]


def _first_frame(server: KonenutServer, token: str) -> dict[str, object]:
    """What the stream answers at once: its hello, or how it closed."""
    url = f"ws://{server.host}:{server.port}{STREAM_PATH}?since=0"
    with connect(url, compression=None, open_timeout=WAIT_SECS) as ws:
        ws.send(orjson.dumps({"type": "auth", "token": token}).decode())
        try:
            frame: dict[str, object] = orjson.loads(ws.recv(timeout=WAIT_SECS))
        except Exception:  # closed instead: say with what
            return {"type": "closed", "code": ws.close_code, "reason": ws.close_reason}
    return frame


def test_the_stream_answers_as_soon_as_the_server_says_ready(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    token = _seed(data_dir)
    server = KonenutServer(data_dir)
    try:
        for _ in ("start", "restart"):
            server.start()  # returns at the first /readyz 200
            hello = _first_frame(server, token)
            assert hello["type"] == "hello", hello
            assert hello["seq"] == hello["since"] or hello["since"] == 0
            server.stop()
    finally:
        server.stop()
