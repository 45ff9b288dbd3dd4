"""`make test` on a fresh machine: it installs the system packages it lacks first (the script
`.ci/run` relies on), and `.ci/run` only hands over to it."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INSTALL_SCRIPT = ROOT / ".ci" / "install-system-packages"
# What the install script itself runs, so that a PATH of only these hides everything it checks.
SCRIPT_TOOLS = ("bash", "dirname", "dpkg-query", "getent", "id", "mktemp", "rm", "python3")


def run(command: list[str], path: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PATH": path} if path else None
    return subprocess.run(
        command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def path_with_only(tools: tuple[str, ...], folder: Path) -> str:
    """A PATH of one folder holding links to `tools` (from this machine's PATH) and no more."""
    folder.mkdir()
    for tool in tools:
        found = shutil.which(tool)
        assert found is not None, tool
        (folder / tool).symlink_to(found)
    return str(folder)


def test_make_test_runs_the_install_script_before_anything_else() -> None:
    # Under `make test` this runs as a sub-make, which would print "Entering directory" lines.
    planned = run(["make", "--no-print-directory", "-n", "test"])
    assert planned.returncode == 0, planned.stderr
    commands = planned.stdout.splitlines()
    assert commands[0] == ".ci/install-system-packages"
    assert any("pytest" in line for line in commands[1:])


def test_make_lint_and_make_test_check_the_import_layers() -> None:
    for target in ("lint", "test"):
        planned = run(["make", "--no-print-directory", "-n", target])
        assert planned.returncode == 0, planned.stderr
        assert any("lint-imports" in line for line in planned.stdout.splitlines()), target


def test_the_install_script_does_nothing_when_all_is_there() -> None:
    checked = run([str(INSTALL_SCRIPT)])  # what `make test` runs: no apt-get on this machine
    assert checked.returncode == 0, checked.stderr
    assert "all present" in checked.stderr
    assert "installing" not in checked.stderr


def test_the_install_script_names_what_is_missing(tmp_path: Path) -> None:
    path = path_with_only(SCRIPT_TOOLS, tmp_path / "bin")
    checked = run([str(INSTALL_SCRIPT), "--check"], path=path)
    assert checked.returncode == 1
    missing = checked.stderr.split("missing:")[1].split()
    assert {"redis-server", "chromium", "make"} <= set(missing)
    assert "fonts-noto-core" not in missing  # a package, found by dpkg, not on the PATH


def test_ci_run_only_calls_make_test(tmp_path: Path) -> None:
    """`.ci/run` with a `make` that says how it was called: `make test`, nothing else."""
    path = path_with_only(("bash", "dirname"), tmp_path / "bin")
    fake_make = tmp_path / "bin" / "make"
    fake_make.write_text('#!/bin/sh\necho "make $*"\n')
    fake_make.chmod(0o755)
    ran = run([str(ROOT / ".ci" / "run")], path=path)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout == "make test\n"
