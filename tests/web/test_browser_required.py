"""The browser tests run, or the run fails: no Chromium is an error that says what to install,
unless KONENUT_TEST_SKIP_BROWSER=1 asks to skip them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from .conftest import INSTALL_BROWSER, SKIP_BROWSER_VARIABLE

ROOT = Path(__file__).resolve().parents[2]
THIS_TEST = "tests/web/test_browser_required.py::test_the_browser_starts"


@pytest.mark.browser
def test_the_browser_starts(browser: Any) -> None:
    assert browser.is_connected()
    assert browser.version


def pytest_run(node: str, **env: str) -> subprocess.CompletedProcess[str]:
    """A separate pytest run of `node`, as `make test` would run it, with `env` added."""
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", node],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if k != SKIP_BROWSER_VARIABLE} | env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_a_missing_browser_fails_the_run_with_what_to_install(tmp_path: Path) -> None:
    ran = pytest_run(THIS_TEST, KONENUT_TEST_CHROMIUM=str(tmp_path / "chromium"))
    assert ran.returncode == 1, ran.stdout
    assert "1 error" in ran.stdout
    assert INSTALL_BROWSER in ran.stdout
    assert SKIP_BROWSER_VARIABLE in ran.stdout


def test_skipping_the_browser_tests_must_be_asked_for(tmp_path: Path) -> None:
    ran = pytest_run(
        THIS_TEST, KONENUT_TEST_CHROMIUM=str(tmp_path / "chromium"), **{SKIP_BROWSER_VARIABLE: "1"}
    )
    assert ran.returncode == 0, ran.stdout
    assert "1 skipped" in ran.stdout
