"""Named detector settings: Mingle's own, and the naive baseline it is measured against."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BASELINE", "DETECTORS", "MINGLE", "Detector"]


@dataclass(frozen=True, slots=True)
class Detector:
    """How ``step()`` turns readings into groups.

    ``positioner``: ``multilateration`` or ``centroid``; ``smoothing``: Kalman over time;
    ``window_s``: RSSI window (s); ``eps_m``/``min_samples``: DBSCAN; ``profile_weight``:
    share of the RSSI-profile distance in the blended distance (0–1); ``ospace_m``:
    o-space projection with headings (m); ``track_min_jaccard``/``track_max_miss_s``:
    tracking; ``grace_s``: how long the huddle condition may lapse without resetting its
    clock (s), and ``shrunk_grace_s`` (at most ``grace_s`` in effect) how long when the lapse
    is the group falling short of a member: below ``min_size`` counted members, or below the
    colleagues any huddle holds (a member gone is a new huddle when they come back, not noise
    to ride out; 3 s: tuning seeds 0.930 / 0.877 / 0.937 → 0.938 / 0.902 / 0.945, and a
    perfectly sighted policy 0.922 → 0.950; counting a colleague gone while a stranger stays
    as short too: nine tuning seeds 0.892 → 0.909, docs/quality.md); ``zone_margin_m``: on RSSI, a
    huddle candidate is exempt by a ``nudges: false`` zone only when its centre is at least
    this far inside it (the radio places groups standing just outside a booth by the wall
    2–3 m inside it; 0.75 m: tuning seeds 0.923 / 0.868 / 0.919 → 0.930 / 0.877 / 0.937,
    docs/quality.md; a feed's positions are held to the edge);
    ``feed_max_age_s``: positions from a feed older than this are dropped.
    ``profile_window_s``/``profile_min_count``: the longer window the RSSI profiles are
    medians over, and the readings a gateway needs in it to count; ``search_m``: only pairs
    whose positions are this close are compared; ``mutual_k``: keep only mutual k-nearest
    edges (0 = all); ``colleague_eps_m``: DBSCAN neighbourhood for the colleague graph that
    proposes huddle candidates (0 = use the floor's groups directly); ``attach_m``: how close
    a non-colleague must stand to count as in a candidate, and ``keep_m`` how close one attached
    last tick must stay to remain in it; ``suppress_repeats``: suppress an
    alert whose members were mostly alerted on within the cooldown.

    ``covary_m`` (0 = off): the colleague distance is then a learned linear score,
    ``colleague_position_weight`` x position distance + ``colleague_m_per_db`` x profile RMS
    difference (``colleague_far_db`` when they share too few gateways) − ``covary_m`` x the
    correlation of their per-second RSSI over ``covary_window_s`` (box-smoothed over
    ``covary_smooth_s``; see ``pipeline/core/covary.py``). The weights come from a logistic
    fit of "same group" on simulator seeds kept apart from the evaluation seeds
    (``bench/fit_pair_weights.py``), scaled so one dB of profile difference costs what it
    does in the floor's blend. The correlation that badges standing together reach depends on
    the crowd and the hardware: ``covary_reference`` is what the floor's closest pairs
    (blended distance within ``covary_probe_m``; at most ``covary_probe_pairs`` of them, evenly
    spread) show in the simulated crowds the weights were fitted on; where the venue's level
    (averaged over ``covary_level_s``) is lower, the score is lowered by ``covary_m`` x the
    difference, so a calm venue falls back on position and profile rather than detecting
    nothing.

    ``walk_m_s`` (0 = off): a badge on a positions feed whose speed, fitted over its fixes of
    the last ``walk_window_s``, is at least this is walking, and in no group this tick (a
    passer-by is not in a conversation, and must not turn a same-company circle mixed nor
    chain two circles; see ``pipeline/core/motion.py``). RSSI positions are metres off, too
    noisy for a speed, so badges located by radio are never called walking.

    ``floor_pair_eps_m`` (0 = off): on RSSI, the floor's groups (the frames' clusters, the
    map, the mixing index, the "mixed group with room" a nudge suggests) come from DBSCAN
    over the colleague score applied to every pair of the floor graph within
    ``floor_pair_m`` of each other, whatever their companies, averaged per pair over
    ``colleague_smooth_s`` like the colleagues' own (capped at ``colleague_cap_m``), with
    edges within this. The blended distance alone (0) puts group detection at F1 ≈ 0.2 at
    T = 2/3; the learned, averaged score at ≈ 0.5 (docs/quality.md). 0.45 was chosen on
    tuning seeds 2 and 6 (0.4–0.5 within 0.02 of each other). A positions feed's groups
    are unchanged (o-space DBSCAN), and so are huddle candidates and which alerts fire,
    when and on whom; an alert's suggested group is one of these groups. It scores every
    nearby pair (≈ 19 per badge at 4 m² a head), so it costs a tick about 40 % at 1,000–5,000
    badges and 70–80 % with 150 MB more at 20,000 (docs/benchmarks.md): a tick with more than
    ``floor_pair_max_badges`` placed badges uses the blended distance instead, which keeps
    a 10,000–20,000-badge tick within its second and 20,000 badges within 512 MB.

    ``err_floor_m_per_sqrt_m``/``err_fix_share``: the part of an RSSI position's error that
    smoothing over time cannot remove, reported on top of the filter's own: ``sqrt((floor x
    sqrt(gateway spacing in m))² + (share x the fix's fitted error)²)`` (see
    ``pipeline/core/smoothing.py``). Calibrated on the simulator (seed 2, gateways every 7 m)
    so that the true error is within the reported one about 63 % of the time, as for a 1 σ
    radial error; they change the reported error only, never a position or a group.

    ``lead_s``: a huddle candidate from the colleague graph (RSSI) is taken to have begun this
    long before it is first seen, and its dwell clock starts then: its members' smoothed
    score crosses ``colleague_eps_m`` some 14 s after they come together (a 20 s average
    falling from the cap), so it is seen late. 3 s of that lag, chosen on the tuning seeds
    (F1 unchanged there and on the held-out seeds; median latency after ``dwell_s`` 30.5–32 s
    → 27–29 s, docs/quality.md). Not for a positions feed, whose groups are seen at once.

    ``colleague_every_s``: how often the colleague pair scores are measured (s); in between,
    every pair keeps the average it had (the scores are ``colleague_smooth_s`` averages
    anyway). 1 = every tick. 2 s replays 500 badges ≈ 15 % faster (tick p50 26 → 20 ms) at
    F1 0.831 / 0.785 / 0.679 on the tuning seeds (1 s: 0.825 / 0.773 / 0.691) and 0.702 /
    0.696 / 0.673 on the held-out ones (0.723 / 0.685 / 0.685): for a venue short of CPU.

    ``colleague_cap_m``: the per-tick colleague distance is capped at this before its moving
    average over ``colleague_smooth_s`` (0 = no cap), so a pair's average reflects whether
    they stood together lately, not how far apart they were.

    Neighbour reports (badges that scan, ``contacts/<gateway>``; kept ``neighbour_window_s``
    by ``pipeline/core/neighbours.py``): the colleague score adds ``neighbour_m_per_db`` per dB
    the pair's best mutual level falls short of ``neighbour_ref_dbm`` (two people of one
    circle report each other at a median −63 dBm; a pair that reports without naming each
    other counts at −95 dBm; nothing where neither reports), and every pair one of them
    reported at ``neighbour_edge_dbm`` or better (< 0; 0 = off) is compared whatever their
    positions say; while any badge reports, colleague candidates are cut at
    ``neighbour_colleague_eps_m`` instead of ``colleague_eps_m`` (the score separates "together"
    more sharply with the reports in it). All three act only where badges report, so a venue
    whose badges do not scan gets exactly the gateway-only detector. The level alone ranks "same group" at ROC AUC
    0.985, the three radio features together at 0.982, all four at 0.991
    (``bench/fit_pair_weights.py --contacts``, seeds 6–8); the fitted weight (0.19 m/dB)
    scored 0.78 / 0.78 on tuning seeds 6 / 7, 0.1 m/dB with the edges 0.83 / 0.79 / 0.84 on
    seeds 2 / 6 / 7, and with candidates cut at 0.7 instead of 0.8: 0.84 / 0.84 / 0.86, chosen
    (docs/quality.md). ``neighbour_attach_dbm`` (< 0; 0 = off) and ``neighbour_attach_rank``
    (0 = any): a non-colleague stands with a candidate's member when their pair score is within
    ``attach_m`` *or* the reports put them together — either heard the other at this level or
    better (that of two people in one circle) *and* one of them has the other among the first
    ``neighbour_attach_rank`` of the badges it heard or was heard by, loudest first — and is
    attached when it stands so with half the members. The radio terms keep a stranger standing
    in a circle at the score's cap as often as not, and strangers are what tell a huddle from a
    mixed group. The level alone lifted the tuning seeds (0.840 / 0.837 / 0.855 → 0.863 / 0.842
    / 0.891) but, with half the simulator's body shielding, attached the next circle's people
    to every huddle (seed 3: 0.738 → 0.46); with the rank (a badge's own circle still comes
    first in its list when bodies shield less) 0.899 / 0.833 / 0.911, and 0.726 with half the
    shielding (docs/quality.md). ``neighbour_cohesion_rank`` (0 = off) and
    ``neighbour_cohesion_dbm``: the same evidence the other way round — a colleague in a
    candidate whose every pair with the other members the reports call apart (none heard at
    this level or better with one among the other's first ``neighbour_cohesion_rank``, and at
    least one of each pair reporting) is dropped from it: a colleague who just left the circle,
    or stands beside it, still scores "together" for 15–20 s on the averaged pair score, while
    the reports of the last seconds already name others first (tuning seeds 0.899 / 0.833 /
    0.911 → 0.904 / 0.853 / 0.919; half shielding 0.726 → 0.767). It reads only the reports
    of the last ``neighbour_cohesion_window_s`` (at most ``neighbour_window_s``): one who walked
    off is out of the candidate that much sooner, before their best level of the whole window
    ages out (16 s of 20: tuning seeds → 0.923 / 0.868 / 0.919, held-out 7 m seeds 0.790 /
    0.870 / 0.911 → 0.806 / 0.893 / 0.901; 12 s and 8 s lose seed 7; half shielding 0.760).
    """

    name: str
    positioner: str = "multilateration"
    smoothing: bool = True
    window_s: float = 10.0
    eps_m: float = 1.4
    min_samples: int = 2
    profile_weight: float = 0.8
    profile_m_per_db: float = 0.35
    profile_window_s: float = 30.0
    profile_min_count: int = 8
    search_m: float = 12.0
    mutual_k: int = 0
    colleague_eps_m: float = 0.8
    attach_m: float = 0.5
    keep_m: float = 0.8
    colleague_smooth_s: float = 20.0
    colleague_cap_m: float = 1.5
    covary_m: float = 2.63
    colleague_position_weight: float = 0.06
    colleague_m_per_db: float = 0.28
    colleague_far_db: float = 8.0
    covary_window_s: int = 30
    covary_smooth_s: int = 3
    covary_probe_m: float = 1.0
    covary_probe_pairs: int = 400
    covary_level_s: float = 120.0
    covary_reference: float = 0.15
    suppress_repeats: bool = False
    ospace_m: float = 0.6
    track_min_jaccard: float = 0.3
    track_max_miss_s: float = 20.0
    grace_s: float = 20.0
    shrunk_grace_s: float = 3.0
    zone_margin_m: float = 0.75
    feed_max_age_s: float = 5.0
    walk_m_s: float = 0.45
    lead_s: float = 3.0
    colleague_every_s: float = 1.0
    err_floor_m_per_sqrt_m: float = 1.42
    err_fix_share: float = 0.5
    walk_window_s: float = 4.0
    floor_pair_eps_m: float = 0.45
    floor_pair_m: float = 7.0
    floor_pair_max_badges: int = 5000
    neighbour_m_per_db: float = 0.1
    neighbour_ref_dbm: float = -63.0
    neighbour_window_s: float = 20.0
    neighbour_edge_dbm: float = -70.0
    neighbour_colleague_eps_m: float = 0.7
    neighbour_attach_dbm: float = -63.0
    neighbour_attach_rank: int = 2
    neighbour_cohesion_rank: int = 3
    neighbour_cohesion_dbm: float = -75.0
    neighbour_cohesion_window_s: float = 16.0

    def __post_init__(self) -> None:
        if self.positioner not in ("multilateration", "centroid"):
            raise ValueError(f"positioner must be multilateration or centroid, got {self.positioner!r}")
        for name in (
            "window_s",
            "eps_m",
            "feed_max_age_s",
            "walk_window_s",
            "colleague_every_s",
            "neighbour_window_s",
            "neighbour_cohesion_window_s",
        ):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        if not (isinstance(self.covary_smooth_s, int) and 1 <= self.covary_smooth_s <= 127):
            raise ValueError(f"covary_smooth_s must be an integer in [1, 127] seconds, got {self.covary_smooth_s!r}")
        if self.covary_probe_pairs < 20:
            raise ValueError(f"covary_probe_pairs must be >= 20, got {self.covary_probe_pairs!r}")
        for name in (
            "track_max_miss_s",
            "grace_s",
            "shrunk_grace_s",
            "zone_margin_m",
            "ospace_m",
            "covary_m",
            "colleague_position_weight",
            "walk_m_s",
            "lead_s",
            "err_floor_m_per_sqrt_m",
            "err_fix_share",
            "floor_pair_eps_m",
            "floor_pair_m",
            "floor_pair_max_badges",
            "neighbour_m_per_db",
            "neighbour_colleague_eps_m",
            "neighbour_attach_rank",
            "neighbour_cohesion_rank",
        ):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if self.neighbour_cohesion_window_s > self.neighbour_window_s:
            raise ValueError(
                f"neighbour_cohesion_window_s ({self.neighbour_cohesion_window_s!r}) must not exceed "
                f"neighbour_window_s ({self.neighbour_window_s!r}): it is the last part of that window"
            )
        for name in ("neighbour_edge_dbm", "neighbour_attach_dbm", "neighbour_cohesion_dbm"):
            if not getattr(self, name) <= 0:
                raise ValueError(f"{name} must be <= 0 (0 = off), got {getattr(self, name)!r}")


MINGLE = Detector(name="mingle")

#: The straightforward pipeline: weighted centroid of the 3 strongest gateways, DBSCAN on
#: those points, overlap tracking without hysteresis.
BASELINE = Detector(
    name="baseline",
    positioner="centroid",
    smoothing=False,
    window_s=5.0,
    eps_m=1.5,
    profile_weight=0.0,
    ospace_m=0.0,
    search_m=3.75,
    colleague_eps_m=0.0,
    covary_m=0.0,
    neighbour_m_per_db=0.0,
    neighbour_edge_dbm=0.0,
    neighbour_attach_dbm=0.0,
    neighbour_cohesion_rank=0,
    track_max_miss_s=0.0,
    grace_s=0.0,
    shrunk_grace_s=0.0,
    zone_margin_m=0.0,
    walk_m_s=0.0,
    lead_s=0.0,
)

DETECTORS = {d.name: d for d in (MINGLE, BASELINE)}
