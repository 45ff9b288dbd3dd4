"""Log output: one plain line per event on stderr, exceptions as plain tracebacks."""

from __future__ import annotations

import logging
import sys

import structlog


def configure_logging(level: int = logging.INFO) -> None:
    """Plain log lines for every entry point (server, CLI, tests).

    Left unconfigured, structlog renders an exception with rich and every frame's local
    variables: seconds of CPU on a 2-core box while the writer thread that logged it holds up
    every append, and tokens, codes and phone numbers copied from the locals into the log.
    """
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.dev.ConsoleRenderer(
                colors=False, exception_formatter=structlog.dev.plain_traceback
            ),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=False,
    )
