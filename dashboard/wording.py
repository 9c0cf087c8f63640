"""Plain words for what an alert suggests, as an attendee's phone and the alert feed show it."""

from __future__ import annotations

from mingle_wire import Alert
from pipeline.distances import how_far

__all__ = ["suggestion_words"]


def _and(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def suggestion_words(alert: Alert) -> str:
    """Where the alert suggests going, in plain words and without naming anyone."""
    s = alert.suggestion
    if s is None:
        return "no suggestion (nobody suitable nearby)"
    where = how_far(s.distance_m)
    if s.kind == "group":
        who = _and(list(s.companies))
        return f"join the group with {who}, {where}" if who else f"join a mixed group {where}"
    company = s.companies[0] if s.companies else "another company"
    likes = f" (also into {_and(list(s.shared_interests))})" if s.shared_interests else ""
    return f"meet someone from {company}{likes}, {where}"
