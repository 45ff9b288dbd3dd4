"""Alembic migrations run from code: upgrade to head, and tell whether we are at head."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest revision in migrations/versions, named here so that a start finds the database at
# head without loading Alembic (a tenth of a server's start); a test holds it to Alembic's head.
HEAD_REVISION = "0001"
VERSION_TABLE = "alembic_version"  # Alembic's default


def _config() -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def head_revision() -> str | None:
    """The head as Alembic reads it from the migration scripts."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: sa.Engine) -> str | None:
    """The revision the database is at (None before the first migration)."""
    with engine.connect() as connection:
        if not sa.inspect(connection).has_table(VERSION_TABLE):
            return None
        version = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return version.scalar()


def upgrade(engine: sa.Engine) -> None:
    """Bring the database to the newest schema (Alembic is loaded only when there is work)."""
    if at_head(engine):
        return
    from alembic import command

    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")


def at_head(engine: sa.Engine) -> bool:
    return current_revision(engine) == HEAD_REVISION
