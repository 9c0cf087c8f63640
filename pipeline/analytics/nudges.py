"""Nudge efficacy: alerted huddles against randomly held-out ones (the honest comparison).

Per alert, from the stored episodes (members with first/last seen times):

* **dispersal time** — seconds from the alert until fewer than two of its members still
  stand in the episode that held most of them at the alert;
* **joined a mixed group** — for every member of the huddle, in both arms, whether within
  ``window_s`` after the alert they joined an episode whose members came from two or more
  companies. Every member, not only the nudged ones: nobody is picked in a held-out alert,
  and the people the policy would pick (roster attendees who are not exempt, opted out,
  paused or nudged lately) are not a random draw of the members, so comparing the nudged
  with all the held-out members would measure who gets picked, not what a nudge does. This
  is the intention-to-treat comparison: the effect of nudging a huddle, diluted by the
  members a nudge did not reach.

The difference (alerted − held out) gets a percentile bootstrap CI from a seeded rng,
resampling alerts (a huddle's members do not move independently of each other).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["Arm", "Efficacy", "bootstrap_diff", "bootstrap_share_diff", "nudge_efficacy"]

#: Below this many alerts in either arm the report says there is too little data.
MIN_PER_ARM = 10


@dataclass(frozen=True, slots=True)
class Arm:
    alerts: int
    dispersal_s: tuple[float, ...]
    joined: tuple[float, ...]  # 1.0 joined a mixed group in time, 0.0 did not; one per member
    joined_by_alert: tuple[tuple[int, int], ...] = ()  # per alert: members who joined, members


@dataclass(frozen=True, slots=True)
class Efficacy:
    alerted: Arm
    held_out: Arm
    dispersal_diff: tuple[float, float, float]  # difference of means, CI low, CI high (s)
    joined_diff: tuple[float, float, float]  # difference of shares, CI low, CI high
    too_little_data: bool


def bootstrap_diff(
    x: Sequence[float], y: Sequence[float], *, seed: int = 0, n_boot: int = 2000, level: float = 0.95
) -> tuple[float, float, float]:
    """Mean(x) − mean(y) with a percentile bootstrap CI; NaNs when either side is empty."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    if not x or not y:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)
    xa, ya = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    bx = rng.choice(xa, size=(n_boot, xa.size)).mean(axis=1)
    by = rng.choice(ya, size=(n_boot, ya.size)).mean(axis=1)
    lo, hi = np.quantile(bx - by, [(1 - level) / 2, (1 + level) / 2])
    return float(xa.mean() - ya.mean()), float(lo), float(hi)


def bootstrap_share_diff(
    x: Sequence[tuple[int, int]],
    y: Sequence[tuple[int, int]],
    *,
    seed: int = 0,
    n_boot: int = 2000,
    level: float = 0.95,
) -> tuple[float, float, float]:
    """Share(x) − share(y) of (successes, trials) per cluster, with a percentile bootstrap CI
    that resamples clusters; NaNs when either side has no trials."""
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), got {level!r}")
    xa, ya = np.asarray(x, dtype=np.float64).reshape(-1, 2), np.asarray(y, dtype=np.float64).reshape(-1, 2)
    if xa[:, 1].sum() == 0 or ya[:, 1].sum() == 0:
        return float("nan"), float("nan"), float("nan")
    rng = np.random.default_rng(seed)

    def shares(a: np.ndarray) -> np.ndarray:
        pick = rng.integers(0, a.shape[0], size=(n_boot, a.shape[0]))
        k, n = a[pick, 0].sum(axis=1), a[pick, 1].sum(axis=1)
        return np.asarray(np.divide(k, n, out=np.full(n_boot, np.nan), where=n > 0))

    diff = shares(xa) - shares(ya)
    lo, hi = np.nanquantile(diff, [(1 - level) / 2, (1 + level) / 2])
    point = xa[:, 0].sum() / xa[:, 1].sum() - ya[:, 0].sum() / ya[:, 1].sum()
    return float(point), float(lo), float(hi)


def nudge_efficacy(
    alerts: Sequence[Mapping[str, Any]],
    episodes: Sequence[Mapping[str, Any]],
    members: Sequence[tuple[str, str, float, float]],
    *,
    window_s: float = 300.0,
    seed: int = 0,
) -> Efficacy:
    """Compare alerted and held-out alerts (see the module docstring)."""
    mixed = {ep["id"] for ep in episodes if len([c for c, n in ep["mix"].items() if n > 0]) >= 2}
    by_episode: dict[str, dict[str, tuple[float, float]]] = {}
    by_badge: dict[str, list[tuple[str, float, float]]] = {}
    for ep, badge, first, last in members:
        by_episode.setdefault(ep, {})[badge] = (first, last)
        by_badge.setdefault(badge, []).append((ep, first, last))
    arms: dict[bool, tuple[list[float], list[float], int]] = {True: ([], [], 0), False: ([], [], 0)}
    clusters: dict[bool, list[tuple[int, int]]] = {True: [], False: []}
    for alert in alerts:
        ts = float(alert["ts"])
        held = bool(alert["held_out"])
        disp, joined, n = arms[held]
        arms[held] = (disp, joined, n + 1)
        best: list[float] = []
        for roster in by_episode.values():
            lasts = [roster[m][1] for m in alert["members"] if m in roster and roster[m][0] <= ts <= roster[m][1]]
            if len(lasts) > len(best):
                best = lasts
        if len(best) >= 2:
            disp.append(sorted(best, reverse=True)[1] - ts)
        outcomes = [
            any(ep in mixed and ts <= first <= ts + window_s for ep, first, _ in by_badge.get(badge, []))
            for badge in alert["members"]
        ]
        joined.extend(1.0 if ok else 0.0 for ok in outcomes)
        clusters[held].append((sum(outcomes), len(outcomes)))
    alerted = Arm(arms[False][2], tuple(arms[False][0]), tuple(arms[False][1]), tuple(clusters[False]))
    held_out = Arm(arms[True][2], tuple(arms[True][0]), tuple(arms[True][1]), tuple(clusters[True]))
    return Efficacy(
        alerted,
        held_out,
        bootstrap_diff(alerted.dispersal_s, held_out.dispersal_s, seed=seed),
        bootstrap_share_diff(alerted.joined_by_alert, held_out.joined_by_alert, seed=seed + 1),
        min(alerted.alerts, held_out.alerts) < MIN_PER_ARM,
    )
