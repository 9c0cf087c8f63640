"""Ground truth written by the simulator (``truth.jsonl``): who stood where, in which group.

One JSON object per line, one line per second, in time order::

    {"t": 1764140000.0,
     "people": [{"badge": "b-0001", "x": 1.23, "y": 4.56, "heading": 1.571}, ...],
     "groups": [{"id": "g-12", "members": ["b-0001", "b-0007"]}, ...]}

``people`` are the badges on the floor that second (reference badges excluded; some may be
unknown badges that are not on the roster), positions in metres. ``groups`` are the true
conversational groups of two or more people, with ids stable over a group's life; every
member must be among that second's ``people``. Headings are not read: no score uses them.

A truth file for 300 people over 30 minutes is about 30 MB of text. It is parsed once into
compact per-second values: badge ids are interned strings (one object per badge for the
whole file) and positions live in one ``(n, 2)`` float array per second.

A second is identified by ``t`` rounded half up (``floor(t + 0.5)``: Python's ``round`` takes
halves to the even neighbour, which would key ``0.5, 1.5, 2.5`` as ``0, 2, 2``); seconds must
strictly increase from line to line.
"""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from mingle_wire import finite_number, open_text

from .errors import InputError

__all__ = ["Truth", "TruthGroup", "TruthTick", "load_truth", "parse_truth", "second_of"]


def second_of(t: float) -> int:
    """The whole second ``t`` belongs to, rounded half up."""
    return math.floor(t + 0.5)


@dataclass(frozen=True, slots=True)
class TruthGroup:
    """A true conversational group at one second: a stable ``id`` and two or more badges."""

    id: str
    members: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.members) < 2:
            raise ValueError(f"group {self.id!r} must have at least 2 members, got {self.members!r}")
        if len(set(self.members)) != len(self.members):
            raise ValueError(f"group {self.id!r} lists a member twice: {self.members!r}")


@dataclass(frozen=True, slots=True, eq=False)
class TruthTick:
    """The floor at one second: ``badges`` with positions ``xy`` (row i is badge i, metres).

    Compared by identity (it holds a numpy array).
    """

    t: float
    badges: tuple[str, ...]
    xy: npt.NDArray[np.float64]
    groups: tuple[TruthGroup, ...] = ()

    def __post_init__(self) -> None:
        if self.xy.shape != (len(self.badges), 2):
            raise ValueError(f"xy must have shape ({len(self.badges)}, 2), got {self.xy.shape}")

    @property
    def second(self) -> int:
        """``t`` rounded half up: the key this tick is looked up by."""
        return second_of(self.t)


@dataclass(frozen=True, slots=True, eq=False)
class Truth:
    """All truth seconds, in strictly increasing order of :attr:`TruthTick.second`."""

    ticks: tuple[TruthTick, ...]
    _index: dict[int, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[int, int] = {}
        previous: int | None = None
        for i, tick in enumerate(self.ticks):
            second = tick.second
            if previous is not None and second <= previous:
                raise ValueError(f"truth seconds must strictly increase: {second} after {previous} (tick {i})")
            index[second] = i
            previous = second
        object.__setattr__(self, "_index", index)

    def __len__(self) -> int:
        return len(self.ticks)

    def at(self, ts: float, tolerance_s: float = 0.5) -> TruthTick | None:
        """The tick of second ``ts`` (rounded half up) if its ``t`` is within ``tolerance_s`` (inclusive) of
        ``ts``; at exactly half a second between two, the later one, else the earlier if it is there."""
        for second in (second_of(ts), second_of(ts) - 1):
            i = self._index.get(second)
            if i is not None and abs(self.ticks[i].t - ts) <= tolerance_s:
                return self.ticks[i]
        return None


_NUMBERS: Final = frozenset({int, float})


def _number(value: Any) -> bool:
    # type() rather than isinstance(): rejects bool, which is an int; finite_number refuses
    # an integer too large for a float (JSON allows one), where math.isfinite would raise.
    return type(value) in _NUMBERS and finite_number(value) is not None


def _bad_person(people: list[Any]) -> ValueError:
    """Describe the first malformed entry of ``people`` (the slow path, for the message only)."""
    for i, person in enumerate(people):
        if not isinstance(person, dict):
            return ValueError(f"people[{i}] must be an object, got {person!r}"[:200])
        if not isinstance(person.get("badge"), str) or not _number(person.get("x")) or not _number(person.get("y")):
            return ValueError(f"people[{i}] needs a string 'badge' and finite 'x', 'y', got {person!r}"[:200])
    return ValueError("malformed 'people'")


def _people(people: list[Any]) -> tuple[tuple[str, ...], npt.NDArray[np.float64]]:
    """Badges (interned) and their ``(n, 2)`` positions; validated in bulk, explained one by one."""
    try:
        badges = [p["badge"] for p in people]
        xs = [p["x"] for p in people]
        ys = [p["y"] for p in people]
    except (TypeError, KeyError):
        raise _bad_person(people) from None
    if not {*map(type, badges)} <= {str} or not {*map(type, xs), *map(type, ys)} <= _NUMBERS:
        raise _bad_person(people)
    xy = np.empty((len(people), 2), dtype=np.float64)
    try:
        xy[:, 0] = xs
        xy[:, 1] = ys
    except OverflowError:  # an integer too large for a float
        raise _bad_person(people) from None
    if not np.isfinite(xy).all():
        raise _bad_person(people)
    return tuple(map(sys.intern, badges)), xy


def _tick(obj: Any) -> TruthTick:
    """One parsed line to a tick; raises ``ValueError`` describing the first problem."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    t: Any = obj.get("t")
    if not _number(t):
        raise ValueError(f"'t' must be a finite number, got {t!r}")
    people = obj.get("people", [])
    groups = obj.get("groups", [])
    if not isinstance(people, list) or not isinstance(groups, list):
        raise ValueError("'people' and 'groups' must be lists")
    badges, xy = _people(people)
    present = set(badges)
    if len(present) != len(badges):
        raise ValueError("a badge appears twice in 'people'")
    parsed: list[TruthGroup] = []
    ids: set[str] = set()
    for i, group in enumerate(groups):
        if not isinstance(group, dict):
            raise ValueError(f"groups[{i}] must be an object, got {group!r}"[:200])
        gid, members = group.get("id"), group.get("members")
        if not isinstance(gid, str) or not isinstance(members, list) or not all(isinstance(m, str) for m in members):
            raise ValueError(f"groups[{i}] needs a string 'id' and a list of badge 'members', got {group!r}"[:200])
        if gid in ids:
            raise ValueError(f"group id {gid!r} appears twice")
        ids.add(gid)
        absent = [m for m in members if m not in present]
        if absent:
            raise ValueError(f"group {gid!r} members {absent!r} are not among this second's people"[:200])
        parsed.append(TruthGroup(sys.intern(gid), tuple(map(sys.intern, members))))
    return TruthTick(float(t), badges, xy, tuple(parsed))


def parse_truth(lines: Iterable[str], name: str = "<truth>") -> Truth:
    """Parse truth lines (blank lines skipped); errors are :class:`InputError` naming ``name`` and the line."""
    ticks: list[TruthTick] = []
    previous: int | None = None
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError as exc:
            raise InputError(name, lineno, f"not JSON: {exc}") from exc
        try:
            tick = _tick(obj)
        except ValueError as exc:
            raise InputError(name, lineno, str(exc)) from exc
        if previous is not None and tick.second <= previous:
            raise InputError(name, lineno, f"second {tick.second} does not follow {previous} (lines must be in order)")
        previous = tick.second
        ticks.append(tick)
    return Truth(tuple(ticks))


def load_truth(path: str | Path) -> Truth:
    """Read ``truth.jsonl`` (or ``.jsonl.gz``); raises :class:`InputError` naming file and line."""
    try:
        with open_text(path, "r") as fh:
            return parse_truth(fh, str(path))
    except (OSError, EOFError) as exc:  # EOFError: a truncated gzip stream
        raise InputError(str(path), None, f"cannot read file: {exc}") from exc
