"""How well the radio evidence tells a huddle candidate's strangers from its neighbours.

    python bench/stranger_evidence.py [--seeds 6,7] [--minutes 30] [--out /tmp/strangers]

A same-company core standing with strangers is a mixed group, not a huddle: the detector
must attach those strangers (``ColleagueFinder``). For each training seed (kept apart from
the evaluation seeds 3-5 of docs/quality.md) it simulates a 300-attendee scenario, replays
it through ``step()`` and, every tick after the first 30 s, takes every huddle-candidate
track seen that tick: its *core* (the counted members of its dominant company) and every
counted non-colleague whose pair score to a core member the pipeline averaged that tick
(``ColleagueFinder.smoothed``). The truth labels each stranger (in the core's true group or
not) and each candidate (its core's true group is a huddle or not; *pure* candidates have
their whole core in one true group).

It prints two tables:

* per stranger, the ROC AUC of the mean score alone and of logistic models over the scores
  (mean, min, max, share within ``attach_m``, share of the core measured, core size) and
  with two "competition" features (the stranger is itself in another candidate's core; its
  best mean score to another candidate), trained on one seed and tested on the other;
* per pure candidate-tick, the precision and recall of "this is a huddle" when strangers
  are attached by: nobody; the detector's rule (within ``attach_m`` of half the core, no
  hysteresis); the models at three probability thresholds; a 40 s average of the scores.
"""

from __future__ import annotations

import argparse
import math
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import orjson
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from mingle_wire import read_recording
from pipeline.detector import MINGLE
from pipeline.evaluation import load_truth
from pipeline.replay import replay_ticks
from pipeline.roster import load_roster
from pipeline.sim import ScenarioConfig, simulate
from pipeline.step import PipelineState
from pipeline.venue import load_venue

FEATURES = (
    "mean",
    "min",
    "max",
    "share within attach_m",
    "share measured",
    "core size",
    "in another core",
    "best other",
)
LONG_S = 40.0


@dataclass
class Candidate:
    seed: int
    core: int
    pure: bool
    huddle: bool
    scores: list[np.ndarray]  # per stranger: its averaged score to each core member (NaN: not measured)
    truly_in: list[bool]
    long: list[np.ndarray]  # the same scores averaged over LONG_S
    competition: list[tuple[float, float]] = field(default_factory=list)


def candidates_of(scenario: Path, seed: int) -> list[Candidate]:
    venue = load_venue(scenario / "venue.yaml")
    roster = load_roster(scenario / "roster.csv")
    policy = venue.policy
    truth = load_truth(scenario / "truth.jsonl")
    state = PipelineState(venue, roster, MINGLE)
    finder = state.colleagues
    assert finder is not None
    exempt = set(policy.exempt_roles)
    counted = {b for b, a in roster.items() if a.role not in exempt}
    long_avg: dict[tuple[int, int], tuple[float, float]] = {}
    out: list[Candidate] = []
    for k, tick in enumerate(replay_ticks(read_recording(scenario / "recording.jsonl.gz", orjson.loads), state)):
        now = tick.frame.ts
        if k < 30:
            continue
        tk = truth.at(now)
        group_of = {m: g.id for g in tk.groups for m in g.members} if tk is not None else {}
        people = [b.badge for b in tick.frame.badges if b.badge in counted]
        cores = []
        for track in state.huddle_tracker.tracks.values():
            if track.last_seen != now:
                continue
            company = state.policy.composition(track.members).company
            core = [m for m in track.members if m in counted and roster[m].company == company]
            if company is not None and len(core) >= 2:
                cores.append((company, core))
        in_core = {m: i for i, (_, core) in enumerate(cores) for m in core}
        tick_cands: list[tuple[int, list[str], Candidate]] = []
        for i, (company, core) in enumerate(cores):
            gids = {group_of.get(m) for m in core}
            gid = next(iter(gids)) if len(gids) == 1 else None
            pure = gid is not None
            true_group = [b for b, g in group_of.items() if g == gid and b in counted] if pure else []
            share = sum(roster[b].company == company for b in true_group) / max(len(true_group), 1)
            huddle = pure and len(true_group) >= policy.min_size and share >= policy.homogeneity - 1e-9
            core_ids = np.array([state.badges.get(m) for m in core], dtype=np.int64)
            cand = Candidate(seed, len(core), pure, huddle, [], [], [])
            names = []
            for s in people:
                if roster[s].company == company:
                    continue
                sid = state.badges.get(s)
                vals = finder.smoothed(core_ids, np.full(core_ids.shape[0], sid), now)
                if np.isnan(vals).all():
                    continue
                long = np.full(vals.shape[0], np.nan)
                for j, v in enumerate(vals.tolist()):
                    if math.isnan(v):
                        continue
                    key = (int(core_ids[j]), sid)
                    prev = long_avg.get(key)
                    if prev is None or now - prev[1] > 30:
                        long[j] = v
                    else:
                        long[j] = prev[0] + (1 - math.exp(-(now - prev[1]) / LONG_S)) * (v - prev[0])
                    long_avg[key] = (float(long[j]), now)
                cand.scores.append(vals)
                cand.long.append(long)
                cand.truly_in.append(pure and group_of.get(s) == gid)
                names.append(s)
            tick_cands.append((i, names, cand))
        # Competition: is the stranger in another core, and how close is it to the closest other candidate?
        means: dict[str, dict[int, float]] = defaultdict(dict)
        for i, names, cand in tick_cands:
            for s, vals in zip(names, cand.scores, strict=True):
                means[s][i] = float(np.nanmean(vals))
        for i, names, cand in tick_cands:
            cand.competition = [
                (float(s in in_core), min([m for j, m in means[s].items() if j != i], default=2.0)) for s in names
            ]
            out.append(cand)
    return out


def stranger_rows(cands: list[Candidate]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x, y, owner = [], [], []
    for ci, c in enumerate(cands):
        for vals, truly, (other_core, best_other) in zip(c.scores, c.truly_in, c.competition, strict=True):
            x.append(
                [
                    np.nanmean(vals),
                    np.nanmin(vals),
                    np.nanmax(vals),
                    np.mean(vals <= MINGLE.attach_m),
                    np.mean(~np.isnan(vals)),
                    c.core,
                    other_core,
                    best_other,
                ]
            )
            y.append(truly)
            owner.append(ci)
    return np.array(x).reshape(-1, len(FEATURES)), np.array(y, dtype=bool), np.array(owner, dtype=np.int64)


def candidate_score(
    cands: list[Candidate], attached: np.ndarray, owner: np.ndarray, min_size: int, homogeneity: float
) -> tuple[float, float]:
    """Precision and recall of "huddle" (the policy's ``min_size``/``homogeneity`` on the core and
    the attached strangers) on pure candidates, given per-stranger attachment."""
    extra = np.bincount(owner, weights=attached.astype(float), minlength=len(cands))
    tp = fp = fn = 0
    for c, a in zip(cands, extra, strict=True):
        if not c.pure:
            continue
        said = c.core + a >= min_size and c.core / (c.core + a) >= homogeneity - 1e-9
        tp += said and c.huddle
        fp += said and not c.huddle
        fn += (not said) and c.huddle
    return tp / max(tp + fp, 1), tp / max(tp + fn, 1)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seeds", default="6,7")
    ap.add_argument("--minutes", type=float, default=30.0)
    ap.add_argument("--out", type=Path, default=Path("/tmp/strangers"))
    args = ap.parse_args(argv)
    seeds = [int(s) for s in args.seeds.split(",")]
    if len(seeds) < 2:
        ap.error("--seeds needs at least two seeds (models are tested on a seed they were not fitted on)")
    data = {}
    for seed in seeds:
        scenario = args.out / f"seed{seed}"
        if not (scenario / "truth.jsonl").exists():
            simulate(ScenarioConfig(seed=seed, minutes=args.minutes), scenario)
        cands = candidates_of(scenario, seed)
        x, y, owner = stranger_rows(cands)
        pure = sum(c.pure for c in cands)
        rows = f"{y.shape[0]} stranger rows, {int(y.sum())} truly in"
        print(f"seed {seed}: {len(cands)} candidate-ticks ({pure} pure), {rows}", file=sys.stderr)
        data[seed] = (cands, x, y, owner)
    models = {"scores (6 features)": list(range(6)), "+ competition (8 features)": list(range(8))}
    heads = " | ".join(f"seed {s}" for s in seeds)
    print(f"| per stranger: ROC AUC on the held-out seed | {heads} |")
    print("|---|" + "---|" * len(seeds))
    aucs = " | ".join(f"{roc_auc_score(data[s][2], -data[s][1][:, 0]):.3f}" for s in seeds)
    print(f"| mean score alone | {aucs} |")
    probs: dict[str, dict[int, np.ndarray]] = {name: {} for name in models}
    for name, cols in models.items():
        cells = []
        for s in seeds:
            train = [t for t in seeds if t != s]
            xt = np.vstack([data[t][1][:, cols] for t in train])
            yt = np.concatenate([data[t][2] for t in train])
            model = LogisticRegression(max_iter=3000).fit(xt, yt)
            probs[name][s] = model.predict_proba(data[s][1][:, cols])[:, 1]
            cells.append(f"{roc_auc_score(data[s][2], probs[name][s]):.3f}")
        print(f"| logistic: {name} | " + " | ".join(cells) + " |")
    print()
    print(f"| pure candidates: precision / recall of 'huddle' per tick | {heads} |")
    print("|---|" + "---|" * len(seeds))

    def row(label: str, attach: dict[int, np.ndarray]) -> None:
        cells = []
        for s in seeds:
            policy = load_venue(args.out / f"seed{s}" / "venue.yaml").policy
            p, r = candidate_score(data[s][0], attach[s], data[s][3], policy.min_size, policy.homogeneity)
            cells.append(f"{p:.3f} / {r:.3f}")
        print(f"| {label} | " + " | ".join(cells) + " |")

    def half_within(values: list[np.ndarray], limit: float) -> np.ndarray:
        return np.array([np.sum(v <= limit) >= max(1, math.ceil(0.5 * v.shape[0])) for v in values], dtype=bool)

    row("attach nobody", {s: np.zeros(data[s][2].shape[0], dtype=bool) for s in seeds})
    row(
        f"within {MINGLE.attach_m} of half the core (the rule, no hysteresis)",
        {s: half_within([v for c in data[s][0] for v in c.scores], MINGLE.attach_m) for s in seeds},
    )
    for name in models:
        for threshold in (0.3, 0.5, 0.7):
            row(f"logistic {name}, p >= {threshold}", {s: probs[name][s] >= threshold for s in seeds})
    for limit in (0.55, 0.65):
        row(
            f"the rule, or a {LONG_S:.0f} s average within {limit} of half the core",
            {
                s: half_within([v for c in data[s][0] for v in c.scores], MINGLE.attach_m)
                | half_within([v for c in data[s][0] for v in c.long], limit)
                for s in seeds
            },
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
