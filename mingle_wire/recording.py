"""Recordings: MQTT traffic as JSON Lines, optionally gzip-compressed.

Each line is ``{"topic": ..., "payload": {...}}`` in arrival order. A line may carry
``"t"``, the arrival time in Unix seconds as stamped by the recorder; a payload that was
not valid JSON when it arrived is kept verbatim as text under ``"raw"`` instead of
``"payload"``, so a replay rejects and counts it exactly as the live service did.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from .codec import Parser, dumps
from .errors import RecordingError

__all__ = ["RecordedMessage", "RecordingWriter", "open_text", "read_recording"]


@dataclass(frozen=True, slots=True)
class RecordedMessage:
    """One recorded message: ``payload`` is the parsed JSON object or the raw text."""

    topic: str
    payload: dict[str, Any] | str
    t: float | None = None


def open_text(path: str | Path, mode: str) -> IO[str]:
    """Open a text file, transparently gzip-compressed when the name ends in ``.gz``."""
    if str(path).endswith(".gz"):
        return gzip.open(path, mode + "t", encoding="utf-8", compresslevel=6)  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


def read_recording(path: str | Path, parse: Parser = json.loads) -> Iterator[RecordedMessage]:
    """Yield the messages of a recording in order.

    Raises :class:`RecordingError` naming the file and line for a line that is not a
    recording entry (the payload inside is *not* validated here: that is the
    pipeline's job, so bad payloads are counted the same way live and in replay).
    ``parse`` may be a faster JSON parser with the same contract (e.g. ``orjson.loads``).
    """
    with open_text(path, "r") as fh:
        for lineno, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                entry = parse(line)
            except ValueError as exc:
                raise RecordingError(f"{path}:{lineno}: not JSON: {exc}") from exc
            if not isinstance(entry, dict) or not isinstance(entry.get("topic"), str):
                raise RecordingError(f"{path}:{lineno}: expected an object with a string 'topic', got {line[:80]!r}")
            payload = entry.get("payload", entry.get("raw"))
            if not isinstance(payload, (dict, str)):
                raise RecordingError(f"{path}:{lineno}: 'payload' must be an object or 'raw' a string")
            t = entry.get("t")
            if t is not None and (isinstance(t, bool) or not isinstance(t, (int, float))):
                raise RecordingError(f"{path}:{lineno}: 't' must be a number, got {t!r}")
            yield RecordedMessage(entry["topic"], payload, None if t is None else float(t))


class RecordingWriter:
    """Append messages to a recording; use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._fh = open_text(self.path, "w")

    def write(self, topic: str, payload: bytes | str | dict[str, Any], t: float | None = None) -> None:
        entry: dict[str, Any] = {"topic": topic}
        if t is not None:
            entry["t"] = round(t, 3)
        if isinstance(payload, dict):
            entry["payload"] = payload
        else:
            text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else payload
            try:
                parsed = json.loads(text)
            except ValueError:
                parsed = None
            if isinstance(parsed, dict):
                entry["payload"] = parsed
            else:
                entry["raw"] = text
        self._fh.write(dumps(entry).decode() + "\n")

    def write_all(self, messages: Iterable[RecordedMessage]) -> None:
        for m in messages:
            self.write(m.topic, m.payload, m.t)

    def close(self) -> None:
        self._fh.close()

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
