"""The time slider's history: frame views kept at intervals, compressed, over a bounded span.

:class:`FrameHistory` keeps one rendered frame view every ``every_s`` seconds of frame time
for the last ``span_s`` seconds, each as its compact JSON ``{"type": "history", "frame": ...}``
compressed with zlib (level 1), and hands the one at or just before a time back as JSON.
"""

from __future__ import annotations

import bisect
import zlib
from collections.abc import Callable
from typing import Any

from mingle_wire import dumps

__all__ = ["FrameHistory"]


class FrameHistory:
    """Kept frame views by frame time (seconds), oldest first."""

    def __init__(self, *, span_s: float, every_s: float) -> None:
        self.span_s = span_s
        self.every_s = every_s
        self._ts: list[float] = []
        self._kept: list[bytes] = []

    def add(self, ts: float, view: Callable[[], dict[str, Any]]) -> None:
        """Keep ``view()`` (rendered only then) for the frame at ``ts`` when ``every_s`` or more has
        passed since the last kept one; then forget those older than ``ts - span_s``."""
        if not self._ts or ts - self._ts[-1] >= self.every_s:
            self._ts.append(ts)
            self._kept.append(zlib.compress(dumps({"type": "history", "frame": view()}), 1))
        cut = bisect.bisect_left(self._ts, ts - self.span_s)
        if cut:
            del self._ts[:cut]
            del self._kept[:cut]

    def clear(self) -> None:
        self._ts.clear()
        self._kept.clear()

    def at(self, ts: float) -> bytes | None:
        """The kept frame at or just before ``ts`` (the earliest one for an earlier time)."""
        if not self._ts:
            return None
        i = bisect.bisect_right(self._ts, ts) - 1
        return zlib.decompress(self._kept[max(i, 0)])

    def span(self) -> dict[str, Any]:
        """What the slider can show: the first and last kept frame times and how many are kept."""
        return {
            "from": self._ts[0] if self._ts else None,
            "to": self._ts[-1] if self._ts else None,
            "frames": len(self._ts),
        }

    @property
    def nbytes(self) -> int:
        """Memory held by the kept frames (compressed)."""
        return sum(len(h) for h in self._kept)
