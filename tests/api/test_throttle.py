"""Guessing enrollment codes: an address that sends too many unknown codes gets 429."""

from __future__ import annotations

from konenut.api.throttle import MAX_FAILURES_PER_WINDOW, FailureThrottle
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import new_code

from .conftest import SITE, Site, assert_problem


def test_too_many_unknown_codes_from_one_address_get_429_then_pass_again() -> None:
    now = [0.0]
    throttle = FailureThrottle(limit=3, window_secs=60, clock=lambda: now[0])
    for _ in range(3):
        assert throttle.retry_after_secs("10.0.0.7") is None
        throttle.record_failure("10.0.0.7")
    assert throttle.retry_after_secs("10.0.0.7") == 60
    assert throttle.retry_after_secs("10.0.0.8") is None  # other addresses are not slowed
    now[0] = 30.0
    assert throttle.retry_after_secs("10.0.0.7") == 30
    now[0] = 60.5
    assert throttle.retry_after_secs("10.0.0.7") is None


def test_the_enroll_endpoint_refuses_a_guesser_even_with_a_right_code(site: Site) -> None:
    code = new_code()
    person = next(iter(site.store.state(SITE).persons))
    site.store.execute(
        SITE, handlers.issue_enrollment_code(None, c.IssueEnrollmentCode(subject_id=person), code)
    )
    head = site.head()
    for _ in range(MAX_FAILURES_PER_WINDOW):
        wrong = site.post("/api/v1/enroll", json={"code": "AAAA-AAAA"})
        assert_problem(wrong, 404, "code-unknown", "unknown")
    refused = site.post("/api/v1/enroll", json={"code": code})
    assert_problem(refused, 429, "too-many-attempts", "wait a minute")
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert site.head() == head  # nothing was stored, the code is still unused
