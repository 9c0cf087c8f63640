"""Nudge relay: buzz a badge when a nudge names this gateway in ``via``.

Nudge payload on ``nudges/<badge>``::

    {"v": 1, "badge": "b-0042", "via": ["gw-01", "gw-03"], "pattern": [20, 20, 20]}

``via`` may be one gateway id or a list; ``pattern`` (optional) is the buzz pattern of
``hardware/badge/FORMAT.md``. The relay connects with a BleakClient-like object, writes
the buzz characteristic with a timeout, retries, and answers on ``nudges/<badge>/ack``::

    {"v": 1, "badge": ..., "alert": <the nudge's alert id or null>, "gateway": ..., "ts": ...,
     "status": "delivered" | "failed", "reason": ...}

A nudge whose relaying raises (a bug) is logged with its traceback and acknowledged ``failed``
with ``reason`` ``relay_error: <exception type>``, so the pipeline counts it; one that cannot
even be read that far (its badge unknown) is left to the caller to log.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, Protocol

from mingle_wire import PROTOCOL_VERSION, DecodeError, Topics, dumps, loads, valid_id

from .buffer import Outbound

__all__ = [
    "BUZZ_CHAR_UUID",
    "BUZZ_SERVICE_UUID",
    "DEFAULT_PATTERN",
    "Nudge",
    "NudgeRelay",
    "RelayConfig",
    "parse_nudge",
]

log = logging.getLogger(__name__)

BUZZ_SERVICE_UUID: Final = "6d696e67-6c65-4000-8000-00805f9b34fb"
BUZZ_CHAR_UUID: Final = "6d696e67-6c65-4001-8000-00805f9b34fb"
DEFAULT_PATTERN: Final = b"\x14\x14\x14"


class BuzzClient(Protocol):
    """What the relay needs of :class:`bleak.BleakClient`."""

    async def __aenter__(self) -> Any: ...

    async def __aexit__(self, *exc: object) -> Any: ...

    async def write_gatt_char(self, char_specifier: str, data: bytes, response: bool | None = None) -> None: ...


@dataclass(frozen=True, slots=True)
class Nudge:
    badge: str
    via: tuple[str, ...]
    pattern: bytes = DEFAULT_PATTERN
    alert: str | None = None  # the pipeline's alert id, echoed in the acknowledgement


@dataclass(frozen=True, slots=True)
class RelayConfig:
    """``timeout_s`` per attempt (connect + write), ``attempts`` in all, ``retry_delay_s`` between."""

    gateway: str
    topics: Topics
    timeout_s: float = 10.0
    attempts: int = 3
    retry_delay_s: float = 1.0

    def __post_init__(self) -> None:
        if not valid_id(self.gateway):
            raise ValueError(f"gateway must be a valid id, got {self.gateway!r}")
        if self.attempts < 1 or self.timeout_s <= 0 or self.retry_delay_s < 0:
            raise ValueError(f"bad relay timing: {self.attempts=}, {self.timeout_s=}, {self.retry_delay_s=}")


def parse_nudge(payload: bytes) -> Nudge:
    """Decode a nudge; raises :class:`~mingle_wire.DecodeError` only."""
    obj = loads(payload)
    if not isinstance(obj, dict):
        raise DecodeError("not_object", type(obj).__name__)
    if obj.get("v") != PROTOCOL_VERSION:
        raise DecodeError("unknown_version", repr(obj.get("v")))
    badge, via = obj.get("badge"), obj.get("via")
    if not valid_id(badge):
        raise DecodeError("bad_id:badge", repr(badge))
    vias: tuple[Any, ...] | None = None
    if via is None and "via" in obj:  # null: no gateway heard the badge lately (the phone page has it)
        vias = ()
    elif isinstance(via, str):
        vias = (via,)
    elif isinstance(via, list):
        vias = tuple(via)
    if vias is None or not all(valid_id(v) for v in vias):
        raise DecodeError("bad_type:via", repr(via))
    alert = obj.get("alert")
    alert = alert if valid_id(alert) else None
    pattern = obj.get("pattern")
    if pattern is None:
        return Nudge(str(badge), vias, alert=alert)
    ok = isinstance(pattern, list) and 1 <= len(pattern) <= 8
    if not ok or not all(isinstance(p, int) and not isinstance(p, bool) and 1 <= p <= 255 for p in pattern):
        raise DecodeError("bad_type:pattern", repr(pattern))
    return Nudge(str(badge), vias, bytes(pattern), alert)


class NudgeRelay:
    """``await handle(topic_payload)``; acknowledgements go to ``send`` as :class:`Outbound`."""

    def __init__(
        self,
        config: RelayConfig,
        *,
        device_for: Callable[[str], Any | None],
        client_factory: Callable[[Any, float], BuzzClient],
        send: Callable[[Outbound], None],
        clock: Callable[[], float],
    ) -> None:
        self.config = config
        self._device_for, self._client_factory, self._send, self._clock = device_for, client_factory, send, clock
        self.delivered = 0
        self.failed = 0
        self.ignored = 0

    async def handle(self, payload: bytes) -> str | None:
        """Relay one nudge payload; returns the ack status, or ``None`` when not for us."""
        try:
            nudge = parse_nudge(payload)
        except DecodeError as exc:
            log.warning("bad nudge: %s", exc)
            self.ignored += 1
            return None
        if self.config.gateway not in nudge.via:
            return None
        try:
            reason = await self._buzz(nudge)
        except Exception as exc:  # a bug (BLE failures are reasons already): answered, not left unanswered
            log.exception("relaying the nudge for %s failed", nudge.badge)
            reason = f"relay_error: {type(exc).__name__}"
        status = "delivered" if reason is None else "failed"
        if reason is None:
            self.delivered += 1
        else:
            self.failed += 1
        ack = {
            "v": PROTOCOL_VERSION,
            "badge": nudge.badge,
            "alert": nudge.alert,
            "gateway": self.config.gateway,
            "ts": round(self._clock(), 3),
            "status": status,
            "reason": reason,
        }
        self._send(Outbound(f"{self.config.topics.nudge(nudge.badge)}/ack", dumps(ack)))
        return status

    async def _buzz(self, nudge: Nudge) -> str | None:
        """None when delivered, else the last attempt's failure reason."""
        device = self._device_for(nudge.badge)
        if device is None:
            return "badge_not_heard"
        reason = "no_attempt"
        for attempt in range(1, self.config.attempts + 1):
            try:
                async with asyncio.timeout(self.config.timeout_s):
                    async with self._client_factory(device, self.config.timeout_s) as client:
                        await client.write_gatt_char(BUZZ_CHAR_UUID, nudge.pattern, response=True)
                return None
            except TimeoutError:
                reason = "timeout"
            except Exception as exc:  # bleak raises BleakError, dbus errors, OSError: translate them all
                reason = f"{type(exc).__name__}: {exc}"[:200]
            log.info("buzz %s attempt %d/%d failed: %s", nudge.badge, attempt, self.config.attempts, reason)
            if attempt < self.config.attempts:
                await asyncio.sleep(self.config.retry_delay_s)
        return reason
