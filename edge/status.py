"""The retained ``gateways/<gateway>/status`` payload (pure).

``online`` is published retained on every connect and then refreshed every
``STATUS_PERIOD_S`` with stats; the last will publishes ``offline`` retained, so a
subscriber never sees a live gateway as offline (ESPresense-companion's known bug).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final, Literal

from mingle_wire import PROTOCOL_VERSION, dumps

__all__ = ["STATUS_PERIOD_S", "GatewayStats", "StatusMeter", "encode_status"]

STATUS_PERIOD_S: Final = 10.0


@dataclass(frozen=True, slots=True)
class GatewayStats:
    """One status period's numbers; rates per second, ages in seconds.

    ``contacts`` (neighbour-report items batched) and ``contacts_dropped`` (over a window's
    limit) count since the gateway started, like ``buffer_dropped``.
    """

    adverts_per_s: float
    badges_heard: int
    buffer_depth: int
    buffer_dropped: int
    scanner_restarts: int
    last_advert_age_s: float | None
    rejected: int
    duplicate_filtering_suspected: bool
    huddle_badges: tuple[str, ...] = ()
    low_battery_badges: tuple[str, ...] = ()
    contacts: int = 0
    contacts_dropped: int = 0


def encode_status(
    gateway: str,
    state: Literal["online", "offline"],
    now: float,
    *,
    version: str,
    adapter: str,
    stats: GatewayStats | None = None,
) -> bytes:
    """The status payload as JSON bytes."""
    body: dict[str, Any] = {
        "v": PROTOCOL_VERSION,
        "gateway": gateway,
        "state": state,
        "ts": round(now, 3),
        "version": version,
        "adapter": adapter,
    }
    if stats is not None:
        body["stats"] = {
            "adverts_per_s": round(stats.adverts_per_s, 2),
            "badges_heard": stats.badges_heard,
            "buffer_depth": stats.buffer_depth,
            "buffer_dropped": stats.buffer_dropped,
            "scanner_restarts": stats.scanner_restarts,
            "last_advert_age_s": None if stats.last_advert_age_s is None else round(stats.last_advert_age_s, 1),
            "rejected": stats.rejected,
            "duplicate_filtering_suspected": stats.duplicate_filtering_suspected,
            "huddle_badges": list(stats.huddle_badges),
            "low_battery_badges": list(stats.low_battery_badges),
            "contacts": stats.contacts,
            "contacts_dropped": stats.contacts_dropped,
        }
    return dumps(body)


class StatusMeter:
    """Counts advertisements and distinct badges over one status period."""

    def __init__(self, now: float) -> None:
        self._start = now
        self._adverts = 0
        self._badges: set[str] = set()
        self.rejected = 0

    def advert(self, badge: str) -> None:
        self._adverts += 1
        if len(self._badges) < 100_000:
            self._badges.add(badge)

    def reject(self) -> None:
        self.rejected += 1

    def take(self, now: float) -> tuple[float, int]:
        """(advertisements per second, distinct badges) since the last take; starts a new period."""
        elapsed = max(now - self._start, 1e-9)
        result = (self._adverts / elapsed, len(self._badges))
        self._start, self._adverts, self._badges = now, 0, set()
        return result
