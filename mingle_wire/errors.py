"""Errors raised at the broker boundary.

Exception tree::

    WireError                 anything wrong with a message or a recording
    ├── DecodeError           an inbound payload is rejected; ``reason`` is a short,
    │                         stable code (``bad_json``, ``missing_field:rssi``, ...)
    │                         used as a counter key, ``detail`` says what was seen
    └── RecordingError        a recording file line cannot be read (names file and line)
"""

from __future__ import annotations

__all__ = ["DecodeError", "RecordingError", "WireError"]


class WireError(Exception):
    """Base class for every error raised by :mod:`mingle_wire`."""


class DecodeError(WireError):
    """An inbound message (or one item inside it) was rejected.

    ``reason`` is a stable code suitable as a metrics key; ``detail`` is a
    human-readable explanation that includes the offending value.
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)


class RecordingError(WireError):
    """A line of a recording file could not be read."""
