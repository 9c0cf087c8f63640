"""Where the RSSI detector's F1 is lost: its huddle candidates with the truth's membership.

    python bench/oracle_membership.py SCENARIO_DIR [SCENARIO_DIR ...] [--modes radio,A,AC,truth]
        [--bridge-s 0,10] [--lag-s 0] [--grace-s S] [--shrunk-grace-s S]

An analysis, not a detector: for each simulated scenario (``mingle simulate``, RSSI input)
the recording is replayed with Mingle's detector, and again with the colleague candidates
(``ColleagueFinder.fit``'s output, every tick) corrected from ``truth.jsonl``:

  * ``radio`` — as shipped;
  * ``A`` — each candidate's strangers are exactly the non-colleagues of the true group
    most of its members stand in (members the radio put elsewhere stay);
  * ``AC`` — its colleagues are too: the radio's candidates are kept, their membership
    made exact (a candidate in no true group is dropped);
  * ``truth`` — no radio at all: the huddle policy, with the detector's grace, runs on the
    truth's own groups, every second (perfect sight, no lag). What this misses is the
    metric's blips alone: a group that falls short of the condition for fewer seconds than
    the grace is one huddle to the policy and two to the strict definition.

Everything else — positions, tracking, the policy's clock and lead — is the detector's
own (``--grace-s``/``--shrunk-grace-s`` replace the detector's graces, in every mode);
``--lag-s L`` reads the truth L seconds late (exact membership, but stale). Each row
is scored by ``mingle evaluate``'s definitions (strict, and with each truth group's
episodes joined across gaps of ``--bridge-s`` seconds). The gap between ``radio`` and
``AC`` is what exact knowledge of *who* is in the radio's candidates would buy; what ``AC``
still misses is candidates the radio never forms, and the metric's own blips.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson
from scipy import sparse

from mingle_wire import Alert, read_recording
from pipeline.allocator import set_up_pipeline_process
from pipeline.core.colleagues import ColleagueFinder
from pipeline.core.policy import HuddlePolicy
from pipeline.core.tracking import Track
from pipeline.detector import MINGLE, Detector
from pipeline.evaluation import score_alerts, true_huddles
from pipeline.evaluation.truth import Truth, load_truth
from pipeline.replay import replay_ticks
from pipeline.roster import load_roster
from pipeline.step import PipelineState
from pipeline.venue import load_venue

IntArray = npt.NDArray[np.int64]


class OracleFinder(ColleagueFinder):
    """The detector's finder, its candidates' membership then corrected from the truth."""

    def __init__(self, base: ColleagueFinder, truth: Truth, names: list[str], mode: str, lag_s: float) -> None:
        super().__init__(
            base.eps_m,
            attach_m=base.attach_m,
            attach_share=base.attach_share,
            smooth_s=base.smooth_s,
            forget_s=base.forget_s,
            cap_m=base.cap_m,
            keep_m=base.keep_m,
        )
        self.truth, self.names, self.mode, self.lag_s = truth, names, mode, lag_s

    def fit(
        self,
        graph: sparse.csr_matrix,
        company: IntArray,
        ids: IntArray | None = None,
        pair_distance: Callable[[IntArray, IntArray], npt.NDArray[np.float64]] | None = None,
        now: float = 0.0,
        measure: bool = True,
        eps_m: float | None = None,
        heard: Callable[[IntArray, IntArray], npt.NDArray[np.bool_]] | None = None,
        cohesion: Callable[[IntArray, IntArray], npt.NDArray[np.int8]] | None = None,
    ) -> list[IntArray]:
        groups = super().fit(graph, company, ids, pair_distance, now, measure, eps_m, heard, cohesion)
        tick = self.truth.at(now - self.lag_s)
        if tick is None or ids is None:
            return groups
        row_name = [self.names[i] for i in ids.tolist()]
        row_of = {badge: row for row, badge in enumerate(row_name)}
        group_of = {m: g for g in tick.groups for m in g.members}
        out = []
        for rows in groups:
            own = company[rows[0]]
            members = [r for r in rows.tolist() if company[r] == own]
            strangers = [r for r in rows.tolist() if company[r] != own]
            votes: dict[str, int] = {}
            for r in members:
                g = group_of.get(row_name[r])
                if g is not None:
                    votes[g.id] = votes.get(g.id, 0) + 1
            if not votes:
                if "C" in self.mode:
                    continue
            else:
                best = max(votes, key=lambda k: (votes[k], k))
                true = [row_of[m] for g in tick.groups if g.id == best for m in g.members if m in row_of]
                if "C" in self.mode:
                    members = [r for r in true if company[r] == own]
                strangers = [r for r in true if company[r] != own]
            if len(members) >= 2:
                out.append(np.array(sorted(set(members)) + sorted(set(strangers) - set(members)), dtype=np.int64))
        return out


def truth_alerts(truth: Truth, state: PipelineState) -> list[Alert]:
    """The detector's huddle policy run on the truth's groups (ids, members, centres), every second."""
    det = state.detector
    policy = HuddlePolicy(
        state.venue.policy,
        state.people,
        state.venue.zones,
        site=state.venue.site,
        grace_s=det.grace_s,
        suppress_repeats=det.suppress_repeats,
        shrunk_grace_s=det.shrunk_grace_s,
    )
    alerts: list[Alert] = []
    live: set[str] = set()
    for tick in truth.ticks:
        row = {badge: i for i, badge in enumerate(tick.badges)}
        seen = []
        for g in tick.groups:
            x, y = tick.xy[[row[m] for m in g.members]].mean(axis=0).tolist()
            seen.append(Track(g.id, tuple(sorted(g.members)), x, y, tick.t, tick.t))
        ids = {t.id for t in seen}
        ended, live = sorted(live - ids), ids
        positions = {badge: (float(tick.xy[i, 0]), float(tick.xy[i, 1])) for i, badge in enumerate(tick.badges)}
        alerts += policy.update(seen, ended, positions, tick.t)
    return alerts


def score(
    scenario: Path, mode: str, bridges: list[float], lag_s: float, detector: Detector
) -> list[tuple[float, float, int, int, int, float | None]]:
    venue, roster = load_venue(scenario / "venue.yaml"), load_roster(scenario / "roster.csv")
    truth = load_truth(scenario / "truth.jsonl")
    state = PipelineState(venue, roster, detector)
    alerts: list[Alert] = []
    if mode == "truth":
        alerts = truth_alerts(truth, state)
    else:
        if mode != "radio":
            assert state.colleagues is not None
            state.colleagues = OracleFinder(state.colleagues, truth, state.badges.ids, mode, lag_s)
        for result in replay_ticks(read_recording(scenario / "recording.jsonl.gz", orjson.loads), state):
            alerts.extend(result.alerts)
    rows = []
    for bridge_s in bridges:
        huddles = true_huddles(truth, roster, venue, bridge_s=bridge_s)
        a = score_alerts(alerts, huddles, roster, venue.policy)
        rows.append((bridge_s, a.f1, a.tp, a.fp, a.fn, a.latency_median_s))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("scenarios", nargs="+", type=Path, metavar="SCENARIO_DIR")
    ap.add_argument("--modes", default="radio,A,AC")
    ap.add_argument("--bridge-s", default="0,10", help="comma-separated bridging gaps in seconds (0: strict)")
    ap.add_argument("--lag-s", type=float, default=0.0, help="read the truth this many seconds late")
    ap.add_argument("--grace-s", type=float, default=MINGLE.grace_s, help="the policy's grace (s)")
    ap.add_argument(
        "--shrunk-grace-s", type=float, default=MINGLE.shrunk_grace_s, help="its grace for a shrunk group (s)"
    )
    args = ap.parse_args()
    set_up_pipeline_process()
    modes = args.modes.split(",")
    if not set(modes) <= {"radio", "A", "AC", "truth"}:
        ap.error(f"--modes takes radio, A, AC and truth, got {args.modes!r}")
    bridges = [float(b) for b in args.bridge_s.split(",")]
    detector = dataclasses.replace(MINGLE, grace_s=args.grace_s, shrunk_grace_s=args.shrunk_grace_s)
    print("| scenario | membership | bridge s | F1 | TP | FP | FN | median latency s |")
    print("|---|---|---|---|---|---|---|---|")
    for scenario in args.scenarios:
        for mode in modes:
            for bridge_s, f1, tp, fp, fn, latency in score(scenario, mode, bridges, args.lag_s, detector):
                lat = "-" if latency is None else f"{latency:g}"
                print(
                    f"| {scenario.name} | {mode} | {bridge_s:g} | {f1:.3f} | {tp} | {fp} | {fn} | {lat} |", flush=True
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
