"""One detector's evaluation: alert score, group scores and nudge violations together."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Final

from mingle_wire import Alert, Frame
from pipeline.roster import Roster
from pipeline.venue import Venue

from .alerts import AlertScore, score_alerts
from .groups import GroupScore, score_groups
from .huddles import TrueHuddle, true_huddles
from .nudges import NudgeViolations, nudge_violations
from .truth import Truth

__all__ = ["GROUP_THRESHOLDS", "Evaluation", "evaluate"]

#: The overlap thresholds group detection is reported at: the literature's 2/3 and exact.
GROUP_THRESHOLDS: Final = (2.0 / 3.0, 1.0)


@dataclass(frozen=True, slots=True)
class Evaluation:
    """How one detector's frames and alerts fared against the truth."""

    true_huddles: int
    alerts: AlertScore
    groups_2_3: GroupScore
    groups_1: GroupScore
    nudges: NudgeViolations


def evaluate(
    truth: Truth,
    roster: Roster,
    venue: Venue,
    frames: Iterable[Frame],
    alerts: Iterable[Alert],
    *,
    huddles: Sequence[TrueHuddle] | None = None,
) -> Evaluation:
    """Score ``frames`` and ``alerts`` against ``truth`` under ``venue.policy``.

    ``huddles`` are the true huddles if already derived (:func:`true_huddles`), so that
    several detectors on one scenario derive them once.
    """
    if huddles is None:
        huddles = true_huddles(truth, roster, venue)
    frames = tuple(frames)
    alerts = tuple(alerts)
    low, high = GROUP_THRESHOLDS
    return Evaluation(
        true_huddles=len(huddles),
        alerts=score_alerts(alerts, huddles, roster, venue.policy),
        groups_2_3=score_groups(frames, truth, low),
        groups_1=score_groups(frames, truth, high),
        nudges=nudge_violations(alerts, roster, venue.policy, truth, venue),
    )
