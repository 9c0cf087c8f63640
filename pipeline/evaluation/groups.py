"""Per-tick group detection scoring: the F-formation measure (Setti et al., PLoS ONE 2015).

Definition, at an overlap threshold ``T`` (the evaluator reports ``T = 2/3`` and ``T = 1``).
Each frame is paired with the truth second of ``frame.ts`` (rounded half up); a frame with no truth line
whose ``t`` is within 0.5 s (inclusive) of ``frame.ts`` is skipped. In a paired frame:

- the detected groups ``D`` are the frame's clusters with their members restricted to the
  badges among that truth second's ``people`` (reference badges and unknown ids drop out),
  keeping those with at least 2 members left;
- the true groups ``G`` are that second's truth groups;
- ``D`` matches ``G`` when ``|G ∩ D| / max(|G|, |D|) >= T`` (inclusive, compared with a
  1e-9 tolerance so that 2 of 3 meets ``T = 2/3``); matching is one-to-one, greedy by
  highest overlap (ties: detected then true group in input order).

Per tick, ``precision = matched / |D|`` (the tick is left out of the precision average when
``|D| = 0``) and ``recall = matched / |G|`` (left out of the recall average when ``|G| = 0``).
Each is averaged over its ticks and ``F1`` is the harmonic mean of the two averages. With no
tick to average: precision is 1 if no tick had true groups either, else 0; recall is 1.
When no frame could be paired with the truth at all, every score is 0 (nothing was shown to
work).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from mingle_wire import Frame

from .alerts import f1_score
from .truth import Truth

__all__ = ["PAIRING_TOLERANCE_S", "GroupScore", "match_groups", "score_groups"]

_TOLERANCE: Final = 1e-9
#: A frame and a truth second pair up when their times differ by at most this (inclusive).
PAIRING_TOLERANCE_S: Final = 0.5


@dataclass(frozen=True, slots=True)
class GroupScore:
    """Group detection at overlap ``threshold``: averaged rates (fractions) and tick counts.

    ``ticks`` frames were paired with a truth second and ``skipped`` were not;
    ``precision_ticks`` had a detected group and ``recall_ticks`` a true group.
    """

    threshold: float
    precision: float
    recall: float
    f1: float
    ticks: int
    skipped: int = 0
    precision_ticks: int = 0
    recall_ticks: int = 0


def match_groups(detected: Sequence[frozenset[str]], true: Sequence[frozenset[str]], threshold: float) -> int:
    """How many ``detected`` groups match a ``true`` group one-to-one at ``threshold``."""
    groups_of: dict[str, list[int]] = {}
    for j, g in enumerate(true):
        for badge in g:
            groups_of.setdefault(badge, []).append(j)
    pairs: list[tuple[float, int, int]] = []
    for i, d in enumerate(detected):
        for j in sorted({j for badge in d for j in groups_of.get(badge, ())}):  # true groups sharing a badge
            g = true[j]
            common = len(d & g)
            largest = max(len(d), len(g))
            if common >= threshold * largest - _TOLERANCE:
                pairs.append((common / largest, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    used_d: set[int] = set()
    used_g: set[int] = set()
    for _, i, j in pairs:
        if i not in used_d and j not in used_g:
            used_d.add(i)
            used_g.add(j)
    return len(used_d)


def score_groups(frames: Iterable[Frame], truth: Truth, threshold: float) -> GroupScore:
    """Score the clusters of ``frames`` against ``truth`` at ``threshold`` in (0, 1]."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    precisions: list[float] = []
    recalls: list[float] = []
    ticks = skipped = 0
    for frame in frames:
        tick = truth.at(frame.ts, PAIRING_TOLERANCE_S)
        if tick is None:
            skipped += 1
            continue
        ticks += 1
        present = frozenset(tick.badges)
        detected = [d for d in (frozenset(c.members) & present for c in frame.clusters) if len(d) >= 2]
        true = [frozenset(g.members) for g in tick.groups]
        matched = match_groups(detected, true, threshold)
        if detected:
            precisions.append(matched / len(detected))
        if true:
            recalls.append(matched / len(true))
    if ticks == 0:
        precision = recall = 0.0
    else:
        precision = sum(precisions) / len(precisions) if precisions else (0.0 if recalls else 1.0)
        recall = sum(recalls) / len(recalls) if recalls else 1.0
    return GroupScore(
        threshold=threshold,
        precision=precision,
        recall=recall,
        f1=f1_score(precision, recall),
        ticks=ticks,
        skipped=skipped,
        precision_ticks=len(precisions),
        recall_ticks=len(recalls),
    )
