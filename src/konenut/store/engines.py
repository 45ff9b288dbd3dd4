"""Database engines with the durability settings the log depends on (contracts §2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event

from konenut.security.private_files import make_private

SQLITE_BUSY_TIMEOUT_MS = 10_000  # another process (the CLI) may hold the write lock briefly
SQLITE_SIDE_FILES = ("-wal", "-shm", "-journal")


def _json_dumps(value: Any) -> str:
    return orjson.dumps(value).decode()


# orjson writes and reads the payload and location columns: with the stdlib's json, decoding
# them was a third of rebuilding the projections from the log (bench/rebuild.py).
JSON_CODECS: dict[str, Any] = {"json_serializer": _json_dumps, "json_deserializer": orjson.loads}


def is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def create_engines(url: str) -> tuple[sa.Engine, sa.Engine]:
    """A (writer, reader) pair. SQLite writers take the write lock at BEGIN (IMMEDIATE)."""
    if is_sqlite(url):
        return _sqlite_engine(url, immediate=True), _sqlite_engine(url, immediate=False)
    engine = sa.create_engine(
        url,
        **JSON_CODECS,
        pool_size=8,
        max_overflow=8,
        pool_pre_ping=True,
        connect_args={"options": "-c synchronous_commit=on"},
    )
    return engine, engine


def _sqlite_engine(url: str, *, immediate: bool) -> sa.Engine:
    _private_database_files(url)
    engine = sa.create_engine(url, **JSON_CODECS, pool_size=4, max_overflow=4)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a commit returns only once the WAL is fsync'd, so an acknowledged append survives
        # power loss (NORMAL would lose the last commits on a power cut).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL; None for any other database, or one in memory."""
    if not is_sqlite(url):
        return None
    database = sa.engine.make_url(url).database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def _private_database_files(url: str) -> None:
    """The database file and its -wal and -shm, readable by the owner only (mode 0600): made
    so before SQLite opens the file (SQLite gives the -wal and -shm the database's mode), and
    tightened when an older version left them 0644."""
    path = sqlite_path(url)
    if path is None or not path.parent.is_dir():
        return  # in memory; or SQLite reports the missing folder when it opens the file
    make_private(path)
    for suffix in SQLITE_SIDE_FILES:
        side = path.with_name(path.name + suffix)
        if side.exists():
            make_private(side)


def durability_settings(engine: sa.Engine) -> dict[str, str]:
    """The settings in force on a fresh connection, for tests and `/readyz`."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            journal = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
            synchronous = connection.exec_driver_sql("PRAGMA synchronous").scalar()
            names = {0: "OFF", 1: "NORMAL", 2: "FULL", 3: "EXTRA"}
            return {
                "journal_mode": str(journal),
                "synchronous": names.get(int(synchronous or 0), "?"),
            }
        commit = connection.exec_driver_sql("SHOW synchronous_commit").scalar()
        fsync = connection.exec_driver_sql("SHOW fsync").scalar()
        return {"synchronous_commit": str(commit), "fsync": str(fsync)}
