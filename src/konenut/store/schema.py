"""Tables of the event store (SQLAlchemy Core). Alembic migrations create them."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

metadata = sa.MetaData()

Json = sa.JSON().with_variant(JSONB(), "postgresql")

# The log. seq is gap-free per site; the primary key makes a duplicate seq impossible.
events = sa.Table(
    "events",
    metadata,
    sa.Column("site_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("id", sa.String(64), nullable=False, unique=True),
    sa.Column("type", sa.String(64), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("incident_id", sa.String(64), nullable=True),
    sa.Column("occurred_at", sa.String(32), nullable=False),
    sa.Column("recorded_at", sa.String(32), nullable=False),
    sa.Column("actor", sa.String(64), nullable=True),
    sa.Column("device", sa.String(64), nullable=True),
    sa.Column("location", Json, nullable=True),
    sa.Column("payload", Json, nullable=False),
    sa.Column("drill", sa.Boolean, nullable=False),
    sa.Index("ix_events_site_incident_seq", "site_id", "incident_id", "seq"),
)

# One row per site: the last seq handed out. Writers lock it to serialise appends.
site_heads = sa.Table(
    "site_heads",
    metadata,
    sa.Column("site_id", sa.String(64), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)

# Stored responses to commands, per (site, token or code, key) (contracts §3).
idempotency = sa.Table(
    "idempotency",
    metadata,
    sa.Column("site_id", sa.String(64), primary_key=True),
    sa.Column("scope", sa.String(64), primary_key=True),
    sa.Column("key_digest", sa.String(64), primary_key=True),  # SHA-256 of the key
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status", sa.Integer, nullable=False),
    sa.Column("body", Json, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False, index=True),
)

# The latest projection snapshot of each site, with the seq it includes.
snapshots = sa.Table(
    "snapshots",
    metadata,
    sa.Column("site_id", sa.String(64), primary_key=True),
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("state", Json, nullable=False),
    sa.Column("created_at", sa.String(32), nullable=False),
)
