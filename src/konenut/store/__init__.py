"""The append-only event store: one log per site, SQLite or PostgreSQL, one writer."""
