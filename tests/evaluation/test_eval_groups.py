import math

import pytest
from evalkit import T0, frame, record, truth_of

from pipeline.evaluation import GROUP_THRESHOLDS, match_groups, score_groups

TWO_THIRDS, EXACT = GROUP_THRESHOLDS
FOUR = ["p-1", "p-2", "p-3", "p-4"]


def test_thresholds_are_two_thirds_and_one() -> None:
    assert GROUP_THRESHOLDS == (2 / 3, 1.0)


def test_three_of_four_matches_at_two_thirds_only() -> None:
    truth = truth_of([record(T0, {"g-1": FOUR})])
    frames = [frame(T0, FOUR[:3])]
    loose = score_groups(frames, truth, TWO_THIRDS)
    strict = score_groups(frames, truth, EXACT)
    assert (loose.precision, loose.recall, loose.f1) == (1.0, 1.0, 1.0)
    assert (strict.precision, strict.recall, strict.f1) == (0.0, 0.0, 0.0)


def test_two_of_three_is_exactly_two_thirds_and_matches() -> None:
    assert match_groups([frozenset(["a", "b"])], [frozenset(["a", "b", "c"])], 2 / 3) == 1
    assert match_groups([frozenset(["a", "b"])], [frozenset(["a", "b", "c", "d"])], 2 / 3) == 0
    # 2/3 written another way, a hair above the float 2/3: 6 of 9 still matches.
    assert match_groups([frozenset("abcdef")], [frozenset("abcdefghi")], math.nextafter(2 / 3, 1.0)) == 1
    # A detection too large: 3 / max(3, 5) < 2/3.
    assert match_groups([frozenset("abcde")], [frozenset("abc")], 2 / 3) == 0


def test_matching_is_one_to_one() -> None:
    same = frozenset(["a", "b", "c"])
    assert match_groups([same, same], [same], 1.0) == 1
    assert match_groups([same], [same, same], 1.0) == 1


def test_detections_are_restricted_to_people_in_the_truth() -> None:
    truth = truth_of([record(T0, {"g-1": ["p-1", "p-2"]}, extra=["p-3"])])
    # ref-1 (a reference badge) drops out; the lone p-3 is no group once ghost-1 is gone.
    frames = [frame(T0, ["p-1", "p-2", "ref-1"], ["p-3", "ghost-1"])]
    score = score_groups(frames, truth, EXACT)
    assert (score.precision, score.recall, score.precision_ticks) == (1.0, 1.0, 1)


def test_rates_are_averaged_over_ticks_and_f1_is_of_the_averages() -> None:
    truth = truth_of(
        [
            record(T0, {"g-1": ["p-1", "p-2"], "g-2": ["p-3", "p-4"]}),  # 1 of 2 found, 1 wrong: P 1/2, R 1/2
            record(T0 + 1, {"g-1": ["p-1", "p-2"]}, extra=["p-3", "p-4"]),  # found, nothing wrong: P 1, R 1
            record(T0 + 2, {}, extra=["p-1", "p-2"]),  # nothing true, one detected: P 0, no recall
            record(T0 + 3, {"g-1": ["p-1", "p-2"]}),  # nothing detected: no precision, R 0
        ]
    )
    frames = [
        frame(T0, ["p-1", "p-2"], ["p-3", "p-1"]),
        frame(T0 + 1, ["p-1", "p-2"]),
        frame(T0 + 2, ["p-1", "p-2"]),
        frame(T0 + 3),
        frame(T0 + 10, ["p-1", "p-2"]),  # no truth second: skipped
    ]
    score = score_groups(frames, truth, EXACT)
    assert (score.ticks, score.skipped, score.precision_ticks, score.recall_ticks) == (4, 1, 3, 3)
    assert score.precision == pytest.approx(0.5)
    assert score.recall == pytest.approx(0.5)
    assert score.f1 == pytest.approx(0.5)


def test_f1_of_averages_differs_from_average_of_f1() -> None:
    truth = truth_of([record(T0, {"g-1": ["p-1", "p-2"]}), record(T0 + 1, {"g-1": ["p-1", "p-2"]})])
    frames = [frame(T0, ["p-1", "p-2"]), frame(T0 + 1, ["p-1", "p-2", "p-9"])]  # p-9 absent: restricted away
    assert score_groups(frames, truth, EXACT).f1 == 1.0
    truth = truth_of([record(T0, {"g-1": ["p-1", "p-2"]}, extra=["p-5", "p-6"]), record(T0 + 1, {})])
    frames = [frame(T0, ["p-1", "p-2"], ["p-5", "p-6"]), frame(T0 + 1)]
    score = score_groups(frames, truth, EXACT)
    assert (score.precision, score.recall) == (0.5, 1.0)
    assert score.f1 == pytest.approx(2 / 3)


def test_frames_pair_with_truth_within_half_a_second() -> None:
    truth = truth_of([record(T0, {"g-1": ["p-1", "p-2"]})])
    assert score_groups([frame(T0 + 0.5, ["p-1", "p-2"])], truth, EXACT).ticks == 1
    assert score_groups([frame(T0 - 0.6, ["p-1", "p-2"])], truth, EXACT).ticks == 0


def test_empty_conventions() -> None:
    quiet = truth_of([record(T0, {}, extra=["p-1"])])
    assert score_groups([frame(T0)], quiet, EXACT).f1 == 1.0  # nothing to find, nothing claimed
    busy = truth_of([record(T0, {"g-1": ["p-1", "p-2"]})])
    blind = score_groups([frame(T0)], busy, EXACT)
    assert (blind.precision, blind.recall, blind.f1) == (0.0, 0.0, 0.0)
    unpaired = score_groups([frame(T0 + 100, ["p-1", "p-2"])], busy, EXACT)
    assert (unpaired.ticks, unpaired.f1) == (0, 0.0)


@pytest.mark.parametrize("threshold", [0.0, 1.5])
def test_threshold_out_of_range_is_refused(threshold: float) -> None:
    with pytest.raises(ValueError, match="threshold"):
        score_groups([], truth_of([]), threshold)
