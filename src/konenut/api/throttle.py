"""Throttling of guesses: too many unknown codes from one address, or of one kind from all
addresses together, get 429."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from enum import StrEnum

from starlette.requests import Request

from konenut.api.problems import ApiProblem

# An 8-character code has 40 bits; at 10 wrong guesses a minute per address, guessing one of
# a few hundred live codes takes centuries, while a person mistyping twice is never slowed.
MAX_FAILURES_PER_WINDOW = 10
FAILURE_WINDOW_SECS = 60.0
MAX_TRACKED_ADDRESSES = 100_000  # bounds memory under a flood from many addresses
GUESSING_ALARM_EVERY_SECS = 600.0  # one alarm per guessing run, not one per refused guess


class FailureThrottle:
    """Counts failures per key in a sliding window; refuses a key that failed too often.

    `processes`: the HTTP processes of the node (Settings.workers), each counting what it sees;
    each refuses at its share of the limit, so that together they never allow more."""

    def __init__(
        self,
        limit: int = MAX_FAILURES_PER_WINDOW,
        window_secs: float = FAILURE_WINDOW_SECS,
        clock: Callable[[], float] = time.monotonic,
        processes: int = 1,
    ) -> None:
        self.limit = limit
        self.window_secs = window_secs
        self.clock = clock
        self.processes = processes
        self._failures: dict[str, deque[float]] = {}

    def retry_after_secs(self, key: str, limit: int | None = None) -> float | None:
        """Seconds until `key` may try again, or None if it may try now (`limit`: this key's
        own limit, e.g. a site setting, instead of the throttle's)."""
        failures = self._recent(key)
        if len(failures) < self.share_of(limit or self.limit):
            return None
        return max(0.0, failures[0] + self.window_secs - self.clock())

    def share_of(self, limit: int) -> int:
        """This process's share of a limit (at least one attempt)."""
        return max(1, math.floor(limit / self.processes))

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


class CodeSpace(StrEnum):
    """The kinds of code a guesser can try, each throttled on its own."""

    ENROLLMENT_CODE = "enrollment_code"  # 8 characters, one device (POST /enroll)
    PASS = "pass"  # 16 characters, a standing pass (POST /passes/redeem and the like)


class GuessingGuard:
    """Wrong codes per code space from all addresses together, and when to raise the alarm."""

    def __init__(
        self,
        limit: int,  # Settings.code_guesses_per_min
        window_secs: float = FAILURE_WINDOW_SECS,
        clock: Callable[[], float] = time.monotonic,
        processes: int = 1,
    ) -> None:
        self.throttle = FailureThrottle(limit, window_secs, clock, processes)
        self._alarmed_at: dict[CodeSpace, float] = {}

    def refuse_if_flooded(self, space: CodeSpace) -> None:
        """429 while this kind of code saw its limit of wrong ones in the window."""
        refuse_over(self.throttle, space, GUESSING_EVERYWHERE)

    def record_failure(self, space: CodeSpace) -> bool:
        """Count a wrong code; True when it reached the limit and the alarm is due."""
        self.throttle.record_failure(space)
        if self.throttle.retry_after_secs(space) is None:
            return False
        now, last = self.throttle.clock(), self._alarmed_at.get(space)
        if last is not None and now - last < GUESSING_ALARM_EVERY_SECS:
            return False
        self._alarmed_at[space] = now
        return True


UNKNOWN_CODES = "too many unknown codes from this address; wait a minute and check the code"
GUESSING_EVERYWHERE = (
    "too many wrong codes reached this server just now (someone may be guessing); "
    "wait a minute and try again"
)


def refuse_guessers(
    throttle: FailureThrottle, request: Request, detail: str = UNKNOWN_CODES
) -> str:
    """The caller's address; 429 if it guessed wrong too often in the last minute."""
    address = client_address(request)
    refuse_over(throttle, address, detail)
    return address


def client_address(request: Request) -> str:
    """The address the request came from, as throttles key it."""
    return request.client.host if request.client else "unknown"


def refuse_over(throttle: FailureThrottle, key: str, detail: str, limit: int | None = None) -> None:
    """429 with Retry-After if `key` reached its limit of attempts in the window."""
    wait_secs = throttle.retry_after_secs(key, limit)
    if wait_secs is not None:
        raise ApiProblem(
            429,
            detail,
            slug="too-many-attempts",
            headers={"Retry-After": str(max(1, round(wait_secs)))},
        )
