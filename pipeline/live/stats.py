"""Live statistics for ``pipeline/status`` (published every ``interval_s`` of pipeline time)."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.step import PipelineState

__all__ = ["MAX_LAGS", "LiveStats"]

MAX_LAGS = 100_000  # queueing lags kept between two reports


class LiveStats:
    """Counts what the shell sees (arrivals per gateway, queueing lag) and reports with the state's counters."""

    def __init__(self, state: PipelineState, *, started: float, silent_after_s: float = 30.0) -> None:
        self.state = state
        self.silent_after_s = silent_after_s
        self.gateways = {g.id for g in state.venue.gateways}
        self.last_heard: dict[str, float] = dict.fromkeys(self.gateways, started)
        self._last_report = started
        self._last_readings = 0
        self._last_ticks = 0
        self.queue_lag_s: list[float] = []
        self.badges_placed = 0

    def lagged(self, lags: list[float]) -> None:
        """Note the queueing lag of a tick's messages (the newest ``MAX_LAGS`` are kept between
        reports, so a status long in coming cannot grow memory)."""
        self.queue_lag_s.extend(lags)
        if len(self.queue_lag_s) > MAX_LAGS:
            del self.queue_lag_s[: len(self.queue_lag_s) - MAX_LAGS]

    def heard(self, topic: str, now: float) -> None:
        """Note an arrival on ``topic`` (only venue gateways are tracked, so the map stays bounded)."""
        gateway = topic.rsplit("/", 1)[-1]
        if gateway in self.gateways and "/readings/" in topic:
            self.last_heard[gateway] = now

    def report(self, now: float, *, queue_depth: int, queue_max: int, dropped: int, **extra: Any) -> dict[str, Any]:
        st = self.state
        ing = st.ingest
        elapsed = max(now - self._last_report, 1e-9)
        ticks = list(st.tick_seconds)[-max(st.ticks - self._last_ticks, 1) :] or [0.0]
        summary = st.windows.summarize(now, len(st.venue.gateways))
        newest = float(summary.last_ts.max()) if len(summary) else None
        lag = np.array(self.queue_lag_s) if self.queue_lag_s else np.zeros(1)
        out = {
            "messages": ing.messages,
            "readings": ing.readings,
            "readings_per_s": round((ing.readings - self._last_readings) / elapsed, 1),
            "contacts": ing.contacts,
            "rejected": dict(sorted(ing.rejected.items())),
            "unknown_badges": len(ing.unknown_badges),
            "queue": {"depth": queue_depth, "max": queue_max, "dropped": dropped, "policy": "drop-oldest"},
            "tick_ms_p50": round(float(np.percentile(ticks, 50)) * 1000, 2),
            "tick_ms_p95": round(float(np.percentile(ticks, 95)) * 1000, 2),
            "lag_s": {
                "reading": None if newest is None else round(now - newest, 3),
                "queue_p50": round(float(np.percentile(lag, 50)), 3),
                "queue_max": round(float(lag.max()), 3),
            },
            "badges_placed": self.badges_placed,
            "gateways_silent": sorted(g for g, t in self.last_heard.items() if now - t > self.silent_after_s),
            **extra,
        }
        self._last_report = now
        self._last_readings = ing.readings
        self._last_ticks = st.ticks
        self.queue_lag_s = []
        return out
