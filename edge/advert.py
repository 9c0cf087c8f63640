"""Pure decoding of badge advertisements (``hardware/badge/FORMAT.md``).

:func:`decode_advert` turns bleak's ``manufacturer_data`` (``{company_id: payload}``) into
a :class:`BadgeAdvert` or a :class:`Rejection`; it never raises for any bytes it is given.
A Mingle payload may carry the badge's neighbour report (``BadgeAdvert.near``).
Badges are keyed on the id decoded from the payload, never on the MAC address.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final, Literal

from mingle_wire import valid_id

__all__ = [
    "APPLE_COMPANY_ID",
    "DEFAULT_COMPANY_ID",
    "MAGIC",
    "MAX_NEIGHBOURS",
    "NEIGHBOUR_RSSI_MAX_DBM",
    "NEIGHBOUR_RSSI_MIN_DBM",
    "PAYLOAD_LEN",
    "VERSION",
    "AdvertConfig",
    "BadgeAdvert",
    "Rejection",
    "badge_id",
    "decode_advert",
    "decode_manufacturer",
]

DEFAULT_COMPANY_ID: Final = 0xFFFF
APPLE_COMPANY_ID: Final = 0x004C
MAGIC: Final = 0x4D
VERSION: Final = 1
PAYLOAD_LEN: Final = 11
MAX_BADGE_NUMBER: Final = 9999
BATTERY_UNKNOWN: Final = 0xFF
FLAG_HUDDLE: Final = 0x01
TX_MIN_DBM: Final = -100
TX_MAX_DBM: Final = 20
#: A neighbour report names at most this many badges (what fits a legacy advertisement).
MAX_NEIGHBOURS: Final = 4
NEIGHBOUR_RSSI_MIN_DBM: Final = -120
NEIGHBOUR_RSSI_MAX_DBM: Final = 10
_MINGLE: Final = struct.Struct("<BBHIbBB")
_NEIGHBOUR: Final = struct.Struct("<Hb")
_IBEACON_TAIL: Final = struct.Struct(">HHb")
_IBEACON_PREFIX: Final = b"\x02\x15"
_IBEACON_LEN: Final = 23


def badge_id(number: int) -> str:
    """The badge id of a badge number: ``b-%04d`` (42 → ``b-0042``)."""
    return f"b-{number:04d}"


@dataclass(frozen=True, slots=True)
class AdvertConfig:
    """What the decoder accepts: our company id, an iBeacon UUID, an iBeacon id mapping."""

    company_id: int = DEFAULT_COMPANY_ID
    ibeacon_uuid: uuid.UUID | None = None
    ibeacon_ids: Mapping[tuple[int, int], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.company_id, bool) or not isinstance(self.company_id, int):
            raise TypeError(f"company_id must be an int, got {self.company_id!r}")
        if not 0 <= self.company_id <= 0xFFFF:
            raise ValueError(f"company_id must be within [0, 0xFFFF], got {self.company_id:#x}")
        if self.company_id == APPLE_COMPANY_ID:
            raise ValueError("company_id 0x004C is Apple's (iBeacon); configure --ibeacon-uuid instead")
        if self.ibeacon_uuid is not None and not isinstance(self.ibeacon_uuid, uuid.UUID):
            raise TypeError(f"ibeacon_uuid must be a uuid.UUID, got {self.ibeacon_uuid!r}")
        for key, value in self.ibeacon_ids.items():
            if not valid_id(value):
                raise ValueError(f"iBeacon mapping {key!r} -> {value!r}: not a valid badge id")


@dataclass(frozen=True, slots=True)
class BadgeAdvert:
    """One decoded advertisement. ``tx_dbm`` is the measured power at 1 m (dBm).

    ``near`` is the badge's neighbour report: (badge id, RSSI in dBm within [−120, 10]
    inclusive) of at most four other badges it heard in its last scan period, strongest
    first; empty for badges that do not scan (and for iBeacons).
    """

    badge: str
    kind: Literal["mingle", "ibeacon"]
    tx_dbm: int | None = None
    seq: int | None = None
    battery_pct: int | None = None
    huddle: bool = False
    near: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        if not valid_id(self.badge):
            raise ValueError(f"badge must be a valid id, got {self.badge!r}")
        if not isinstance(self.near, tuple):
            raise TypeError(f"near must be a tuple of (badge, rssi_dbm), got {self.near!r}")
        if len(self.near) > MAX_NEIGHBOURS:
            raise ValueError(f"near names {len(self.near)} badges, at most {MAX_NEIGHBOURS}: {self.near!r}")
        if len({badge for badge, _ in self.near}) != len(self.near):
            raise ValueError(f"near names a badge twice: {self.near!r}")
        for badge, rssi in self.near:
            if not valid_id(badge) or badge == self.badge:
                raise ValueError(f"near must name other badges by valid id, got {badge!r}")
            if not NEIGHBOUR_RSSI_MIN_DBM <= rssi <= NEIGHBOUR_RSSI_MAX_DBM:
                raise ValueError(f"near rssi {rssi!r} dBm outside [{NEIGHBOUR_RSSI_MIN_DBM}, {NEIGHBOUR_RSSI_MAX_DBM}]")
        if self.tx_dbm is not None and not TX_MIN_DBM <= self.tx_dbm <= TX_MAX_DBM:
            raise ValueError(f"tx_dbm {self.tx_dbm!r} outside [{TX_MIN_DBM}, {TX_MAX_DBM}]")
        if self.seq is not None and not 0 <= self.seq <= 0xFFFFFFFF:
            raise ValueError(f"seq {self.seq!r} outside [0, 2**32 - 1]")
        if self.battery_pct is not None and not 0 <= self.battery_pct <= 100:
            raise ValueError(f"battery_pct {self.battery_pct!r} outside [0, 100]")


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why an advertisement was not a badge's: ``reason`` is a stable counter key."""

    reason: str
    detail: str = ""


def decode_manufacturer(company_id: int, payload: bytes, config: AdvertConfig) -> BadgeAdvert | Rejection:
    """Decode one manufacturer-data entry (the bytes after the company id)."""
    if company_id == APPLE_COMPANY_ID and config.ibeacon_uuid is not None:
        return _decode_ibeacon(bytes(payload), config)
    if company_id != config.company_id:
        return Rejection("wrong_company", f"company {company_id:#06x}, expected {config.company_id:#06x}")
    return _decode_mingle(bytes(payload))


def decode_advert(manufacturer_data: Mapping[int, bytes], config: AdvertConfig) -> BadgeAdvert | Rejection:
    """Decode an advertisement's manufacturer data; the first entry that is a badge wins."""
    first: Rejection | None = None
    for company_id, payload in manufacturer_data.items():
        result = decode_manufacturer(company_id, payload, config)
        if isinstance(result, BadgeAdvert):
            return result
        if first is None or first.reason == "wrong_company":
            first = result
    return first if first is not None else Rejection("no_payload", "no manufacturer data")


def _decode_mingle(payload: bytes) -> BadgeAdvert | Rejection:
    # Magic and version first: a newer firmware's payload may have another length, and
    # "unknown_version" is what tells the organizer the gateways need updating.
    if len(payload) >= 2 and payload[0] != MAGIC:
        return Rejection("bad_magic", f"magic {payload[0]:#04x}, expected {MAGIC:#04x}")
    if len(payload) >= 2 and payload[1] != VERSION:
        return Rejection("unknown_version", f"version {payload[1]}")
    extra = len(payload) - PAYLOAD_LEN
    if extra < 0 or extra % _NEIGHBOUR.size or extra // _NEIGHBOUR.size > MAX_NEIGHBOURS:
        return Rejection(
            "bad_length",
            f"{len(payload)} bytes, expected {PAYLOAD_LEN} + 3 per neighbour (at most {MAX_NEIGHBOURS}): "
            f"{payload[:32].hex()}",
        )
    magic, version, number, seq, tx, battery, flags = _MINGLE.unpack_from(payload)
    if magic != MAGIC:
        return Rejection("bad_magic", f"magic {magic:#04x}, expected {MAGIC:#04x}")
    if version != VERSION:
        return Rejection("unknown_version", f"version {version}")
    if number > MAX_BADGE_NUMBER:
        return Rejection("badge_out_of_range", f"badge number {number} > {MAX_BADGE_NUMBER}")
    if not TX_MIN_DBM <= tx <= TX_MAX_DBM:
        return Rejection("tx_out_of_range", f"measured power {tx} dBm")
    if battery != BATTERY_UNKNOWN and battery > 100:
        return Rejection("battery_out_of_range", f"battery {battery} %")
    near = _decode_neighbours(number, payload[PAYLOAD_LEN:])
    if isinstance(near, Rejection):
        return near
    return BadgeAdvert(
        badge=badge_id(number),
        kind="mingle",
        tx_dbm=tx,
        seq=seq,
        battery_pct=None if battery == BATTERY_UNKNOWN else battery,
        huddle=bool(flags & FLAG_HUDDLE),
        near=near,
    )


def _decode_neighbours(own: int, entries: bytes) -> tuple[tuple[str, int], ...] | Rejection:
    """The neighbour list after the fixed 11 bytes: (number uint16 LE, RSSI int8) each, strongest first."""
    near: list[tuple[str, int]] = []
    seen: set[int] = set()
    previous_dbm = NEIGHBOUR_RSSI_MAX_DBM
    for number, rssi in _NEIGHBOUR.iter_unpack(entries):
        if number > MAX_BADGE_NUMBER:
            return Rejection("neighbour_out_of_range", f"neighbour number {number} > {MAX_BADGE_NUMBER}")
        if not NEIGHBOUR_RSSI_MIN_DBM <= rssi <= NEIGHBOUR_RSSI_MAX_DBM:
            return Rejection("neighbour_rssi_out_of_range", f"neighbour {number} at {rssi} dBm")
        if number == own:
            return Rejection("self_neighbour", f"badge {own} names itself as a neighbour")
        if number in seen:
            return Rejection("duplicate_neighbour", f"neighbour {number} named twice")
        if rssi > previous_dbm:
            return Rejection("unsorted_neighbours", f"neighbour {number} at {rssi} dBm after {previous_dbm} dBm")
        seen.add(number)
        previous_dbm = rssi
        near.append((badge_id(number), rssi))
    return tuple(near)


def _decode_ibeacon(payload: bytes, config: AdvertConfig) -> BadgeAdvert | Rejection:
    if len(payload) != _IBEACON_LEN or payload[:2] != _IBEACON_PREFIX:
        return Rejection("not_ibeacon", f"apple data {payload[:32].hex()}")
    if uuid.UUID(bytes=payload[2:18]) != config.ibeacon_uuid:
        return Rejection("wrong_uuid", f"uuid {uuid.UUID(bytes=payload[2:18])}")
    major, minor, tx = _IBEACON_TAIL.unpack(payload[18:])
    if not TX_MIN_DBM <= tx <= TX_MAX_DBM:
        return Rejection("tx_out_of_range", f"measured power {tx} dBm")
    if config.ibeacon_ids:
        mapped = config.ibeacon_ids.get((major, minor))
        if mapped is None:
            return Rejection("unmapped_ibeacon", f"major {major} minor {minor}")
        return BadgeAdvert(badge=mapped, kind="ibeacon", tx_dbm=tx)
    return BadgeAdvert(badge=f"ib-{major}-{minor}", kind="ibeacon", tx_dbm=tx)
