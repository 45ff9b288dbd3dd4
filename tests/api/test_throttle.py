"""Guessing codes: too many unknown codes from one address, or of one kind from all addresses
together, get 429; which address counts (trusted proxies only)."""

from __future__ import annotations

import re
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

from konenut.api.limits import COMMAND_BODY_MAX_BYTES
from konenut.api.throttle import MAX_FAILURES_PER_WINDOW, FailureThrottle
from konenut.app import commands as c
from konenut.app import handlers
from konenut.app.identity import new_code
from server import KonenutServer, run_konenut

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


def test_a_throttled_guesser_is_refused_before_its_body_is_read_or_routed(site: Site) -> None:
    # 429 wins over 413 and 422: the refusal needs nothing from the body, so reading it (or
    # routing to validate it) would only spend the CPU a flood of guesses is after
    # (api/guessers.py); the guesser learns no more from a 413 or a 422 than from the 429.
    for _ in range(MAX_FAILURES_PER_WINDOW):
        assert site.post("/api/v1/enroll", json={"code": WRONG_CODE}).status_code == 404
    headers = {**site.headers(), "Content-Type": "application/json"}
    for path in ("/api/v1/enroll", "/api/v1/passes/redeem-guest", "/api/v1/passes/inspect"):
        not_json = site.client.post(path, content=b"{not json", headers=headers)
        assert_problem(not_json, 429, "too-many-attempts", "wait a minute")
        assert 1 <= int(not_json.headers["retry-after"]) <= 60
        huge = b"x" * (COMMAND_BODY_MAX_BYTES + 1)
        too_large = site.client.post(path, content=huge, headers=headers)
        assert_problem(too_large, 429, "too-many-attempts", "wait a minute")


# --- through a real `konenut serve`: whose address a throttle counts ----------------------------
INIT_CODE = re.compile(r"\b([A-Z2-7]{4})-([A-Z2-7]{4})\b")
WRONG_CODE = "AAAA-AAAA"
WRONG_PASS = "AAAA-AAAA-AAAA-AAAA"
ALARM_WAIT_SECS = 5.0  # contracts §8: "appears" waits up to 5 s


def _initialised(tmp_path: Path) -> tuple[Path, str]:
    """A data dir made by `konenut init`, and the first admin's enrollment code."""
    data_dir = tmp_path / "site"
    init = run_konenut("init", "--data-dir", str(data_dir))
    assert init.returncode == 0, init.stderr
    return data_dir, "".join(INIT_CODE.findall(init.stdout)[0])


def _try(client: httpx.Client, path: str, code: str, forwarded_for: str) -> httpx.Response:
    headers = {"Idempotency-Key": uuid.uuid4().hex, "X-Forwarded-For": forwarded_for}
    return client.post(path, json={"code": code}, headers=headers)


def test_a_client_cannot_pick_its_address_by_x_forwarded_for(tmp_path: Path) -> None:
    """Without trusted proxies (the default) the connection's address counts: rotating
    X-Forwarded-For from loopback no longer escapes the per-address limit."""
    data_dir, _ = _initialised(tmp_path)
    with KonenutServer(data_dir) as server, server.client() as client:
        statuses = [
            _try(client, "/api/v1/enroll", WRONG_CODE, f"203.0.113.{i}").status_code
            for i in range(MAX_FAILURES_PER_WINDOW)
        ]
        refused = _try(client, "/api/v1/enroll", WRONG_CODE, "203.0.113.200")
    assert statuses == [404] * MAX_FAILURES_PER_WINDOW
    assert_problem(refused, 429, "too-many-attempts", "from this address")


def test_guessing_from_many_addresses_is_refused_and_alarms_the_command(tmp_path: Path) -> None:
    """Behind a trusted proxy each client counts by its own address, and wrong codes of one
    kind from all of them together are throttled too, with an alarm in the log."""
    data_dir, admin_code = _initialised(tmp_path)
    limit = 25
    env = {"KONENUT_TRUSTED_PROXIES": "127.0.0.1", "KONENUT_CODE_GUESSES_PER_MIN": str(limit)}
    with KonenutServer(data_dir, env=env) as server, server.client() as client:
        admin = _try(client, "/api/v1/enroll", admin_code, "198.51.100.1")
        assert admin.status_code == 201, admin.text
        token = admin.json()["token"]
        # One client behind the proxy: its own address is throttled, its neighbour is not.
        for _ in range(MAX_FAILURES_PER_WINDOW):
            assert _try(client, "/api/v1/enroll", WRONG_CODE, "198.51.100.7").status_code == 404
        mine = _try(client, "/api/v1/enroll", WRONG_CODE, "198.51.100.7")
        assert_problem(mine, 429, "too-many-attempts", "from this address")
        # Many addresses, one guess each, until all of them together reach the limit.
        for i in range(limit - MAX_FAILURES_PER_WINDOW):
            assert _try(client, "/api/v1/enroll", WRONG_CODE, f"203.0.113.{i}").status_code == 404
        flooded = _try(client, "/api/v1/enroll", WRONG_CODE, "192.0.2.1")
        assert_problem(flooded, 429, "too-many-attempts", "someone may be guessing")
        assert 1 <= int(flooded.headers["retry-after"]) <= 60
        # Passes are another code space: still answered.
        assert _try(client, "/api/v1/passes/inspect", WRONG_PASS, "192.0.2.2").status_code == 404
        alarms = _alarms(client, token)
    assert [a["payload"] for a in alarms] == [
        {"code_space": "enrollment_code", "failures": limit, "window_secs": 60}
    ]
    assert alarms[0]["actor"] is None


def _alarms(client: httpx.Client, token: str) -> list[dict[str, Any]]:
    """The code_guessing.detected events in the site log, read as the admin (waits for one)."""
    deadline = time.monotonic() + ALARM_WAIT_SECS
    while True:
        read = client.get(
            "/api/v1/site/events?since=0", headers={"Authorization": f"Bearer {token}"}
        )
        assert read.status_code == 200, read.text
        found = [e for e in read.json()["events"] if e["type"] == "code_guessing.detected"]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.1)
