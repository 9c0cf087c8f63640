"""Frames to pair contacts at 20 s resolution (the SocioPatterns convention).

Two people are in contact during a window when they share a cluster in at least one frame
whose time falls in that window; windows are ``[k * window_s, (k + 1) * window_s)``.
"""

from __future__ import annotations

from itertools import combinations

from mingle_wire import Frame

__all__ = ["Contact", "ContactAccumulator"]

#: (window start in whole seconds, badge a, badge b) with ``a < b``.
Contact = tuple[int, str, str]


class ContactAccumulator:
    """Streaming core: ``update(frame)`` returns the contacts of windows that have closed.

    ``window_s`` is the window length in seconds (> 0; 20 by SocioPatterns convention).
    Frames must come in time order; a frame older than the open window raises ``ValueError``.
    Output is sorted, so the same frames give the same contacts.
    """

    def __init__(self, window_s: int = 20) -> None:
        if isinstance(window_s, bool) or not isinstance(window_s, int) or window_s <= 0:
            raise ValueError(f"window_s must be a positive integer number of seconds, got {window_s!r}")
        self.window_s = window_s
        self._window: int | None = None
        self._pairs: set[tuple[str, str]] = set()

    def update(self, frame: Frame) -> list[Contact]:
        k = int(frame.ts // self.window_s)
        out: list[Contact] = []
        if self._window is not None and k < self._window:
            raise ValueError(
                f"frame at {frame.ts!r} s is older than the open window starting at {self._window * self.window_s} s"
            )
        if self._window is not None and k > self._window:
            out = self.flush()
        self._window = k
        for cluster in frame.clusters:
            for a, b in combinations(sorted(set(cluster.members)), 2):
                self._pairs.add((a, b))
        return out

    def flush(self) -> list[Contact]:
        """Close the open window and return its contacts."""
        if self._window is None:
            return []
        t = self._window * self.window_s
        out = [(t, a, b) for a, b in sorted(self._pairs)]
        self._pairs.clear()
        return out
