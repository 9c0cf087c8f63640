"""Scoring a replay against a simulated scenario's ground truth.

- :mod:`.truth` reads ``truth.jsonl`` into compact per-second values;
- :mod:`.huddles` derives the true huddle episodes the pipeline should alert on;
- :mod:`.alerts` matches alerts to true huddles (precision, recall, F1, latency);
- :mod:`.groups` scores per-tick group detection (the F-formation measure at T = 2/3, 1);
- :mod:`.nudges` counts nudges to opt-outs, to exempt roles and within the cooldown;
- :mod:`.scoring` bundles them into one :class:`Evaluation` per detector;
- :mod:`.report` renders evaluations as a table and a JSON line; :mod:`.cli` is
  ``mingle evaluate``.

Every definition is stated in its module's docstring. The cores are pure: no printing, no
clock, no randomness.
"""

from .alerts import EARLY_TOLERANCE_S, LATE_GRACE_S, MIN_JACCARD, AlertMatch, AlertScore, jaccard, score_alerts
from .errors import InputError
from .groups import PAIRING_TOLERANCE_S, GroupScore, match_groups, score_groups
from .huddles import SHARE_TOLERANCE, TrueHuddle, bridge_episodes, huddle_episodes, true_huddles
from .nudges import NudgeViolations, nudge_violations
from .replay_files import load_alerts, load_frames
from .report import evaluation_to_dict, format_table, to_json
from .scoring import GROUP_THRESHOLDS, Evaluation, evaluate
from .truth import Truth, TruthGroup, TruthTick, load_truth, parse_truth

__all__ = [
    "EARLY_TOLERANCE_S",
    "GROUP_THRESHOLDS",
    "LATE_GRACE_S",
    "MIN_JACCARD",
    "PAIRING_TOLERANCE_S",
    "SHARE_TOLERANCE",
    "AlertMatch",
    "AlertScore",
    "Evaluation",
    "GroupScore",
    "InputError",
    "NudgeViolations",
    "TrueHuddle",
    "Truth",
    "TruthGroup",
    "TruthTick",
    "bridge_episodes",
    "evaluate",
    "evaluation_to_dict",
    "format_table",
    "huddle_episodes",
    "jaccard",
    "load_alerts",
    "load_frames",
    "load_truth",
    "match_groups",
    "nudge_violations",
    "parse_truth",
    "score_alerts",
    "score_groups",
    "to_json",
    "true_huddles",
]
