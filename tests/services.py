"""Real test services (contracts §8): PostgreSQL, Redis and Mosquitto.

Each server is started on a free loopback port in its own temporary directory, waited for until
it accepts connections, and stopped cleanly on teardown (a polite signal, then SIGKILL to the
whole process group after 10 s); the temporary directory is removed afterwards.

Stdlib only, so that it can be imported before anything else is installed.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit, urlunsplit

START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
START_ATTEMPTS = 3  # a free port can be taken by someone else between probing and binding


class ServiceError(RuntimeError):
    """A test service could not be started."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def can_connect(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def log_tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        return f"(no log at {path}: {exc})"
    return "\n".join(text.splitlines()[-lines:]) or "(log is empty)"


def make_temp_dir(prefix: str) -> Path:
    """A fresh directory under /tmp that other local users (e.g. `postgres`) can traverse."""
    path = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    path.chmod(0o755)
    return path


class Service:
    """One server process in its own temporary directory and process group."""

    name = "service"
    stop_signal = signal.SIGTERM

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.tmp: Path | None = None
        self.process: subprocess.Popen[bytes] | None = None
        self.startup_seconds = 0.0

    # -- to be provided by subclasses -------------------------------------------------------

    def _prepare(self, tmp: Path) -> None:
        """Set up the temporary directory once, before the first start attempt."""

    def _command(self, tmp: Path, port: int) -> list[str]:
        raise NotImplementedError

    def _popen_user(self) -> str | None:
        """The system user to run the server as (None: the current user)."""
        return None

    def _is_ready(self) -> bool:
        return can_connect(self.host, self.port)

    def _after_ready(self) -> None:
        """Runs once the server accepts connections (e.g. create a database)."""

    # -- lifecycle --------------------------------------------------------------------------

    @property
    def log_path(self) -> Path:
        assert self.tmp is not None, f"{self.name} is not started"
        return self.tmp / f"{self.name}.log"

    def start(self) -> Self:
        if self.process is not None:
            raise ServiceError(f"{self.name} is already started")
        began = time.monotonic()
        self.tmp = make_temp_dir(f"konenut-{self.name}-")
        atexit.register(self.stop)
        try:
            self._prepare(self.tmp)
            for attempt in range(1, START_ATTEMPTS + 1):
                self.port = free_port()
                self._spawn(self._command(self.tmp, self.port))
                if self._wait_ready(last_attempt=attempt == START_ATTEMPTS):
                    break
            self._after_ready()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _spawn(self, argv: Sequence[str]) -> None:
        user = self._popen_user()
        with self.log_path.open("ab") as log:
            if user is None:
                self.process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.tmp,
                    start_new_session=True,
                )
            else:
                entry = pwd.getpwnam(user)
                self.process = subprocess.Popen(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    cwd=self.tmp,
                    start_new_session=True,
                    user=entry.pw_uid,
                    group=entry.pw_gid,
                    extra_groups=[],
                    env={**os.environ, "HOME": entry.pw_dir, "USER": user, "LOGNAME": user},
                )

    def _wait_ready(self, *, last_attempt: bool) -> bool:
        """True once ready; False if the process died early and another attempt is allowed."""
        assert self.process is not None
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                self.process = None
                if last_attempt:
                    raise ServiceError(
                        f"{self.name} exited with code {code} while starting on port "
                        f"{self.port}; end of its log:\n{log_tail(self.log_path)}"
                    )
                return False
            if self._is_ready():
                return True
            time.sleep(0.05)
        raise ServiceError(
            f"{self.name} did not accept connections on {self.host}:{self.port} within "
            f"{START_TIMEOUT:.0f} s; end of its log:\n{log_tail(self.log_path)}"
        )

    def stop(self) -> None:
        """Stop the server (polite signal, SIGKILL after 10 s) and remove its temp dir."""
        process, self.process = self.process, None
        if process is not None:
            self._terminate(process)
        tmp, self.tmp = self.tmp, None
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
        atexit.unregister(self.stop)

    def _terminate(self, process: subprocess.Popen[bytes]) -> None:
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(self.stop_signal)
        try:
            process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        # Children left behind in the group (e.g. PostgreSQL backends after a SIGKILL).
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


# -- PostgreSQL -----------------------------------------------------------------------------


def postgres_bin_dir() -> Path:
    """The newest `/usr/lib/postgresql/<version>/bin` that has the server binaries."""

    def version(path: str) -> tuple[int, ...]:
        parts = Path(path).parent.name.split(".")
        return tuple(int(p) for p in parts if p.isdigit())

    candidates = [
        d for d in glob.glob("/usr/lib/postgresql/*/bin") if (Path(d) / "initdb").is_file()
    ]
    if not candidates:
        raise ServiceError(
            "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
            "(apt-get install postgresql)"
        )
    return Path(max(candidates, key=version))


def libpq_url(sqlalchemy_url: str) -> str:
    """The same URL for psycopg/libpq (`postgresql+psycopg://` -> `postgresql://`)."""
    scheme, rest = sqlalchemy_url.split("://", 1)
    return f"{scheme.split('+', 1)[0]}://{rest}"


def with_database(url: str, database: str) -> str:
    """`url` pointing at another database on the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


class PostgresServer(Service):
    """A throwaway PostgreSQL cluster with database `konenut_test`, trust auth on 127.0.0.1.

    `initdb` refuses to run as root, so as root the cluster belongs to the `postgres` system
    user and every server binary runs as that user (Popen's setuid, i.e. what `runuser -u
    postgres --` does, without an intermediate process between us and the postmaster).
    """

    name = "postgres"
    stop_signal = signal.SIGINT  # "fast" shutdown: does not wait for clients to disconnect
    database = "konenut_test"
    superuser = "postgres"

    def __init__(self) -> None:
        super().__init__()
        self.bin_dir = postgres_bin_dir()
        self.run_as: str | None = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError as exc:
                raise ServiceError(
                    "running as root, but there is no `postgres` system user to run initdb as"
                ) from exc
            self.run_as = "postgres"

    @property
    def data_dir(self) -> Path:
        assert self.tmp is not None
        return self.tmp / "data"

    @property
    def socket_dir(self) -> Path:
        assert self.tmp is not None
        return self.tmp / "socket"

    def url(self, database: str | None = None) -> str:
        """SQLAlchemy URL of a database on this server (default: `konenut_test`)."""
        db = database or self.database
        return f"postgresql+psycopg://{self.superuser}@{self.host}:{self.port}/{db}"

    def _popen_user(self) -> str | None:
        return self.run_as

    def _run(self, *argv: str) -> None:
        """Run a PostgreSQL tool to completion (as `postgres` when we are root)."""
        with self.log_path.open("ab") as log:
            log.write(f"$ {' '.join(argv)}\n".encode())
            log.flush()
        user = None if self.run_as is None else pwd.getpwnam(self.run_as)
        with self.log_path.open("ab") as log:
            result = subprocess.run(
                argv,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=self.tmp,
                timeout=START_TIMEOUT * 2,
                check=False,
                user=None if user is None else user.pw_uid,
                group=None if user is None else user.pw_gid,
                extra_groups=None if user is None else [],
            )
        if result.returncode != 0:
            raise ServiceError(
                f"{Path(argv[0]).name} failed with code {result.returncode}; "
                f"end of the log:\n{log_tail(self.log_path)}"
            )

    def _prepare(self, tmp: Path) -> None:
        self.socket_dir.mkdir(mode=0o755)
        self.log_path.touch(mode=0o644)
        if self.run_as is not None:
            entry = pwd.getpwnam(self.run_as)
            for path in (tmp, self.socket_dir, self.log_path):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data_dir),
            "-A",
            "trust",
            "-U",
            self.superuser,
            "-E",
            "UTF8",
            "--no-locale",
            "--no-sync",  # only initdb's own final flush; the server itself runs with fsync=on
        )

    def _command(self, tmp: Path, port: int) -> list[str]:
        return [
            str(self.bin_dir / "postgres"),
            "-D",
            str(self.data_dir),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={self.socket_dir}",
            "-c",
            "fsync=on",
            "-c",
            "synchronous_commit=on",
            "-c",
            "full_page_writes=on",
            "-c",
            "max_connections=200",
        ]

    def _is_ready(self) -> bool:
        # A TCP connect succeeds while the server still refuses connections during startup;
        # pg_isready asks the server itself.
        if not can_connect(self.host, self.port):
            return False
        result = subprocess.run(
            [
                str(self.bin_dir / "pg_isready"),
                "-q",
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.superuser,
                "-d",
                "postgres",
                "-t",
                "2",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=False,
        )
        return result.returncode == 0

    def _after_ready(self) -> None:
        self.create_database(self.database)

    def create_database(self, name: str) -> None:
        self._run(
            str(self.bin_dir / "createdb"),
            "-h",
            self.host,
            "-p",
            str(self.port),
            "-U",
            self.superuser,
            name,
        )


# -- Redis ----------------------------------------------------------------------------------


def redis_ping(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer(Service):
    """redis-server without persistence, on 127.0.0.1 only."""

    name = "redis"

    def __init__(self) -> None:
        super().__init__()
        binary = shutil.which("redis-server")
        if binary is None:
            raise ServiceError("redis-server not found on PATH (apt-get install redis-server)")
        self.binary = binary

    @property
    def url(self) -> str:
        return f"redis://{self.host}:{self.port}/0"

    def _command(self, tmp: Path, port: int) -> list[str]:
        return [
            self.binary,
            "--bind",
            self.host,
            "--port",
            str(port),
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp),
            "--daemonize",
            "no",
            "--supervised",
            "no",
            "--logfile",
            "",  # log to stdout, i.e. our log file
        ]

    def _is_ready(self) -> bool:
        return redis_ping(self.host, self.port)


# -- Mosquitto ------------------------------------------------------------------------------


def _mosquitto_binary() -> str:
    for candidate in (shutil.which("mosquitto"), "/usr/sbin/mosquitto"):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    raise ServiceError("mosquitto not found (apt-get install mosquitto)")


class MosquittoServer(Service):
    """An anonymous MQTT broker without persistence, on 127.0.0.1 only."""

    name = "mosquitto"

    def __init__(self) -> None:
        super().__init__()
        self.binary = _mosquitto_binary()

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    def _command(self, tmp: Path, port: int) -> list[str]:
        lines = [
            f"listener {port} {self.host}",
            "allow_anonymous true",
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if os.geteuid() == 0:
            # As root, mosquitto drops privileges to the user named here (default "mosquitto",
            # which exists only when the Debian package is installed).
            try:
                pwd.getpwnam("mosquitto")
                lines.append("user mosquitto")
            except KeyError:
                lines.append("user root")
        config = tmp / "mosquitto.conf"
        config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        config.chmod(0o644)
        return [self.binary, "-c", str(config)]
