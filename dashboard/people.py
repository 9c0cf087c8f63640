"""The roster as the dashboard's views see it: who may be named, company colours, who counts.

Privacy is applied here, once, so no view can forget it: opted-out attendees have no badge
id and no name in any view (they are anonymous grey dots and "someone who opted out" in the
alert feed); badges not on the roster are anonymous too. Views are only ever sent to a
logged-in organizer; the attendee view (:mod:`.nudges`) holds that attendee's own nudges only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pipeline.roster import Roster

__all__ = ["People"]


class People:
    """``companies`` sorted, each's index its colour on the map; ``exempt_roles`` (the venue
    policy's: staff, organizers) do not count in the KPIs."""

    def __init__(self, roster: Roster, *, exempt_roles: Iterable[str]) -> None:
        self.roster = roster
        self.companies: tuple[str, ...] = tuple(sorted({a.company for a in roster.values()}))
        self._company_index = {c: i for i, c in enumerate(self.companies)}
        self._exempt = frozenset(exempt_roles)

    def public_id(self, badge: str) -> str | None:
        """The badge id a view may show: ``None`` for opted-out and off-roster badges."""
        a = self.roster.get(badge)
        return None if a is None or a.opt_out else badge

    def display_name(self, badge: str) -> str:
        a = self.roster.get(badge)
        if a is None:
            return "an unknown badge"
        if a.opt_out:
            return "someone who opted out"
        return a.name or badge

    def names(self, members: Sequence[str]) -> list[str]:
        """Display names, the anonymous ones last (members come sorted by badge id: where
        "someone who opted out" stood among the names would tell who)."""
        named = [self.display_name(m) for m in members if self._named(m)]
        return named + [self.display_name(m) for m in members if not self._named(m)]

    def _named(self, badge: str) -> bool:
        a = self.roster.get(badge)
        return a is not None and not a.opt_out

    def colour(self, badge: str) -> int | None:
        """The company index a map dot may show: ``None`` for opted-out and off-roster badges."""
        a = self.roster.get(badge)
        return self._company_index[a.company] if a is not None and not a.opt_out else None

    def counted(self, badge: str) -> bool:
        """Whether a badge counts in the KPIs: on the roster, and not in an exempt role."""
        a = self.roster.get(badge)
        return a is not None and a.role not in self._exempt

    def shown(self) -> dict[str, dict[str, Any]]:
        """Name, company and role of everyone who may be named, by badge id."""
        return {
            a.badge: {"name": a.name, "company": a.company, "role": a.role}
            for a in self.roster.values()
            if not a.opt_out
        }
