"""The attendee roster (``roster.csv``): badge, company and the rest, per attendee.

Header with at least ``badge,company``; optional ``name``, ``role``
(attendee|staff|speaker|organizer), ``opt_out`` (true/false/yes/no/1/0, blank = no) and
``interests`` (``;``-separated). See ``docs/files.md``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from mingle_wire import valid_id

from .errors import ConfigError
from .venue import ROLES

__all__ = ["Attendee", "Roster", "dump_roster", "load_roster"]

_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n", ""}
COLUMNS = ("badge", "company", "name", "role", "opt_out", "interests")


@dataclass(frozen=True, slots=True)
class Attendee:
    badge: str
    company: str
    name: str = ""
    role: str = "attendee"
    opt_out: bool = False
    interests: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not valid_id(self.badge):
            raise ValueError(f"badge id {self.badge!r} is not a valid id")
        if not self.company:
            raise ValueError("company must not be empty")
        if self.role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {self.role!r}")


class Roster(Mapping[str, Attendee]):
    """Attendees by badge id; read-only."""

    def __init__(self, attendees: list[Attendee] | tuple[Attendee, ...] = ()) -> None:
        self._by_badge = {a.badge: a for a in attendees}
        if len(self._by_badge) != len(attendees):
            raise ValueError("duplicate badge ids in roster")

    def __getitem__(self, badge: str) -> Attendee:
        return self._by_badge[badge]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_badge)

    def __len__(self) -> int:
        return len(self._by_badge)

    def company(self, badge: str) -> str | None:
        a = self._by_badge.get(badge)
        return None if a is None else a.company


def load_roster(path: str | Path) -> Roster:
    """Load and validate ``roster.csv``; raises :class:`ConfigError` naming file, line, column and value."""
    name = str(path)
    try:
        fh = open(path, newline="", encoding="utf-8-sig")  # noqa: SIM115
    except OSError as exc:
        raise ConfigError(name, None, "", f"cannot read file: {exc}") from exc
    attendees: list[Attendee] = []
    seen: dict[str, int] = {}
    with fh:
        reader = csv.DictReader(fh)
        try:
            header = [h.strip() for h in (reader.fieldnames or [])]
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ConfigError(name, 1, "", f"cannot parse header: {exc}") from exc
        for need in ("badge", "company"):
            if need not in header:
                raise ConfigError(name, 1, need, f"missing column (header is {header!r})")
        for col in header:
            if col not in COLUMNS:
                raise ConfigError(name, 1, col, f"unknown column (expected some of {list(COLUMNS)})")
        reader.fieldnames = header
        try:
            for row in reader:
                line = reader.line_num
                if None in row:
                    raise ConfigError(name, line, "", f"more fields than the header has: {row[None]!r}")
                values = {k: (v or "").strip() for k, v in row.items()}
                if not any(values.values()):
                    continue
                badge = values["badge"]
                if not valid_id(badge):
                    raise ConfigError(name, line, "badge", f"not a valid badge id: {badge!r}")
                if badge in seen:
                    raise ConfigError(name, line, "badge", f"duplicate badge {badge!r} (first on line {seen[badge]})")
                seen[badge] = line
                company = values["company"]
                if not company:
                    raise ConfigError(name, line, "company", f"empty company for badge {badge!r}")
                role = values.get("role", "") or "attendee"
                if role not in ROLES:
                    raise ConfigError(name, line, "role", f"expected one of {list(ROLES)}, got {role!r}")
                flag = values.get("opt_out", "").lower()
                if flag not in _TRUE and flag not in _FALSE:
                    raise ConfigError(name, line, "opt_out", f"expected true/false/yes/no/1/0, got {flag!r}")
                interests = tuple(i.strip() for i in values.get("interests", "").split(";") if i.strip())
                attendees.append(Attendee(badge, company, values.get("name", ""), role, flag in _TRUE, interests))
        except (csv.Error, UnicodeDecodeError) as exc:
            raise ConfigError(name, reader.line_num, "", f"cannot parse CSV: {exc}") from exc
    return Roster(attendees)


def dump_roster(roster: Roster, path: str | Path) -> None:
    """Write ``roster`` as CSV with every column (what the simulator writes)."""
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(COLUMNS)
        for a in roster.values():
            w.writerow([a.badge, a.company, a.name, a.role, "yes" if a.opt_out else "no", ";".join(a.interests)])
