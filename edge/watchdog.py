"""Pure scanner watchdog: silent scanner stalls are bleak/BlueZ's most reported failure.

:meth:`Watchdog.check` says "restart" when no advertisement arrived for ``stall_s``
seconds while badges should be present (one was heard within ``present_s``, or the
operator says the hall is live); a restart that does not help is retried every
``min_gap_s`` until ``present_s`` of silence says the hall has emptied. It also spots a
stack that filters duplicates: badges heard, but each only once over ``duplicate_window_s``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Watchdog", "WatchdogConfig"]


@dataclass(frozen=True, slots=True)
class WatchdogConfig:
    """``stall_s``: silence (s) before a restart; ``min_gap_s``: restarts at most this often."""

    stall_s: float = 30.0
    min_gap_s: float = 30.0
    duplicate_window_s: float = 20.0
    present_s: float = 600.0
    expect_badges: bool = False

    def __post_init__(self) -> None:
        for name in ("stall_s", "min_gap_s", "duplicate_window_s", "present_s"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise ValueError(f"{name} must be a positive number of seconds, got {value!r}")


class Watchdog:
    """Feed it ``seen(badge, now)``; ask ``check(now)``; tell it ``restarted(now)``."""

    def __init__(self, config: WatchdogConfig, now: float) -> None:
        self.config = config
        self.restarts = 0
        self.last_advert: float | None = None
        self._since = now
        self._last_restart: float | None = None
        self._counts: dict[str, int] = {}
        self._dup_window_start = now
        self.duplicate_filtering_suspected = False

    def seen(self, badge: str, now: float) -> None:
        self.last_advert = now
        if now - self._dup_window_start >= self.config.duplicate_window_s:
            self._close_duplicate_window(now)
        if len(self._counts) < 10_000 or badge in self._counts:
            self._counts[badge] = self._counts.get(badge, 0) + 1

    def _close_duplicate_window(self, now: float) -> None:
        if self._counts:
            self.duplicate_filtering_suspected = len(self._counts) >= 2 and max(self._counts.values()) == 1
        self._counts = {}
        self._dup_window_start = now

    def check(self, now: float) -> bool:
        """True when the scanner should be restarted now."""
        if now - self._dup_window_start >= self.config.duplicate_window_s:
            self._close_duplicate_window(now)
        recent = self.last_advert is not None and now - self.last_advert <= self.config.present_s
        if not (recent or self.config.expect_badges):
            return False
        quiet_since = max(self.last_advert or self._since, self._since)
        if now - quiet_since < self.config.stall_s:
            return False
        return self._last_restart is None or now - self._last_restart >= self.config.min_gap_s

    def restarted(self, now: float) -> None:
        self.restarts += 1
        self._last_restart = now
        self._since = now

    def last_advert_age(self, now: float) -> float | None:
        return None if self.last_advert is None else max(0.0, now - self.last_advert)
