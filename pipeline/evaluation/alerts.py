"""Alert scoring: which alerts found a true huddle, and how late.

Definition. An alert ``a`` is *eligible* for a true huddle ``h`` (see :mod:`.huddles`) when

- ``a.company == h.company``;
- ``h.start + dwell_s - EARLY_TOLERANCE_S <= a.ts <= h.end + LATE_GRACE_S`` (inclusive;
  ``dwell_s`` is ``policy.dwell_s``);
- ``Jaccard(a.members, h.members_at(a.ts)) >= MIN_JACCARD`` (inclusive, 1e-9 tolerance),
  where ``h.members_at`` takes the huddle's members at the truth second nearest to ``a.ts``
  clamped into ``[h.start, h.end]``, and both sides are first restricted to roster badges
  (the Jaccard index of two empty sets is 0).

Matching is one-to-one: alerts are processed in time order (``ts``, then ``id``); each
matches the eligible, still unmatched huddle with the highest Jaccard (ties: earlier start,
then group id). An alert that matches no unmatched huddle — including a second alert for an
already matched huddle — is a false positive; an unmatched huddle is a false negative.
Held-out alerts count as detections like any other. The *latency* of a match is
``a.ts - (h.start + dwell_s)`` seconds (negative when early).

``precision = tp / alerts``, ``recall = tp / huddles``, ``F1`` their harmonic mean (0 when
both are 0). Conventions: no alerts and no huddles scores precision = recall = F1 = 1;
alerts but no huddles scores precision 0, recall 1; no alerts but some huddles scores
precision 0, recall 0, F1 0. The median and 90th percentile of the latencies interpolate
linearly between order statistics (numpy's default); both are ``None`` without a match.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from mingle_wire import Alert
from pipeline.roster import Roster
from pipeline.venue import Policy

from .huddles import TrueHuddle

__all__ = [
    "EARLY_TOLERANCE_S",
    "LATE_GRACE_S",
    "MIN_JACCARD",
    "AlertMatch",
    "AlertScore",
    "f1_score",
    "jaccard",
    "quantile",
    "score_alerts",
]

#: An alert may fire this many seconds before the huddle completes its dwell and still count.
EARLY_TOLERANCE_S: Final = 10.0
#: An alert may fire this many seconds after the huddle's last second and still count.
LATE_GRACE_S: Final = 30.0
#: Least Jaccard index (inclusive) between an alert's members and the huddle's.
MIN_JACCARD: Final = 0.5
_TOLERANCE: Final = 1e-9


@dataclass(frozen=True, slots=True)
class AlertMatch:
    """A true positive: alert ``alert`` (its id) found the huddle of ``group`` begun at ``start``."""

    alert: str
    group: str
    start: float
    jaccard: float
    latency_s: float


@dataclass(frozen=True, slots=True)
class AlertScore:
    """Counts, rates (fractions in [0, 1]) and latencies (seconds) of one alert list."""

    alerts: int
    huddles: int
    tp: int
    fp: int
    fn: int
    precision: float
    recall: float
    f1: float
    latency_median_s: float | None
    latency_p90_s: float | None
    held_out: int = 0
    matches: tuple[AlertMatch, ...] = ()
    false_positives: tuple[str, ...] = ()
    missed: tuple[tuple[str, float], ...] = ()
    """``(group, start)`` of every huddle no alert matched."""


def jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    """``|a ∩ b| / |a ∪ b|``; 0.0 when both are empty."""
    union = len(a | b)
    return len(a & b) / union if union else 0.0


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0 <= q <= 1) by linear interpolation; ``None`` for no values."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"q must be in [0, 1], got {q!r}")
    if not values:
        return None
    ordered = sorted(values)
    pos = q * (len(ordered) - 1)
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def f1_score(precision: float, recall: float) -> float:
    """Harmonic mean of ``precision`` and ``recall``; 0.0 when both are 0."""
    total = precision + recall
    return 2.0 * precision * recall / total if total > 0 else 0.0


def _best_huddle(
    alert: Alert, huddles: Sequence[TrueHuddle], taken: set[int], roster: Roster, dwell_s: float
) -> tuple[int, float] | None:
    members = frozenset(m for m in alert.members if m in roster)
    best: tuple[int, float] | None = None
    for i, huddle in enumerate(huddles):
        if i in taken or huddle.company != alert.company:
            continue
        if not huddle.start + dwell_s - EARLY_TOLERANCE_S <= alert.ts <= huddle.end + LATE_GRACE_S:
            continue
        truth = frozenset(m for m in huddle.members_at(alert.ts) if m in roster)
        score = jaccard(members, truth)
        if score < MIN_JACCARD - _TOLERANCE:
            continue
        if best is None or _better(score, huddle, best[1], huddles[best[0]]):
            best = (i, score)
    return best


def _better(score: float, huddle: TrueHuddle, best_score: float, best: TrueHuddle) -> bool:
    if score != best_score:
        return score > best_score
    return (huddle.start, huddle.group) < (best.start, best.group)


def score_alerts(alerts: Iterable[Alert], huddles: Sequence[TrueHuddle], roster: Roster, policy: Policy) -> AlertScore:
    """Match ``alerts`` one-to-one to true ``huddles`` and score them (see the module docstring)."""
    ordered = sorted(alerts, key=lambda a: (a.ts, a.id))
    taken: set[int] = set()
    matches: list[AlertMatch] = []
    false_positives: list[str] = []
    for alert in ordered:
        found = _best_huddle(alert, huddles, taken, roster, policy.dwell_s)
        if found is None:
            false_positives.append(alert.id)
            continue
        i, score = found
        taken.add(i)
        huddle = huddles[i]
        latency_s = alert.ts - (huddle.start + policy.dwell_s)
        matches.append(AlertMatch(alert.id, huddle.group, huddle.start, score, latency_s))
    tp, n_alerts, n_huddles = len(matches), len(ordered), len(huddles)
    if n_alerts == 0 and n_huddles == 0:
        precision = recall = 1.0
    else:
        precision = tp / n_alerts if n_alerts else 0.0
        recall = tp / n_huddles if n_huddles else 1.0
    latencies = [m.latency_s for m in matches]
    return AlertScore(
        alerts=n_alerts,
        huddles=n_huddles,
        tp=tp,
        fp=len(false_positives),
        fn=n_huddles - tp,
        precision=precision,
        recall=recall,
        f1=f1_score(precision, recall),
        latency_median_s=quantile(latencies, 0.5),
        latency_p90_s=quantile(latencies, 0.9),
        held_out=sum(1 for a in ordered if a.held_out),
        matches=tuple(matches),
        false_positives=tuple(false_positives),
        missed=tuple((h.group, h.start) for i, h in enumerate(huddles) if i not in taken),
    )
