"""A broadcast through a real server with its broadcaster running: the POST is answered before
any delivery is recorded, the squad's stream gets the broadcast's counts (not a frame per
household), and a household's own stream still gets its own read state."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from helpers import SITE
from konenut.app import commands as c
from konenut.app import handlers
from konenut.domain.roles import Role
from notify.receivers import Receiver, receiver_factory
from stream.test_websocket import Client, Server, live, serving
from test_cli import eventually

__all__ = ["receiver_factory"]  # the fixture, used by name

HOUSEHOLDS = 30  # besides the seeded two


def _sms_outcomes(server: Server, broadcast_id: str) -> list[str | None]:
    """What became of the SMS to the seeded household (the one with a member's phone)."""
    incident = server.store.state(SITE).incidents[server.seeded.incident_id]
    deliveries = incident.broadcasts[broadcast_id].deliveries.values()
    home = server.seeded.household_id
    return [d.outcome for d in deliveries if d.channel == "sms" and d.household_id == home]


def _broadcast_id(server: Server, seq: int) -> str:
    events = server.store.read(SITE, seq - 1, limit=1)
    return str(events[0].payload["broadcast_id"])


def _progress(desk: Client, broadcast_id: str, **counts: int) -> dict[str, Any]:
    """Read the desk's frames until the broadcast's progress shows these counts."""
    while True:
        frame = desk.until("progress", broadcast_id=broadcast_id)
        if all(frame["counts"][name] == n for name, n in counts.items()):
            return frame


def test_the_broadcast_post_is_answered_before_any_delivery_is_recorded(
    tmp_path: Path, receiver_factory: Callable[..., Receiver]
) -> None:
    gateway = receiver_factory(hang=True)  # holds each SMS until released
    sms_url = f"json://127.0.0.1:{gateway.port}/sms"
    with serving(tmp_path, escalate=True, notify_sms_url=sms_url) as server:
        member = c.AddPerson(ref="p-14", name="Dana Cohen", phone="+972501234567",
                             household_id=server.seeded.household_id)
        server.store.execute(SITE, handlers.add_person(None, member))
        broadcast_id = _broadcast_id(server, server.broadcast("Stay inside"))  # asserts 201
        assert "delivered" not in _sms_outcomes(server, broadcast_id)
        assert eventually(lambda: gateway.requests), "the SMS never reached the gateway"
        assert _sms_outcomes(server, broadcast_id) == [None]  # held: sending, not settled
        gateway.release.set()
        assert eventually(lambda: _sms_outcomes(server, broadcast_id) == ["delivered"])


def test_the_squad_gets_a_broadcasts_counts_and_a_household_its_own_read_state(
    tmp_path: Path,
) -> None:
    with serving(tmp_path, escalate=True) as server:  # Web Push only: nobody subscribed
        for n in range(HOUSEHOLDS):
            home = c.AddHousehold(ref=f"h-{100 + n}", name=f"House {n}")
            server.store.execute(SITE, handlers.add_household(None, home))
        households = HOUSEHOLDS + 2
        with live(server, Role.COMMANDER, server.head()) as desk, \
                live(server, Role.RESIDENT, server.head()) as home:
            broadcast_id = _broadcast_id(server, server.broadcast("Stay inside"))
            first = _progress(desk, broadcast_id, not_reached=households)
            assert first["counts"] == {"households": households, "delivered": 0, "read": 0,
                                       "not_reached": households}
            server.post(server.incident(f"broadcasts/{broadcast_id}/read"), Role.RESIDENT, {})
            read = home.until("broadcast.read")
            assert read["payload"]["household_id"] == server.seeded.household_id
            _progress(desk, broadcast_id, read=1)
        per_household = [f for f in desk.events if f["type"].startswith("broadcast.delivery")]
        assert per_household == [] and [f["type"] for f in desk.events] == ["broadcast.sent"]
        assert len([f for f in desk.frames if f["type"] == "progress"]) == 2
        assert [f["type"] for f in home.events] == ["broadcast.sent", "broadcast.read"]
