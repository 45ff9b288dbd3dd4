"""Konenut: coordination for a community's own emergency-response squad."""

__version__ = "0.1.0"
