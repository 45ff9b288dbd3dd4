"""Live coalescing: with a window, caught-up clients get the latest position per unit.

The same in-memory log, hub and recording sinks as test_hub.py, on a real asyncio loop; the
window is short (50 ms) and the tests wait for it to pass, never for a fixed send time.
"""

from __future__ import annotations

import asyncio

from konenut.domain.events import Event
from konenut.domain.roles import Role
from stream.test_hub import (
    HOME,
    INCIDENT,
    VIEWERS,
    Log,
    connect,
    make_hub,
    position,
    publish,
    run,
    sample_payload,
    settle,
)

WINDOW = 0.05


async def after_the_window() -> None:
    await asyncio.sleep(WINDOW * 3)
    await settle()


def order(log: Log) -> Event:
    return log.add("order.sent", sample_payload("order.sent", "p", HOME, INCIDENT))


def test_positions_within_a_window_go_out_as_the_latest_per_unit() -> None:
    async def scenario() -> None:
        log = Log()
        hub = make_hub(log, coalesce_secs=WINDOW)
        await hub.start()
        _c, sink = await connect(hub, VIEWERS[Role.COMMANDER])
        for _ in range(5):
            publish(hub, position(log, "p-alpha"))
            publish(hub, position(log, "p-bravo"))
            await settle()
        assert sink.events == []  # held for the window
        await after_the_window()
        assert [f["seq"] for f in sink.events] == [9, 10]  # alpha's and bravo's last
        assert sink.frames[-1] == {"type": "coalesced", "seq": 10, "dropped": 8}
        await hub.close()

    run(scenario)


def test_other_events_are_never_held_dropped_or_reordered() -> None:
    async def scenario() -> None:
        log = Log()
        hub = make_hub(log, coalesce_secs=WINDOW)
        await hub.start()
        _c, sink = await connect(hub, VIEWERS[Role.OPERATOR])
        publish(hub, position(log, "p-alpha"))  # 1, superseded by 3
        publish(hub, position(log, "p-bravo"))  # 2
        publish(hub, position(log, "p-alpha"))  # 3
        publish(hub, order(log))  # 4: sends what is held, ahead of itself, at once
        await settle()
        assert [(f["type"], f["seq"]) for f in sink.events] == [
            ("position.reported", 2),
            ("position.reported", 3),
            ("order.sent", 4),
        ]
        assert sink.frames[-1] == {"type": "coalesced", "seq": 4, "dropped": 1}
        publish(hub, order(log), position(log, "p-alpha"))  # a mixed batch is not held
        await settle()
        assert [f["seq"] for f in sink.events][-2:] == [5, 6]
        publish(hub, position(log, "p-charlie"))
        await settle()
        assert sink.events[-1]["seq"] == 6
        await after_the_window()
        assert sink.events[-1]["seq"] == 7  # a lone position still arrives after the window
        await hub.close()

    run(scenario)


def test_the_cursor_stays_right_for_a_reconnect() -> None:
    """The last seq a client saw covers the positions it was spared: resuming from it skips
    them, and a client that was offline meanwhile gets the latest per unit, then live."""

    async def scenario() -> None:
        log = Log()
        hub = make_hub(log, coalesce_secs=WINDOW)
        await hub.start()
        live_client, live = await connect(hub, VIEWERS[Role.COMMANDER])
        for _ in range(3):
            publish(hub, position(log, "p-alpha"))
        await after_the_window()
        last_seen = live.frames[-1]["seq"]
        assert last_seen == log.head == live_client.cursor == 3
        _c, resumed = await connect(hub, VIEWERS[Role.COMMANDER], since=last_seen)
        assert resumed.frames == [{"type": "live", "seq": 3}]
        _c, fresh = await connect(hub, VIEWERS[Role.COMMANDER], since=0)
        assert [f["seq"] for f in fresh.events] == [3]
        publish(hub, order(log))
        await settle()
        for sink in (live, resumed, fresh):
            assert sink.events[-1]["seq"] == 4
        await hub.close()

    run(scenario)


def test_a_resident_gets_neither_positions_nor_word_of_them() -> None:
    async def scenario() -> None:
        log = Log()
        hub = make_hub(log, coalesce_secs=WINDOW)
        await hub.start()
        _c, resident = await connect(hub, VIEWERS[Role.RESIDENT])
        for _ in range(4):
            publish(hub, position(log, "p-alpha"))
        await after_the_window()
        assert resident.frames == [{"type": "live", "seq": 0}]
        await hub.close()

    run(scenario)
