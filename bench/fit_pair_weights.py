"""Fit the colleague pair score's weights on simulator truth, and show what each feature is worth.

    python bench/fit_pair_weights.py [--seeds 6,7,8] [--minutes 12] [--every 3] [--out /tmp/pairfit] [--contacts]

For each training seed (kept apart from the evaluation seeds 3-5 of docs/quality.md) it
simulates a 300-attendee scenario, replays it through ``step()`` and, every ``--every``
ticks, measures every pair of colleagues on the floor the way the detector does:

* ``d`` — distance between their positions (the frame's, smoothed),
* ``rms`` — RMS of their centred 30 s RSSI-profile difference (dB; ``--far-db`` when they
  share fewer than 3 gateways),
* ``corr`` — correlation of their per-second RSSI over 30 s (``pipeline/core/covary.py``;
  0 when unknown),
* ``near`` (with ``--contacts``: the badges scan and report their neighbours) — the best
  level either reported of the other over 20 s (``pipeline/core/neighbours.py``; the
  store's "unheard" level when one reported without naming the other),

labelled by the truth: in the same conversational group that second, or not. It prints
the ROC AUC of each feature and of logistic fits over feature sets (3-fold cross-validated,
folds by seed so no scenario is in its own test fold), and the weights ``Detector`` uses:
the logistic coefficients scaled so one dB of profile difference costs ``--m-per-db``
metres, as in the floor's blended distance.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import orjson
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mingle_wire import read_recording
from pipeline.core.neighbours import NeighbourReports
from pipeline.detector import MINGLE
from pipeline.evaluation import load_truth
from pipeline.pairscore import profile_term
from pipeline.replay import replay_ticks
from pipeline.roster import load_roster
from pipeline.sim import ScenarioConfig, simulate
from pipeline.step import PipelineState, _fluctuations, _profiles
from pipeline.venue import load_venue

FEATURES = ("d", "rms", "corr", "near")


def pairs_of(scenario: Path, every: int, far_db: float) -> np.ndarray:
    """Rows of (label, d, rms, corr, near) for colleague pairs, every ``every`` ticks (``near``
    NaN where neither badge reported neighbours)."""
    venue = load_venue(scenario / "venue.yaml")
    roster = load_roster(scenario / "roster.csv")
    truth = load_truth(scenario / "truth.jsonl")
    det = dataclasses.replace(MINGLE, colleague_far_db=far_db)
    state = PipelineState(venue, roster, det)
    rows: list[np.ndarray] = []
    for k, tick in enumerate(replay_ticks(read_recording(scenario / "recording.jsonl.gz", orjson.loads), state)):
        if k < 30 or k % every:
            continue
        now = tick.frame.ts
        tk = truth.at(now)
        group = {m: g.id for g in tk.groups for m in g.members} if tk is not None else {}
        present = set(tk.badges) if tk is not None else set()
        badges = [b for b in tick.frame.badges if b.badge in roster and b.badge in present]
        if len(badges) < 2:
            continue
        idx = np.array([state.badges.get(b.badge) for b in badges], dtype=np.int64)
        xy = np.array([(b.x, b.y) for b in badges])
        company = np.array([hash(roster[b.badge].company) for b in badges])
        i, j = np.triu_indices(len(badges), 1)
        same_company = company[i] == company[j]
        i, j = i[same_company], j[same_company]
        if i.shape[0] == 0:
            continue
        # The detector's own feature builders, so the fit measures exactly what it scores.
        profiles = _profiles(state, idx, now)
        fl = _fluctuations(state, idx, now)
        if profiles is None or fl is None:
            continue
        rms, common = state.groups.profile_difference(i, j, profiles)
        rms = profile_term(det, rms, common, state.groups.min_common_gateways)
        corr = np.nan_to_num(fl.correlation(i, j), nan=0.0)
        d = np.hypot(*(xy[i] - xy[j]).T)
        near = state.neighbours.level(idx[i], idx[j], now)
        gid = [group.get(b.badge) for b in badges]
        label = np.array([gid[a] is not None and gid[a] == gid[b] for a, b in zip(i, j, strict=True)])
        rows.append(np.column_stack([label, d, rms, corr, near]))
    return np.vstack(rows) if rows else np.empty((0, 5))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="6,7,8")
    ap.add_argument("--minutes", type=float, default=12.0)
    ap.add_argument("--every", type=int, default=3)
    ap.add_argument("--far-db", type=float, default=MINGLE.colleague_far_db)
    ap.add_argument("--m-per-db", type=float, default=MINGLE.colleague_m_per_db)
    ap.add_argument("--out", type=Path, default=Path("/tmp/pairfit"))
    ap.add_argument("--contacts", action="store_true", help="badges scan and report neighbours; fit their weight too")
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    data = []
    for seed in seeds:
        scenario = args.out / (f"seed{seed}-contacts" if args.contacts else f"seed{seed}")
        if not (scenario / "truth.jsonl").exists():
            simulate(ScenarioConfig(seed=seed, minutes=args.minutes, contacts=args.contacts), scenario)
        rows = pairs_of(scenario, args.every, args.far_db)
        together = int(rows[:, 0].sum())
        print(f"seed {seed}: {rows.shape[0]} colleague pairs measured, {together} in one group", file=sys.stderr)
        data.append(rows)
    y = np.concatenate([r[:, 0] for r in data]) > 0
    x = np.vstack([r[:, 1:] for r in data])
    if args.contacts:
        x[:, 3] = np.nan_to_num(x[:, 3], nan=NeighbourReports().unheard_dbm)
    fold = np.concatenate([np.full(r.shape[0], k % 3) for k, r in enumerate(data)])
    print("| features | ROC AUC (held-out folds) |")
    print("|---|---|")
    alone = [("d alone", 0, -1), ("rms alone", 1, -1), ("corr alone", 2, 1)]
    sets: list[tuple[int, ...]] = [(0, 1), (0, 1, 2)]
    if args.contacts:
        alone.append(("near alone", 3, 1))
        sets += [(0, 1, 2, 3)]
    for name, col, sign in alone:
        print(f"| {name} | {roc_auc_score(y, sign * x[:, col]):.3f} |")
    for cols in sets:
        score = np.zeros(y.shape[0])
        for f in np.unique(fold):
            test = fold == f
            train = ~test if (~test).any() else test
            model = LogisticRegression(max_iter=2000).fit(x[train][:, cols], y[train])
            score[test] = model.decision_function(x[test][:, cols])
        names = " + ".join(FEATURES[c] for c in cols)
        print(f"| logistic: {names} | {roc_auc_score(y, score):.3f} |")
    cols = sets[-1]
    model = LogisticRegression(max_iter=2000).fit(x[:, cols], y)
    coef = dict(zip((FEATURES[c] for c in cols), model.coef_[0], strict=True))
    scale = args.m_per_db / -coef["rms"]
    print()
    print(f"all seeds: intercept {model.intercept_[0]:.3f}, " + ", ".join(f"{k} {v:.3f}" for k, v in coef.items()))
    weights = (
        f"colleague_position_weight={-coef['d'] * scale:.3f} "
        f"colleague_m_per_db={args.m_per_db} covary_m={coef['corr'] * scale:.3f}"
    )
    if "near" in coef:
        weights += f" neighbour_m_per_db={coef['near'] * scale:.3f}"
    print(f"Detector weights (rms at {args.m_per_db} m/dB): {weights}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
