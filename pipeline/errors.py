"""Errors of the pipeline's edges.

Exception tree::

    MingleError
    ├── ConfigError     a venue or roster file is wrong; the message names the file,
    │                   the line and key, and the bad value
    ├── BrokerError     (pipeline.live.broker) the broker cannot be used as configured:
    │                   an unusable TLS CA file, a certificate that does not verify
    └── InputError      (pipeline.evaluation.errors) a truth or replay file is wrong
"""

from __future__ import annotations

__all__ = ["ConfigError", "MingleError"]


class MingleError(Exception):
    """Base class for the pipeline's own errors."""


class ConfigError(MingleError):
    """A configuration file is invalid: ``file:line: key: problem (got value)``."""

    def __init__(self, path: str, line: int | None, key: str, problem: str) -> None:
        self.path = path
        self.line = line
        self.key = key
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {key}: {problem}" if key else f"{where}: {problem}")
