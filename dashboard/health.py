"""Gateway and pipeline health: each one's last status, and how long ago it was heard.

:class:`Health` keeps the last ``gateways/<gateway>/status`` of every venue gateway and the
last ``pipeline/status``, and answers with the map's health rows. Statuses are retained on
the broker, so a status may be old when it arrives: it ages from its own ``ts``, never from
its arrival (see :meth:`Health.apply_gateway_status`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mingle_wire import DecodeError, finite_number

__all__ = ["Health"]


@dataclass(slots=True)
class _GatewayHealth:
    state: str
    at: float  # the status's own ``ts``, no later than its arrival
    adverts_per_s: float | None
    badges_heard: int | None


class Health:
    """The venue's gateways (ids, in the venue's order) and the pipeline, as last heard.

    A gateway whose last-heard age (seconds, rounded to 0.1) exceeds ``stale_s`` shows ``stale``,
    unless its last status said ``offline``.
    """

    def __init__(self, gateways: Sequence[str], *, stale_s: float) -> None:
        self.gateways = tuple(gateways)
        self.stale_s = stale_s
        self._gateway_ids = frozenset(self.gateways)
        self._gateways: dict[str, _GatewayHealth] = {}
        self._pipeline: dict[str, Any] | None = None
        self._pipeline_received: float | None = None

    def apply_gateway_status(self, gateway: str, payload: Mapping[str, Any], now: float) -> bool:
        """Keep a ``gateways/<gateway>/status``; one not from a venue gateway, naming another
        gateway or without a finite ``ts`` raises ``DecodeError`` (the hub counts and logs it).

        The status ages from its own ``ts``, not from its arrival: it is retained, so a
        dashboard that (re)subscribes gets a dead gateway's last ``online`` at once, however
        old. A ``ts`` ahead of ``now`` (a gateway clock running fast) counts as ``now``, so
        it cannot keep a gateway fresh beyond ``stale_s`` after it arrived. Nor does
        a status move "last heard" back: the last will's ``offline`` carries the time the
        gateway set it up (at start), not the time it was last heard.
        """
        if gateway not in self._gateway_ids:
            raise DecodeError("unknown_gateway", f"gateway {gateway[:60]!r} is not in the venue")
        if payload.get("gateway") != gateway:
            raise DecodeError("gateway_mismatch", f"payload names gateway {str(payload.get('gateway'))[:60]!r}")
        ts = finite_number(payload.get("ts"))
        if ts is None:
            raise DecodeError("bad_ts", f"status ts {str(payload.get('ts'))[:40]!r} is not a finite number")
        state = payload.get("state")
        stats = payload.get("stats")
        stats = stats if isinstance(stats, Mapping) else {}
        heard = stats.get("badges_heard")
        at = min(ts, now)
        before = self._gateways.get(gateway)
        self._gateways[gateway] = _GatewayHealth(
            state=state if state in ("online", "offline") else "unknown",
            at=at if before is None else max(at, before.at),
            adverts_per_s=finite_number(stats.get("adverts_per_s")),
            badges_heard=heard if isinstance(heard, int) and not isinstance(heard, bool) else None,
        )
        return True

    def apply_pipeline_status(self, payload: Mapping[str, Any], now: float) -> None:
        """Keep a ``pipeline/status``. With a finite ``ts`` it ages from that (retained, it may be
        old when a restarted dashboard gets it), no later than ``now`` and never moving "last
        heard" back; without one (the connect-time ``online``, the last will) from its arrival."""
        ts = finite_number(payload.get("ts"))
        at = now
        if ts is not None:
            at = min(ts, now)
            if self._pipeline_received is not None:
                at = max(at, self._pipeline_received)
        self._pipeline = dict(payload)
        self._pipeline_received = at

    def gateway_health(self, now: float) -> list[dict[str, Any]]:
        """One row per venue gateway: state, seconds since last heard, adverts/s, and whether the
        pipeline reports it silent."""
        silent: set[str] = set()
        if self._pipeline is not None:
            stats = self._pipeline.get("stats")
            if isinstance(stats, Mapping) and isinstance(stats.get("gateways_silent"), list):
                silent = {str(g) for g in stats["gateways_silent"]}
        out = []
        for gid in self.gateways:
            h = self._gateways.get(gid)
            if h is None:
                state, age, rate = "unknown", None, None
            else:
                age = round(max(0.0, now - h.at), 1)
                state = h.state if h.state == "offline" or age <= self.stale_s else "stale"
                rate = h.adverts_per_s
            out.append(
                {
                    "id": gid,
                    "state": state,
                    "last_heard_s": age,
                    "adverts_per_s": rate,
                    "silent": gid in silent,
                }
            )
        return out

    def pipeline_health(self, now: float) -> dict[str, Any]:
        """The pipeline's last state and seconds since it was last heard (``unknown`` before any)."""
        if self._pipeline is None or self._pipeline_received is None:
            return {"state": "unknown", "last_heard_s": None}
        state = self._pipeline.get("state")
        return {
            "state": state if state in ("online", "offline") else "unknown",
            "last_heard_s": round(max(0.0, now - self._pipeline_received), 1),
        }
