"""Logged errors: a plain traceback that names where it failed, never the local variables."""

from __future__ import annotations

import pytest
import structlog

from konenut.logs import configure_logging

TOKEN = "kT0ken-that-must-never-reach-a-log-file"


def _enrol_with(token: str) -> None:
    phone = "+972501234567"
    raise ValueError(f"enrolment failed for a device ({len(token)} chars, {len(phone)} digits)")


def test_an_error_log_has_the_traceback_but_not_the_locals(
    capsys: pytest.CaptureFixture[str],
) -> None:
    configure_logging()
    log = structlog.get_logger("konenut.test")
    try:
        _enrol_with(TOKEN)
    except ValueError:
        log.exception("enrolment.failed", device="d-1")

    err = capsys.readouterr().err
    assert "enrolment.failed" in err and "device=d-1" in err
    assert "Traceback (most recent call last)" in err
    assert "_enrol_with" in err and "ValueError: enrolment failed" in err
    assert TOKEN not in err, "a local variable (a token) was copied into the log"
    assert "+972501234567" not in err
