"""Application layer: command handlers, queries, identity and the permission matrix."""
