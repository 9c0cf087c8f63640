import pytest
from evalkit import T0, alert, employees, roster

from pipeline.evaluation import EARLY_TOLERANCE_S, LATE_GRACE_S, TrueHuddle, jaccard, score_alerts
from pipeline.venue import Policy

DWELL = 60.0
POLICY = Policy(min_size=3, dwell_s=DWELL)
ACME = ["a-1", "a-2", "a-3", "a-4", "a-5", "a-6", "a-7"]
ROSTER = roster(*employees("acme", *ACME), *employees("beta", "b-1", "b-2", "b-3"))


def huddle(group: str, start: float, end: float, members: list[str], company: str = "acme") -> TrueHuddle:
    """A huddle from ``T0 + start`` to ``T0 + end`` with the same members every second."""
    seconds = int(end - start) + 1
    return TrueHuddle(group, company, tuple(T0 + start + i for i in range(seconds)), (frozenset(members),) * seconds)


H1 = huddle("g-1", 0, 100, ["a-1", "a-2", "a-3"])
H2 = huddle("g-2", 50, 200, ["b-1", "b-2", "b-3"], "beta")
DUE1 = T0 + DWELL  # H1's start + dwell


def test_perfect_alerts_score_one() -> None:
    alerts = [
        alert("al-1", DUE1, "acme", ["a-1", "a-2", "a-3"]),
        alert("al-2", T0 + 110, "beta", ["b-1", "b-2", "b-3"]),
    ]
    score = score_alerts(alerts, [H1, H2], ROSTER, POLICY)
    assert (score.tp, score.fp, score.fn) == (2, 0, 0)
    assert score.precision == score.recall == score.f1 == 1.0
    assert [m.group for m in score.matches] == ["g-1", "g-2"]


def test_no_alerts_scores_zero_f1() -> None:
    score = score_alerts([], [H1, H2], ROSTER, POLICY)
    assert (score.tp, score.fp, score.fn) == (0, 0, 2)
    assert score.precision == score.recall == score.f1 == 0.0
    assert score.latency_median_s is None and score.latency_p90_s is None
    assert score.missed == (("g-1", H1.start), ("g-2", H2.start))


def test_conventions_without_huddles() -> None:
    empty = score_alerts([], [], ROSTER, POLICY)
    assert empty.precision == empty.recall == empty.f1 == 1.0
    spurious = score_alerts([alert("al-1", DUE1, "acme", ["a-1", "a-2", "a-3"])], [], ROSTER, POLICY)
    assert (spurious.precision, spurious.recall, spurious.f1, spurious.fp) == (0.0, 1.0, 0.0, 1)


def test_wrong_company_is_a_false_positive_and_a_miss() -> None:
    score = score_alerts([alert("al-1", DUE1, "beta", ["a-1", "a-2", "a-3"])], [H1], ROSTER, POLICY)
    assert (score.tp, score.fp, score.fn) == (0, 1, 1)
    assert score.false_positives == ("al-1",)


def test_tolerances_are_ten_seconds_early_and_thirty_late() -> None:
    assert (EARLY_TOLERANCE_S, LATE_GRACE_S) == (10.0, 30.0)


@pytest.mark.parametrize(
    ("ts", "matched"),
    [
        (DUE1 - 10.5, False),
        (DUE1 - 10.0, True),
        (H1.end + 30.0, True),
        (H1.end + 30.5, False),
    ],
)
def test_the_time_window_is_inclusive(ts: float, matched: bool) -> None:
    score = score_alerts([alert("al-1", ts, "acme", ["a-1", "a-2", "a-3"])], [H1], ROSTER, POLICY)
    assert score.tp == int(matched)
    assert score.fp == int(not matched)


def test_too_early_is_not_matched_even_for_the_right_group() -> None:
    score = score_alerts([alert("al-1", T0 + 5, "acme", ["a-1", "a-2", "a-3"])], [H1], ROSTER, POLICY)
    assert (score.tp, score.fp, score.fn) == (0, 1, 1)


@pytest.mark.parametrize(
    ("members", "matched"),
    [
        (["a-1", "a-2", "a-3", "a-5", "a-6"], True),  # 3 / 6 = 0.5: at the bound
        (["a-1", "a-2", "a-3", "a-5", "a-6", "a-7"], False),  # 3 / 7 < 0.5
        (["a-1", "a-2"], True),  # 2 / 4 = 0.5
        (["a-1"], False),  # 1 / 4
        (["a-1", "a-2", "x-1", "x-2", "x-3"], True),  # unknown badges are ignored: 2 / 4
    ],
)
def test_jaccard_bound_is_inclusive_over_roster_badges(members: list[str], matched: bool) -> None:
    four = huddle("g-1", 0, 100, ["a-1", "a-2", "a-3", "a-4", "x-8"])  # x-8 not on the roster
    score = score_alerts([alert("al-1", DUE1, "acme", members)], [four], ROSTER, POLICY)
    assert score.tp == int(matched)


def test_jaccard() -> None:
    assert jaccard(frozenset("ab"), frozenset("bc")) == 1 / 3
    assert jaccard(frozenset(), frozenset()) == 0.0


def test_jaccard_uses_the_members_at_the_nearest_second() -> None:
    seconds = tuple(T0 + i for i in range(101))
    grows = TrueHuddle("g-1", "acme", seconds, (frozenset(ACME[:3]),) * 70 + (frozenset(ACME[3:7]),) * 31)
    early = alert("al-1", T0 + 65, "acme", ACME[:3])
    late = alert("al-2", T0 + 130, "acme", ACME[:3])  # clamped to the end, where the members changed
    assert score_alerts([early], [grows], ROSTER, POLICY).tp == 1
    assert score_alerts([late], [grows], ROSTER, POLICY).tp == 0


def test_a_second_alert_for_one_huddle_is_a_false_positive() -> None:
    alerts = [alert("al-2", DUE1 + 20, "acme", ["a-1", "a-2", "a-3"]), alert("al-1", DUE1, "acme", ["a-1", "a-2"])]
    score = score_alerts(alerts, [H1], ROSTER, POLICY)
    assert (score.tp, score.fp, score.fn) == (1, 1, 0)
    assert score.matches[0].alert == "al-1"  # the earlier alert takes the huddle
    assert score.false_positives == ("al-2",)
    assert (score.precision, score.recall) == (0.5, 1.0)


def test_an_alert_takes_the_huddle_it_overlaps_most() -> None:
    near = huddle("g-1", 0, 100, ["a-1", "a-2", "a-3", "a-4"])
    best = huddle("g-2", 0, 100, ["a-1", "a-2", "a-3"])
    score = score_alerts([alert("al-1", DUE1, "acme", ["a-1", "a-2", "a-3"])], [near, best], ROSTER, POLICY)
    assert [(m.group, m.jaccard) for m in score.matches] == [("g-2", 1.0)]


def test_held_out_alerts_count_as_detections() -> None:
    score = score_alerts([alert("al-1", DUE1, "acme", ["a-1", "a-2", "a-3"], held_out=True)], [H1], ROSTER, POLICY)
    assert (score.tp, score.held_out) == (1, 1)


def test_latency_median_and_p90() -> None:
    huddles = [huddle(f"g-{i}", 300 * i, 300 * i + 100, ["a-1", "a-2", "a-3"]) for i in range(3)]
    alerts = [
        alert(f"al-{i}", T0 + 300 * i + DWELL + lag, "acme", ["a-1", "a-2", "a-3"])
        for i, lag in enumerate([20, -5, 10])
    ]
    score = score_alerts(alerts, huddles, ROSTER, POLICY)
    assert sorted(m.latency_s for m in score.matches) == [-5.0, 10.0, 20.0]
    assert score.latency_median_s == 10.0
    assert score.latency_p90_s == pytest.approx(18.0)
