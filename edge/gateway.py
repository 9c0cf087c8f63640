"""The gateway's pure core: decode, batch, watch, count — every input carries ``now``.

A badge advertisement becomes a reading; one carrying a neighbour report also
becomes contacts, once per (badge, seq) (:mod:`edge.contacts`).

The async runner (:mod:`edge.cli`) feeds it bleak callbacks and a clock, and publishes what
:meth:`GatewayCore.tick` returns. Tests and the replay use the very same object.
"""

from __future__ import annotations

from collections import Counter, OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mingle_wire import Topics, encode_contacts, encode_readings

from .advert import AdvertConfig, BadgeAdvert, decode_advert
from .batcher import FRESH_S, Batcher, BatcherConfig, clock_set
from .buffer import Outbound, StoreAndForward
from .contacts import RELAY_MIN_DBM, ContactBatcher
from .huddle import HuddleButton
from .status import STATUS_PERIOD_S, GatewayStats, StatusMeter, encode_status
from .watchdog import Watchdog, WatchdogConfig

__all__ = ["GatewayConfig", "GatewayCore"]

MAX_DEVICES = 5000
#: Badges at or below this battery percent are listed in the status.
LOW_BATTERY_PCT = 20
#: Rejections of adverts from other devices (phones, other vendors' beacons): not faults, not counted.
FOREIGN = frozenset({"wrong_company", "no_payload", "not_ibeacon", "wrong_uuid"})


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    topics: Topics
    batcher: BatcherConfig
    advert: AdvertConfig = field(default_factory=AdvertConfig)
    watchdog: WatchdogConfig = field(default_factory=WatchdogConfig)
    version: str = "0"
    adapter: str = "default"
    buffer_capacity: int = 3600
    relay_min_dbm: float | None = RELAY_MIN_DBM

    def __post_init__(self) -> None:
        if isinstance(self.buffer_capacity, bool) or not isinstance(self.buffer_capacity, int):
            raise TypeError(f"buffer_capacity must be an int, got {self.buffer_capacity!r}")
        if self.buffer_capacity < 1:
            raise ValueError(f"buffer_capacity must be at least 1 message, got {self.buffer_capacity!r}")


class GatewayCore:
    """``advert(...)`` per advertisement; ``tick(now)`` for batches, status and restarts."""

    def __init__(self, config: GatewayConfig, now: float) -> None:
        self.config = config
        self.gateway = config.batcher.gateway
        self.batcher = Batcher(config.batcher)
        self.batcher.flush(now)
        self.contacts = ContactBatcher(config.batcher, max_badges=MAX_DEVICES, relay_min_dbm=config.relay_min_dbm)
        self.contacts.flush(now)
        self.watchdog = Watchdog(config.watchdog, now)
        self.meter = StatusMeter(now)
        self.buffer = StoreAndForward(config.buffer_capacity)
        self.rejections: Counter[str] = Counter()
        self.huddle_button = HuddleButton(config.topics)
        self._devices: OrderedDict[str, Any] = OrderedDict()
        self._battery: dict[str, tuple[int, float]] = {}  # badge -> (battery %, when heard)
        self._next_status = now + STATUS_PERIOD_S

    def advert(self, device: Any, manufacturer_data: Mapping[int, bytes], rssi_dbm: float, now: float) -> None:
        if not clock_set(now):  # heard before NTP set the clock: no time to give it (counted)
            self.rejections["clock_unset"] += 1
            self.meter.reject()
            return
        result = decode_advert(manufacturer_data, self.config.advert)
        if not isinstance(result, BadgeAdvert):
            if result.reason not in FOREIGN:  # other devices' adverts are not faults
                self.rejections[result.reason] += 1
                self.meter.reject()
            return
        self.watchdog.seen(result.badge, now)
        self.meter.advert(result.badge)
        self.batcher.add(result, rssi_dbm, now)
        self.contacts.add(result, now, rssi_dbm)  # relayed by the gateways that hear the badge well
        if result.kind == "mingle":  # the team-huddle button: pause this badge's nudges
            pause = self.huddle_button.update(result.badge, result.huddle, now)
            if pause is not None:
                self.buffer.push(pause)
        self._devices[result.badge] = device
        self._devices.move_to_end(result.badge)
        if result.battery_pct is not None:
            self._battery[result.badge] = (result.battery_pct, now)
        else:  # unknown now: an earlier low reading says nothing any more
            self._battery.pop(result.badge, None)
        if len(self._devices) > MAX_DEVICES:
            evicted, _ = self._devices.popitem(last=False)
            self._battery.pop(evicted, None)

    def device(self, badge: str) -> Any | None:
        """The last BLE device that advertised ``badge`` (for the nudge relay), if any."""
        return self._devices.get(badge)

    def online(self, now: float) -> Outbound:
        return Outbound(self.config.topics.gateway_status(self.gateway), self._status("online", now), 1, True)

    def offline_payload(self, now: float) -> bytes:
        return encode_status(self.gateway, "offline", now, version=self.config.version, adapter=self.config.adapter)

    def _status(self, state: str, now: float) -> bytes:
        rate, badges = self.meter.take(now)
        stats = GatewayStats(
            adverts_per_s=rate,
            badges_heard=badges,
            buffer_depth=len(self.buffer),
            buffer_dropped=self.buffer.dropped,
            scanner_restarts=self.watchdog.restarts,
            last_advert_age_s=self.watchdog.last_advert_age(now),
            rejected=self.meter.rejected,
            duplicate_filtering_suspected=self.watchdog.duplicate_filtering_suspected,
            huddle_badges=tuple(self.batcher.huddle_badges(now))[:500],
            low_battery_badges=tuple(
                sorted(
                    b
                    for b, (pct, heard) in self._battery.items()
                    if pct <= LOW_BATTERY_PCT and 0 <= now - heard <= FRESH_S  # (heard lately)
                )
            )[:500],
            contacts=self.contacts.accepted,
            contacts_dropped=sum(self.contacts.dropped.values()),
        )
        return encode_status(
            self.gateway, "online", now, version=self.config.version, adapter=self.config.adapter, stats=stats
        )

    def tick(self, now: float) -> tuple[Outbound | None, bool]:
        """Queue a finished window's readings batch, and its contacts batch when not empty, in the buffer.

        Returns (the status message to publish directly, or ``None``; whether to restart
        the scanner). Status is retained and superseded every period, so it is not buffered.
        """
        batch = self.batcher.flush(now)
        if batch is not None:
            self.buffer.push(Outbound(self.config.topics.readings(self.gateway), encode_readings(batch)))
        contacts = self.contacts.flush(now)
        if contacts is not None and contacts.contacts:
            self.buffer.push(Outbound(self.config.topics.contacts(self.gateway), encode_contacts(contacts)))
        status = None
        if not clock_set(now):  # a status needs a time too; it waits for NTP like the readings
            return status, self.watchdog.check(now)
        if now < self._next_status - STATUS_PERIOD_S:  # the clock was set back: due now, not then
            self._next_status = now
        if now >= self._next_status:
            status = self.online(now)
            self._next_status = now + STATUS_PERIOD_S
        return status, self.watchdog.check(now)
