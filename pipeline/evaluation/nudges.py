"""Nudge violations: people the pipeline must never buzz, or not yet again.

Definitions, over every ``(alert, badge)`` pair with ``badge`` in ``alert.nudge``:

- *opt-out*: the badge's roster attendee has ``opt_out = True`` (must be 0);
- *exempt*: the attendee's role is in ``policy.exempt_roles`` (should be 0);
- *cooldown*: the badge was nudged less than ``policy.cooldown_s`` seconds (exclusive:
  exactly ``cooldown_s`` later is allowed) after its previous nudge, alerts taken in
  time order (``ts``, then ``id``); every nudge that happened counts as the previous one,
  including one that was itself a violation (should be 0).

Badges not on the roster are counted in ``nudges`` only. Held-out alerts nudge nobody.

With the truth, also how well the nudges were *aimed*: a nudge is aimed when, at the truth
second of the alert (``Truth.at(alert.ts)``), its badge stands in a true group that meets the
huddle condition for the alert's company (:func:`.huddles.huddle_company`: roster members
not in ``policy.exempt_roles``, at least ``policy.min_size`` of them, the alert's company at
least ``policy.homogeneity`` of them, not in a ``nudges: false`` zone; the dwell aside) —
someone who really was clinging to colleagues. A badge in no true group then, in a mixed,
small or exempt one, or at a second the truth does not have, is not aimed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mingle_wire import Alert
from pipeline.roster import Roster
from pipeline.venue import Policy, Venue

from .huddles import huddle_company
from .truth import Truth

__all__ = ["NudgeViolations", "nudge_violations"]


@dataclass(frozen=True, slots=True)
class NudgeViolations:
    """``nudges`` (alert, badge) pairs in all, and how many broke each rule."""

    nudges: int
    opt_out: int
    exempt: int
    cooldown: int
    aimed: int | None = None  # (None without the truth)


def nudge_violations(
    alerts: Iterable[Alert], roster: Roster, policy: Policy, truth: Truth | None = None, venue: Venue | None = None
) -> NudgeViolations:
    """Count nudges and their violations, and with ``truth`` and ``venue`` (whose policy is
    ``policy``) the aimed ones (see the module docstring)."""
    nudges = opt_out = exempt = cooldown = aimed = 0
    last: dict[str, float] = {}
    for alert in sorted(alerts, key=lambda a: (a.ts, a.id)):
        clinging = _clinging(alert, truth, roster, venue) if truth and venue and alert.nudge else set()
        for badge in alert.nudge:
            nudges += 1
            aimed += badge in clinging
            attendee = roster.get(badge)
            if attendee is not None:
                opt_out += attendee.opt_out
                exempt += attendee.role in policy.exempt_roles
            previous = last.get(badge)
            if previous is not None and alert.ts - previous < policy.cooldown_s:
                cooldown += 1
            last[badge] = alert.ts
    return NudgeViolations(
        nudges=nudges,
        opt_out=opt_out,
        exempt=exempt,
        cooldown=cooldown,
        aimed=None if truth is None or venue is None else aimed,
    )


def _clinging(alert: Alert, truth: Truth, roster: Roster, venue: Venue) -> set[str]:
    """The badges standing, at the alert's truth second, in a true group that huddles as the
    alert's company (see the module docstring)."""
    tick = truth.at(alert.ts)
    if tick is None:
        return set()
    out: set[str] = set()
    for group in tick.groups:
        if huddle_company(tick, group.members, roster, venue) == alert.company:
            out.update(group.members)
    return out
