"""No import runs back up: the layers contract in pyproject.toml ([tool.importlinter]) holds."""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.cli import lint_imports

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"
SUCCESS = 0


def test_every_import_points_inwards(capfd: pytest.CaptureFixture[str]) -> None:
    status = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert status == SUCCESS, capfd.readouterr().out
