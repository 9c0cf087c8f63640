"""The venue file (``venue.yaml``): floor, gateways, reference badges, zones, policy.

Read once at the program's edge into frozen values; see ``docs/files.md``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from mingle_wire import finite_number, valid_id

from .yamlfile import Located, load_located

__all__ = ["Floor", "Gateway", "Policy", "Reference", "Venue", "Zone", "load_venue", "zone_at"]

ROLES = ("attendee", "staff", "speaker", "organizer")


@dataclass(frozen=True, slots=True)
class Floor:
    """The floor rectangle in metres, origin at the bottom-left corner."""

    width: float
    height: float


@dataclass(frozen=True, slots=True)
class Gateway:
    """A fixed receiver at ``x``, ``y`` (metres on the floor) and height ``z`` (metres)."""

    id: str
    x: float
    y: float
    z: float = 2.5


@dataclass(frozen=True, slots=True)
class Reference:
    """A fixed reference badge at a known spot, used to calibrate the radio model."""

    id: str
    x: float
    y: float
    z: float = 1.2


@dataclass(frozen=True, slots=True)
class Zone:
    """A named polygon (metres). ``nudges: false`` exempts huddles standing in it."""

    name: str
    polygon: tuple[tuple[float, float], ...]
    nudges: bool = True
    # Where a point cannot be inside, told before any edge is looked at: (min x - 1, max x + 1,
    # min y, max y). No edge crosses a level at or beyond the y range, and left or right of the
    # x range (with a metre to spare for rounding) a level is crossed an even number of times.
    _box: tuple[float, float, float, float] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        xs = [p[0] for p in self.polygon] or [math.nan]
        ys = [p[1] for p in self.polygon] or [math.nan]
        object.__setattr__(self, "_box", (min(xs) - 1.0, max(xs) + 1.0, min(ys), max(ys)))

    def contains(self, x: float, y: float) -> bool:
        """Even-odd ray casting; points on an edge may fall either way."""
        x0, x1, y0, y1 = self._box
        if not (y0 <= y < y1 and x0 < x < x1):
            return False
        inside = False
        pts = self.polygon
        j = len(pts) - 1
        for i in range(len(pts)):
            xi, yi = pts[i]
            xj, yj = pts[j]
            if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                inside = not inside
            j = i
        return inside

    def depth(self, x: float, y: float) -> float:
        """Distance (m) from the point to the polygon's nearest edge."""
        pts = self.polygon
        best = math.inf
        for i in range(len(pts)):
            (ax, ay), (bx, by) = pts[i - 1], pts[i]
            dx, dy = bx - ax, by - ay
            seg = dx * dx + dy * dy
            t = 0.0 if seg == 0 else min(1.0, max(0.0, ((x - ax) * dx + (y - ay) * dy) / seg))
            best = min(best, math.hypot(x - ax - t * dx, y - ay - t * dy))
        return best


@dataclass(frozen=True, slots=True)
class Policy:
    """When a cluster is a huddle worth an alert, and whom to nudge.

    A huddle is a tracked group of at least ``min_size`` counted members (inclusive)
    whose dominant company holds a share >= ``homogeneity`` (inclusive), continuously
    for ``dwell_s`` seconds, whose centre is not in a ``nudges: false`` zone. Members
    whose role is in ``exempt_roles`` are neither counted nor nudged. Nobody is nudged
    twice within ``cooldown_s``; ``holdout_fraction`` of alerts (drawn with ``seed``)
    are held out: reported, but nobody is nudged. ``max_nudge`` people per alert.
    """

    min_size: int = 3
    homogeneity: float = 0.75
    dwell_s: float = 120.0
    cooldown_s: float = 600.0
    holdout_fraction: float = 0.2
    max_nudge: int = 2
    exempt_roles: tuple[str, ...] = ("staff", "organizer")
    seed: int = 0

    def __post_init__(self) -> None:
        checks: list[tuple[str, bool, str]] = [
            ("min_size", isinstance(self.min_size, int) and self.min_size >= 2, "an integer >= 2"),
            ("homogeneity", 0.5 < self.homogeneity <= 1.0, "a share in (0.5, 1]"),
            ("dwell_s", self.dwell_s >= 0, "seconds >= 0"),
            ("cooldown_s", self.cooldown_s >= 0, "seconds >= 0"),
            ("holdout_fraction", 0.0 <= self.holdout_fraction <= 1.0, "a fraction in [0, 1]"),
            ("max_nudge", isinstance(self.max_nudge, int) and self.max_nudge >= 1, "an integer >= 1"),
            ("exempt_roles", all(r in ROLES for r in self.exempt_roles), f"roles from {ROLES}"),
            ("seed", isinstance(self.seed, int), "an integer"),
        ]
        for name, ok, expected in checks:
            if not ok:
                raise ValueError(f"policy {name} must be {expected}, got {getattr(self, name)!r}")

    @classmethod
    def from_mapping(cls, raw: Mapping[str, Any]) -> Policy:
        """Build from a mapping of overrides; unknown keys raise ``KeyError``."""
        known = {f.name for f in fields(cls)}
        for key in raw:
            if key not in known:
                raise KeyError(key)
        values = dict(raw)
        if "exempt_roles" in values and isinstance(values["exempt_roles"], list):
            values["exempt_roles"] = tuple(values["exempt_roles"])
        return cls(**values)


@dataclass(frozen=True, slots=True)
class Venue:
    site: str
    name: str
    floor: Floor
    gateways: tuple[Gateway, ...]
    references: tuple[Reference, ...] = ()
    zones: tuple[Zone, ...] = ()
    policy: Policy = field(default_factory=Policy)

    def zone_at(self, x: float, y: float) -> Zone | None:
        return zone_at(self.zones, x, y)


def zone_at(zones: Sequence[Zone], x: float, y: float) -> Zone | None:
    """The first of ``zones`` containing the point (metres), or ``None``."""
    for zone in zones:
        if zone.contains(x, y):
            return zone
    return None


def _number(doc: Located, key: str, value: Any, *, low: float | None = None) -> float:
    if finite_number(value) is None:
        raise doc.error(key, f"expected a finite number, got {value!r}")
    if low is not None and value < low:
        raise doc.error(key, f"must be >= {low}, got {value!r}")
    return float(value)


def _ident(doc: Located, key: str, value: Any) -> str:
    if not valid_id(value):
        raise doc.error(key, f"expected an id (letters, digits, . _ : -; at most 64), got {value!r}")
    return str(value)


def _mapping(doc: Located, key: str, value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise doc.error(key, f"expected a mapping, got {value!r}")
    return value


def _list(doc: Located, key: str, value: Any) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise doc.error(key, f"expected a list, got {value!r}")
    return value


def _only(doc: Located, key: str, item: dict[str, Any], allowed: set[str]) -> None:
    for k in item:
        if k not in allowed:
            raise doc.error(f"{key}.{k}" if key else str(k), f"unknown key (expected one of {sorted(allowed)})")


def _point(doc: Located, key: str, item: Any, floor: Floor) -> tuple[str, float, float, float | None]:
    item = _mapping(doc, key, item)
    _only(doc, key, item, {"id", "x", "y", "z"})
    for need in ("id", "x", "y"):
        if need not in item:
            raise doc.error(key, f"missing {need!r}")
    x = _number(doc, f"{key}.x", item["x"])
    y = _number(doc, f"{key}.y", item["y"])
    if not (0 <= x <= floor.width and 0 <= y <= floor.height):
        raise doc.error(f"{key}.x", f"({x}, {y}) is outside the floor {floor.width} x {floor.height} m")
    z = _number(doc, f"{key}.z", item["z"], low=0.0) if "z" in item else None
    return _ident(doc, f"{key}.id", item["id"]), x, y, z


def venue_from_document(doc: Located) -> Venue:
    root = _mapping(doc, "", doc.data)
    _only(doc, "", root, {"site", "name", "floor", "gateways", "references", "zones", "policy"})
    for need in ("site", "floor", "gateways"):
        if need not in root:
            raise doc.error(need, "missing (required)")
    site = _ident(doc, "site", root["site"])
    name = str(root.get("name", site))
    fl = _mapping(doc, "floor", root["floor"])
    _only(doc, "floor", fl, {"width", "height"})
    floor = Floor(
        _number(doc, "floor.width", fl.get("width"), low=1.0), _number(doc, "floor.height", fl.get("height"), low=1.0)
    )
    seen: set[str] = set()

    def unique(key: str, ident: str) -> None:
        if ident in seen:
            raise doc.error(key, f"duplicate id {ident!r}")
        seen.add(ident)

    gateways = []
    for i, item in enumerate(_list(doc, "gateways", root["gateways"])):
        gid, x, y, z = _point(doc, f"gateways[{i}]", item, floor)
        unique(f"gateways[{i}].id", gid)
        gateways.append(Gateway(gid, x, y, 2.5 if z is None else z))
    if not gateways:
        raise doc.error("gateways", "at least one gateway is required")
    references = []
    for i, item in enumerate(_list(doc, "references", root.get("references"))):
        rid, x, y, z = _point(doc, f"references[{i}]", item, floor)
        unique(f"references[{i}].id", rid)
        references.append(Reference(rid, x, y, 1.2 if z is None else z))
    zones = []
    for i, item in enumerate(_list(doc, "zones", root.get("zones"))):
        key = f"zones[{i}]"
        item = _mapping(doc, key, item)
        _only(doc, key, item, {"name", "polygon", "nudges"})
        zname = item.get("name")
        if not isinstance(zname, str) or not zname:
            raise doc.error(f"{key}.name", f"expected a non-empty name, got {zname!r}")
        poly_raw = _list(doc, f"{key}.polygon", item.get("polygon"))
        if len(poly_raw) < 3:
            raise doc.error(f"{key}.polygon", f"needs at least 3 points, got {len(poly_raw)}")
        poly = []
        for j, pt in enumerate(poly_raw):
            if not isinstance(pt, list) or len(pt) != 2:
                raise doc.error(f"{key}.polygon[{j}]", f"expected [x, y], got {pt!r}")
            poly.append((_number(doc, f"{key}.polygon[{j}]", pt[0]), _number(doc, f"{key}.polygon[{j}]", pt[1])))
        nudges = item.get("nudges", True)
        if not isinstance(nudges, bool):
            raise doc.error(f"{key}.nudges", f"expected true or false, got {nudges!r}")
        zones.append(Zone(zname, tuple(poly), nudges))
    raw_policy = root.get("policy") or {}
    raw_policy = _mapping(doc, "policy", raw_policy)
    try:
        policy = Policy.from_mapping(raw_policy)
    except KeyError as exc:
        key = str(exc.args[0])
        raise doc.error(f"policy.{key}", f"unknown policy key (expected one of {sorted(Policy.__slots__)})") from exc
    except (TypeError, ValueError) as exc:
        bad = next((k for k in raw_policy if f"policy {k} " in str(exc)), "")
        raise doc.error(f"policy.{bad}" if bad else "policy", str(exc)) from exc
    return Venue(site, name, floor, tuple(gateways), tuple(references), tuple(zones), policy)


def load_venue(path: str | Path) -> Venue:
    """Load and validate ``venue.yaml``; raises :class:`ConfigError` naming file, line, key and value."""
    return venue_from_document(load_located(path))


def dump_venue(venue: Venue) -> str:
    """The YAML text of ``venue`` (what the simulator writes)."""
    import yaml

    doc: dict[str, Any] = {
        "site": venue.site,
        "name": venue.name,
        "floor": {"width": venue.floor.width, "height": venue.floor.height},
        "gateways": [{"id": g.id, "x": g.x, "y": g.y, "z": g.z} for g in venue.gateways],
    }
    if venue.references:
        doc["references"] = [{"id": r.id, "x": r.x, "y": r.y, "z": r.z} for r in venue.references]
    if venue.zones:
        doc["zones"] = [
            {"name": z.name, "polygon": [list(p) for p in z.polygon], "nudges": z.nudges} for z in venue.zones
        ]
    p = venue.policy
    doc["policy"] = {f.name: getattr(p, f.name) for f in fields(Policy)}
    doc["policy"]["exempt_roles"] = list(p.exempt_roles)
    return yaml.safe_dump(doc, sort_keys=False, default_flow_style=None, width=100)
