"""Run the real `konenut` console script as a subprocess, as a user (or a crash) would.

`KonenutServer` starts `konenut serve` on a free loopback port with a data dir, waits for
`/readyz`, and stops it politely (SIGTERM, then SIGKILL) or kills it outright (SIGKILL, for
crash tests). It always runs in its own process group, so nothing is left behind.
`run_konenut` runs one CLI command to completion.
"""

from __future__ import annotations

import contextlib
import os
import signal
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

from services import free_port, log_tail

KONENUT = str(Path(sys.executable).with_name("konenut"))  # the installed console script
READY_TIMEOUT = 30.0  # a demo start seeds a village first
STOP_TIMEOUT = 10.0
CLI_TIMEOUT = 120.0
START_ATTEMPTS = 3  # a free port can be taken between probing and binding


def konenut_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment of a child: ours without any KONENUT_* setting, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KONENUT_")}
    env.update({"COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", "PYTHONUNBUFFERED": "1"})
    env.update(extra or {})
    return env


def run_konenut(
    *args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `konenut ARGS...` to completion; stdout and stderr are captured as text."""
    return subprocess.run(
        [KONENUT, *args],
        cwd=cwd,
        env=konenut_env(env),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT,
        check=False,
    )


class ServerError(RuntimeError):
    """The server did not become ready."""


class KonenutServer:
    """`konenut serve --data-dir DIR --port FREE [flags]` in its own process group."""

    def __init__(
        self,
        data_dir: Path,
        *,
        database_url: str | None = None,
        flags: Sequence[str] = (),
        tls_ca: Path | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = Path(data_dir)
        self.database_url = database_url
        self.flags = list(flags)
        self.tls_ca = tls_ca  # set for `--tls`: readiness is checked over verified HTTPS
        self.extra_env = dict(env or {})
        self.host = "127.0.0.1"
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self._log_offset = 0  # where the current start's output begins in the log
        self.log_path = self.data_dir.parent / f"{self.data_dir.name}-serve.log"

    # -- addresses --------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"{'https' if self.tls_ca else 'http'}://{self.host}:{self.port}"

    def verify(self) -> ssl.SSLContext | bool:
        """What httpx should verify the server with: the site CA for `--tls`."""
        if self.tls_ca is None:
            return True
        return ssl.create_default_context(cafile=str(self.tls_ca))

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, verify=self.verify(), timeout=30.0, **kwargs)  # type: ignore[arg-type]

    def output(self) -> str:
        """Everything the server printed, all starts together."""
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""

    def last_output(self) -> str:
        """What the server printed since it was last started."""
        try:
            with self.log_path.open("rb") as log:
                log.seek(self._log_offset)
                return log.read().decode("utf-8", errors="replace")
        except OSError:
            return ""

    # -- lifecycle --------------------------------------------------------------------------
    def start(self) -> Self:
        if self.process is not None:
            raise ServerError("the server is already running")
        for attempt in range(1, START_ATTEMPTS + 1):
            self.port = free_port()
            self._spawn()
            if self._wait_ready(last_attempt=attempt == START_ATTEMPTS):
                self.starts += 1
                return self
        raise AssertionError("unreachable")

    def _spawn(self) -> None:
        env = dict(self.extra_env)
        if self.database_url is not None:
            env["KONENUT_DATABASE_URL"] = self.database_url
        argv = [KONENUT, "serve", "--data-dir", str(self.data_dir), "--host", self.host]
        argv += ["--port", str(self.port), *self.flags]
        with self.log_path.open("ab") as log:
            self._log_offset = log.tell()
            log.write(f"$ {' '.join(argv)}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=konenut_env(env),
                start_new_session=True,
            )

    def _wait_ready(self, *, last_attempt: bool) -> bool:
        """True once /readyz says 200; False if it died early and another attempt is allowed."""
        assert self.process is not None
        deadline = time.monotonic() + READY_TIMEOUT
        with httpx.Client(verify=self.verify(), timeout=2.0) as client:
            while time.monotonic() < deadline:
                code = self.process.poll()
                if code is not None:
                    self.process = None
                    if last_attempt or "address already in use" not in self.last_output().lower():
                        raise ServerError(
                            f"konenut serve exited with code {code}; end of its output:\n"
                            f"{log_tail(self.log_path)}"
                        )
                    return False
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.url}/readyz").status_code == 200:
                        return True
                time.sleep(0.1)
        self.kill()
        raise ServerError(
            f"konenut serve did not answer /readyz within {READY_TIMEOUT:.0f} s; end of its "
            f"output:\n{log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """A clean shutdown: SIGTERM, then SIGKILL to the whole group after 10 s."""
        process, self.process = self.process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=STOP_TIMEOUT)
        self._kill_group(process)

    def kill(self) -> None:
        """A crash: SIGKILL to the server's process group, no chance to flush or clean up."""
        process, self.process = self.process, None
        if process is not None:
            self._kill_group(process)

    @staticmethod
    def _kill_group(process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
