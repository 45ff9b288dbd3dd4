"""Fixtures of the notify tests: the local receivers (tests/notify/receivers.py)."""

from notify.receivers import push_service, receiver_factory

__all__ = ["push_service", "receiver_factory"]
