"""Throttling of guesses: too many unknown enrollment codes or passes from one address get 429."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from starlette.requests import Request

from konenut.api.problems import ApiProblem

# An 8-character code has 40 bits; at 10 wrong guesses a minute per address, guessing one of
# a few hundred live codes takes centuries, while a person mistyping twice is never slowed.
MAX_FAILURES_PER_WINDOW = 10
FAILURE_WINDOW_SECS = 60.0
MAX_TRACKED_ADDRESSES = 100_000  # bounds memory under a flood from many addresses


class FailureThrottle:
    """Counts failures per key in a sliding window; refuses a key that failed too often."""

    def __init__(
        self,
        limit: int = MAX_FAILURES_PER_WINDOW,
        window_secs: float = FAILURE_WINDOW_SECS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_secs = window_secs
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}

    def retry_after_secs(self, key: str) -> float | None:
        """Seconds until `key` may try again, or None if it may try now."""
        failures = self._recent(key)
        if len(failures) < self.limit:
            return None
        return max(0.0, failures[0] + self.window_secs - self.clock())

    def record_failure(self, key: str) -> None:
        if key not in self._failures and len(self._failures) >= MAX_TRACKED_ADDRESSES:
            self._failures.pop(next(iter(self._failures)))  # forget the oldest address
        self._failures.setdefault(key, deque()).append(self.clock())

    def _recent(self, key: str) -> deque[float]:
        failures = self._failures.get(key, deque())
        cutoff = self.clock() - self.window_secs
        while failures and failures[0] <= cutoff:
            failures.popleft()
        if not failures:
            self._failures.pop(key, None)
        return failures


UNKNOWN_CODES = "too many unknown codes from this address; wait a minute and check the code"


def refuse_guessers(
    throttle: FailureThrottle, request: Request, detail: str = UNKNOWN_CODES
) -> str:
    """The caller's address; 429 if it guessed wrong too often in the last minute."""
    address = request.client.host if request.client else "unknown"
    wait_secs = throttle.retry_after_secs(address)
    if wait_secs is not None:
        raise ApiProblem(
            429,
            detail,
            slug="too-many-attempts",
            headers={"Retry-After": str(max(1, round(wait_secs)))},
        )
    return address
