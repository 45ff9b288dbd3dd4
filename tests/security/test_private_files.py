"""Secrets made on first use: processes starting together (`konenut serve --workers`) all read
the one secret the first of them wrote, never an empty or half-written file."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from konenut.security.private_files import load_or_create_secret

PROCESSES = 8
ROUNDS = 15


def _secret_of(path: str, start: multiprocessing.synchronize.Event) -> str:  # type: ignore[name-defined]
    start.wait()
    try:
        return load_or_create_secret(Path(path))
    except ValueError as error:  # an empty file: what a reader saw before the fix
        return f"error: {error}"


def test_processes_starting_together_all_read_the_first_ones_secret(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    with context.Pool(PROCESSES) as pool:
        for n in range(ROUNDS):
            path = tmp_path / f"secret-{n}"
            start = context.Manager().Event()
            pending = [pool.apply_async(_secret_of, (str(path), start)) for _ in range(PROCESSES)]
            start.set()
            secrets = {result.get(timeout=30) for result in pending}
            assert len(secrets) == 1, secrets
            [secret] = secrets
            assert not secret.startswith("error") and secret == path.read_text().strip()
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
    # Nothing but the secrets is left behind (no temporary files).
    assert {p.name for p in tmp_path.iterdir()} == {f"secret-{n}" for n in range(ROUNDS)}
