"""Nudge violations: people the pipeline must never buzz, or not yet again.

Definitions, over every ``(alert, badge)`` pair with ``badge`` in ``alert.nudge``:

- *opt-out*: the badge's roster attendee has ``opt_out = True`` (must be 0);
- *exempt*: the attendee's role is in ``policy.exempt_roles`` (should be 0);
- *cooldown*: the badge was nudged less than ``policy.cooldown_s`` seconds (exclusive:
  exactly ``cooldown_s`` later is allowed) after its previous nudge, alerts taken in
  time order (``ts``, then ``id``); every nudge that happened counts as the previous one,
  including one that was itself a violation (should be 0).

Badges not on the roster are counted in ``nudges`` only. Held-out alerts nudge nobody.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mingle_wire import Alert
from pipeline.roster import Roster
from pipeline.venue import Policy

__all__ = ["NudgeViolations", "nudge_violations"]


@dataclass(frozen=True, slots=True)
class NudgeViolations:
    """``nudges`` (alert, badge) pairs in all, and how many broke each rule."""

    nudges: int
    opt_out: int
    exempt: int
    cooldown: int


def nudge_violations(alerts: Iterable[Alert], roster: Roster, policy: Policy) -> NudgeViolations:
    """Count nudges and their violations (see the module docstring)."""
    nudges = opt_out = exempt = cooldown = 0
    last: dict[str, float] = {}
    for alert in sorted(alerts, key=lambda a: (a.ts, a.id)):
        for badge in alert.nudge:
            nudges += 1
            attendee = roster.get(badge)
            if attendee is not None:
                opt_out += attendee.opt_out
                exempt += attendee.role in policy.exempt_roles
            previous = last.get(badge)
            if previous is not None and alert.ts - previous < policy.cooldown_s:
                cooldown += 1
            last[badge] = alert.ts
    return NudgeViolations(nudges=nudges, opt_out=opt_out, exempt=exempt, cooldown=cooldown)
