"""Counting the huddles a simulated event contains, for its summary.

A *same-company group* is a true group with at least ``min_size`` members, every one on
the roster and of one company, continuously for at least ``dwell_s`` seconds (3 and
120 s by default, the policy's defaults). Those whose centre (the members' mean position)
stood in a ``nudges: false`` zone when they qualified — a company's own booth — are also
counted apart: the product must not nudge them.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from pipeline.roster import Roster
from pipeline.venue import Venue

__all__ = ["HuddleCensus"]

FloatArray = npt.NDArray[np.float64]


class HuddleCensus:
    """Feed it every second's groups with :meth:`update`; read the counts as properties."""

    def __init__(self, roster: Roster, venue: Venue, *, min_size: int = 3, dwell_s: float = 120.0) -> None:
        self.roster = roster
        self.venue = venue
        self.min_size = min_size
        self.dwell_s = dwell_s
        self._since: dict[str, float] = {}
        self._counted: dict[str, bool] = {}
        self._seen: set[str] = set()

    def update(
        self, t: float, groups: Sequence[tuple[str, tuple[str, ...]]], badges: Sequence[str], xy: FloatArray
    ) -> None:
        """Groups (id, members) standing at ``t`` (s); ``badges``/``xy`` are that second's people."""
        where = {b: i for i, b in enumerate(badges)}
        alive: dict[str, float] = {}
        for gid, members in groups:
            self._seen.add(gid)
            companies = {self.roster.company(m) for m in members}
            if len(members) < self.min_size or len(companies) != 1 or None in companies:
                continue
            since = self._since.get(gid, t)
            alive[gid] = since
            if t - since >= self.dwell_s and gid not in self._counted:
                centre = xy[[where[m] for m in members]].mean(axis=0)
                zone = self.venue.zone_at(float(centre[0]), float(centre[1]))
                self._counted[gid] = zone is not None and not zone.nudges
        self._since = alive

    @property
    def groups(self) -> int:
        """Distinct true groups seen (two or more members)."""
        return len(self._seen)

    @property
    def same_company(self) -> int:
        """Same-company groups that lasted ``dwell_s`` (booths included)."""
        return len(self._counted)

    @property
    def same_company_in_booths(self) -> int:
        """... of which stood in a ``nudges: false`` zone."""
        return sum(self._counted.values())
