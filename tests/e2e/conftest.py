"""Fixtures of the end-to-end tests: the local receivers of outbound channels."""

from notify.receivers import push_service, receiver_factory

__all__ = ["push_service", "receiver_factory"]
