"""Evaluations as a fixed-width text table and as one line of JSON.

Both take ``rows``: detector name (``"mingle"``, ``"baseline"``) to its
:class:`~.scoring.Evaluation`, in display order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from .groups import GroupScore
from .scoring import Evaluation

__all__ = ["evaluation_to_dict", "format_table", "to_json"]


def _num(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _groups(score: GroupScore) -> dict[str, Any]:
    return {
        "precision": _num(score.precision, 4),
        "recall": _num(score.recall, 4),
        "f1": _num(score.f1, 4),
        "ticks": score.ticks,
        "skipped": score.skipped,
    }


def evaluation_to_dict(ev: Evaluation) -> dict[str, Any]:
    """The JSON form of one evaluation (rates to 4 decimals, seconds to 0.1 s)."""
    a = ev.alerts
    return {
        "true_huddles": ev.true_huddles,
        "alerts": {
            "count": a.alerts,
            "held_out": a.held_out,
            "tp": a.tp,
            "fp": a.fp,
            "fn": a.fn,
            "precision": _num(a.precision, 4),
            "recall": _num(a.recall, 4),
            "f1": _num(a.f1, 4),
            "latency_median_s": _num(a.latency_median_s, 1),
            "latency_p90_s": _num(a.latency_p90_s, 1),
        },
        "groups": {"2/3": _groups(ev.groups_2_3), "1": _groups(ev.groups_1)},
        "nudges": {
            "count": ev.nudges.nudges,
            "opt_out": ev.nudges.opt_out,
            "exempt": ev.nudges.exempt,
            "cooldown": ev.nudges.cooldown,
            "aimed": ev.nudges.aimed,
        },
    }


def to_json(rows: Mapping[str, Evaluation]) -> str:
    """One line of JSON: ``{detector: evaluation_to_dict(...)}`` in ``rows`` order."""
    return json.dumps({name: evaluation_to_dict(ev) for name, ev in rows.items()}, allow_nan=False)


def _rate(value: float) -> str:
    return f"{value:.3f}"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


#: (header, width, cell) of every column after the detector name.
_COLUMNS: tuple[tuple[str, int, Callable[[Evaluation], str]], ...] = (
    ("huddles", 7, lambda e: str(e.true_huddles)),
    ("alerts", 6, lambda e: str(e.alerts.alerts)),
    ("TP", 5, lambda e: str(e.alerts.tp)),
    ("FP", 5, lambda e: str(e.alerts.fp)),
    ("FN", 5, lambda e: str(e.alerts.fn)),
    ("precision", 9, lambda e: _rate(e.alerts.precision)),
    ("recall", 6, lambda e: _rate(e.alerts.recall)),
    ("F1", 5, lambda e: _rate(e.alerts.f1)),
    ("latency_s", 9, lambda e: _seconds(e.alerts.latency_median_s)),
    ("gF1@2/3", 7, lambda e: _rate(e.groups_2_3.f1)),
    ("gF1@1", 5, lambda e: _rate(e.groups_1.f1)),
    ("opt-out", 7, lambda e: str(e.nudges.opt_out)),
    ("exempt", 6, lambda e: str(e.nudges.exempt)),
    ("cooldown", 8, lambda e: str(e.nudges.cooldown)),
    ("aimed", 7, lambda e: "-" if e.nudges.aimed is None else f"{e.nudges.aimed}/{e.nudges.nudges}"),
)


def format_table(rows: Mapping[str, Evaluation]) -> str:
    """A fixed-width table, one line per detector, under a header line.

    Columns: true huddles, alerts, TP, FP, FN, alert precision, recall and F1, median
    alert latency in seconds (``-`` without a match), group F1 at T = 2/3 and T = 1, and
    nudges to opt-outs, to exempt roles and within the cooldown, and the nudges aimed at
    someone truly clinging to colleagues (of all nudges).
    """
    name_width = max([len("detector"), *(len(name) for name in rows)])
    header = "detector".ljust(name_width) + "".join(f"  {title:>{width}}" for title, width, _ in _COLUMNS)
    lines = [header]
    for name, ev in rows.items():
        lines.append(name.ljust(name_width) + "".join(f"  {cell(ev):>{width}}" for _, width, cell in _COLUMNS))
    return "\n".join(lines)
