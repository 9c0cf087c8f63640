"""Thin async shell around :class:`bleak.BleakScanner`.

Bleak's native types stop here: the detection callback hands the device (kept only so
the nudge relay can connect to it) and the advertisement's manufacturer data and RSSI to
``on_advert``. Passive scanning is asked for first (on BlueZ it needs an advertisement
monitor: BlueZ ≥ 5.56 with experimental features, see ``hardware/badge/FORMAT.md``);
when the platform refuses, the scanner falls back to active scanning.

Exception tree::

    ScannerError        the scanner could not be started, in either mode (wraps BleakError/OSError)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

__all__ = ["AdvertCallback", "BadgeScanner", "ScannerError", "ScannerFactory", "bleak_scanner_factory"]

log = logging.getLogger(__name__)

#: ``on_advert(device, manufacturer_data, rssi_dbm)``; ``device`` is bleak's BLEDevice.
AdvertCallback = Callable[[Any, Mapping[int, bytes], int], None]
ScanMode = Literal["passive", "active"]


class ScannerError(Exception):
    """The BLE scanner could not be started."""


class ScannerLike(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


#: ``factory(callback, mode)`` builds a scanner whose ``callback(device, advertisement_data)`` bleak calls.
ScannerFactory = Callable[[Callable[[Any, Any], None], ScanMode], ScannerLike]


def bleak_scanner_factory(adapter: str | None, company_id: int) -> ScannerFactory:
    """Factory for real bleak scanners on ``adapter`` (``hci0``; ``None`` for the default)."""

    def make(callback: Callable[[Any, Any], None], mode: ScanMode) -> ScannerLike:
        from bleak import BleakScanner
        from bleak.args.bluez import BlueZScannerArgs

        # bleak sets BlueZ's DuplicateData to false by default: ask for every advertisement
        bluez: BlueZScannerArgs = {"filters": {"DuplicateData": True}}
        if adapter:
            bluez["adapter"] = adapter
        if mode == "passive":
            from bleak.args.bluez import OrPattern
            from bleak.assigned_numbers import AdvertisementDataType

            kind = AdvertisementDataType.MANUFACTURER_SPECIFIC_DATA
            bluez["or_patterns"] = [
                OrPattern(0, kind, company_id.to_bytes(2, "little")),
                OrPattern(0, kind, (0x004C).to_bytes(2, "little")),
            ]
        scanner: ScannerLike = BleakScanner(callback, scanning_mode=mode, bluez=bluez)
        return scanner

    return make


class BadgeScanner:
    """Start, stop and restart a scanner; translate bleak's callback into ``on_advert``."""

    def __init__(self, on_advert: AdvertCallback, factory: ScannerFactory) -> None:
        self._on_advert = on_advert
        self._factory = factory
        self._scanner: ScannerLike | None = None
        self.mode: ScanMode | None = None
        self.callback_errors = 0

    def _callback(self, device: Any, advertisement_data: Any) -> None:
        try:
            raw = dict(advertisement_data.manufacturer_data or {})
            rssi = int(advertisement_data.rssi)
        except (AttributeError, TypeError, ValueError, OverflowError):
            self.callback_errors += 1
            return
        # bleak gives int company ids and bytes; anything else (another backend) is counted, not decoded.
        data = {k: bytes(v) for k, v in raw.items() if type(k) is int and isinstance(v, (bytes, bytearray, memoryview))}
        if len(data) != len(raw):
            self.callback_errors += 1
        try:
            self._on_advert(device, data, rssi)
        except Exception:  # one advert must never take the scanner's callback (bleak's thread) down
            self.callback_errors += 1
            log.exception("advert handling failed")

    async def start(self) -> None:
        errors: list[str] = []
        modes: tuple[ScanMode, ...] = ("passive", "active")
        for mode in modes:
            scanner = self._factory(self._callback, mode)
            try:
                await scanner.start()
            except Exception as exc:  # bleak raises BleakError, OSError, dbus errors: translate them all
                errors.append(f"{mode}: {type(exc).__name__}: {exc}")
                log.info("%s scanning unavailable (%s)", mode, exc)
                continue
            self._scanner, self.mode = scanner, mode
            log.info("scanning (%s)", mode)
            return
        raise ScannerError("; ".join(errors))

    async def stop(self) -> None:
        scanner, self._scanner = self._scanner, None
        if scanner is not None:
            try:
                await scanner.stop()
            except Exception as exc:  # a stalled adapter may refuse to stop: a restart is still wanted
                log.warning("scanner stop failed: %s", exc)

    async def restart(self) -> None:
        await self.stop()
        await self.start()
