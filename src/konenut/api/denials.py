"""Audit records of refused calls (403): one per token and operation per minute, with a count.

Every refusal used to append its own `audit.access_denied`, so any token could grow the log and
the stream's ring without limit. Now the first refusal of a (token, operation) is recorded at
once; the ones after it within the window are counted and recorded together, in one event, when
the window ends; a window that ends with nothing counted is forgotten, so the next refusal is
recorded at once again. Counts are per node (each node records its own).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from konenut.app import handlers
from konenut.app.identity import Actor
from konenut.domain.ids import format_time
from konenut.store.eventstore import Decide

DENIAL_WINDOW = timedelta(minutes=1)  # at most one record per token and operation per minute
FLUSH_INTERVAL_SECS = 1.0  # how often the node looks for windows that ended
# Bounds memory under refusals for many tokens × operations: past it, the oldest window is
# recorded early (its count stays exact, the log grows a little faster).
MAX_OPEN_WINDOWS = 50_000

WindowKey = tuple[str, str, str]  # site, token, operation


@dataclass
class _Window:
    actor: Actor
    operation: str
    reason: str
    opened_at: datetime
    count: int = 0  # refusals since it opened, not recorded yet
    first_at: datetime | None = None  # the first of those


class DenialLog:
    """Records refusals through `submit` (the store's writer, without waiting), aggregated."""

    def __init__(
        self, submit: Callable[[str, Decide], object], clock: Callable[[], datetime]
    ) -> None:
        self._submit = submit
        self._clock = clock
        self._windows: dict[WindowKey, _Window] = {}
        self._lock = threading.Lock()  # refusals come from the event loop and worker threads

    def deny(self, actor: Actor, operation: str, reason: str) -> None:
        now = self._clock()
        key = (actor.site_id, actor.token_id, operation)
        with self._lock:
            due = [self._roll(key, now)]
            window = self._windows.get(key)
            if window is None:
                if len(self._windows) >= MAX_OPEN_WINDOWS:
                    due.append(self._close(next(iter(self._windows))))
                self._windows[key] = _Window(actor, operation, reason, opened_at=now)
            else:
                window.count += 1
                window.reason = reason
                window.first_at = window.first_at or now
        for record in due:
            self._record(record)
        if window is None:
            self._submit(actor.site_id, handlers.record_denial(actor, operation, reason))

    def flush_due(self) -> None:
        """Record the windows that ended (the node calls this every FLUSH_INTERVAL_SECS)."""
        now = self._clock()
        with self._lock:
            due = [self._roll(key, now) for key in list(self._windows)]
        for record in due:
            self._record(record)

    def flush_all(self) -> None:
        """Record every count not recorded yet (the node is stopping)."""
        with self._lock:
            due = [self._close(key) for key in list(self._windows)]
        for record in due:
            self._record(record)

    def _roll(self, key: WindowKey, now: datetime) -> _Window | None:
        """The ended window's counts to record, if any; a window with counts starts again
        (a flood goes on: one record a minute), one without is forgotten."""
        window = self._windows.get(key)
        if window is None or now < window.opened_at + DENIAL_WINDOW:
            return None
        if window.count == 0:
            del self._windows[key]
            return None
        ended = replace(window)
        window.opened_at, window.count, window.first_at = now, 0, None
        return ended

    def _close(self, key: WindowKey) -> _Window | None:
        window = self._windows.pop(key)
        return window if window.count else None

    def _record(self, window: _Window | None) -> None:
        if window is None:
            return
        first_at = format_time(window.first_at) if window.first_at else None
        decide = handlers.record_denial(
            window.actor, window.operation, window.reason, count=window.count, first_at=first_at
        )
        self._submit(window.actor.site_id, decide)
