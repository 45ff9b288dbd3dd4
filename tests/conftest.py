from __future__ import annotations

import os
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# --- real services (contracts §8) ---------------------------------------------------------
# Session-scoped servers, started lazily (only when a test asks) on free loopback ports, unless
# KONENUT_TEST_POSTGRES_URL / KONENUT_TEST_REDIS_URL / KONENUT_TEST_MQTT_URL (mqtt://host:port)
# point at existing ones. The helpers live in tests/services.py (stdlib only).

_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:  # e.g. under --import-mode=importlib
    sys.path.insert(0, _TESTS_DIR)

from services import (  # noqa: E402
    MosquittoServer,
    PostgresServer,
    RedisServer,
    libpq_url,
    with_database,
)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL (postgresql+psycopg://...) of the session's `konenut_test` database."""
    if url := os.environ.get("KONENUT_TEST_POSTGRES_URL"):
        yield url
        return
    with PostgresServer() as server:
        yield server.url()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """redis://127.0.0.1:PORT/0 of the session's Redis."""
    if url := os.environ.get("KONENUT_TEST_REDIS_URL"):
        yield url
        return
    with RedisServer() as server:
        yield server.url


@pytest.fixture(scope="session")
def mqtt_broker() -> Iterator[tuple[str, int]]:
    """(host, port) of the session's MQTT broker (anonymous, no TLS)."""
    if url := os.environ.get("KONENUT_TEST_MQTT_URL"):
        parts = urlsplit(url)
        if parts.scheme != "mqtt" or not parts.hostname:
            raise pytest.UsageError(f"KONENUT_TEST_MQTT_URL must be mqtt://host:port, not {url!r}")
        yield (parts.hostname, parts.port or 1883)
        return
    with MosquittoServer() as server:
        yield server.address


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """SQLAlchemy URL of a new, empty database on the session server; dropped afterwards."""
    import psycopg  # lazily: only tests that use PostgreSQL need it
    from psycopg import sql

    name = f"konenut_t_{uuid.uuid4().hex[:16]}"
    admin = libpq_url(with_database(postgres_url, "postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'").format(
                sql.Identifier(name)
            )
        )
    try:
        yield with_database(postgres_url, name)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# --- end of real services ------------------------------------------------------------------
