from typing import Any

import pytest
from evalkit import T0, employees, record, roster, square, steady, truth_of, venue

from pipeline.evaluation import TrueHuddle, bridge_episodes, huddle_episodes, true_huddles
from pipeline.venue import Zone

ACME4 = ["a-1", "a-2", "a-3", "a-4"]
ROSTER = roster(*employees("acme", *ACME4), *employees("beta", "b-1", "b-2", "b-3"))


def spans(huddles: list[TrueHuddle]) -> list[tuple[str, str, float, float]]:
    return [(h.group, h.company, h.start - T0, h.end - T0) for h in huddles]


def test_a_steady_huddle_lasting_the_dwell_is_true() -> None:
    truth = truth_of(steady({"g-1": ["a-1", "a-2", "a-3"]}, 11))
    assert spans(true_huddles(truth, ROSTER, venue(min_size=3, dwell_s=10.0))) == [("g-1", "acme", 0, 10)]
    # One second short of the dwell: an episode, but no true huddle.
    assert true_huddles(truth, ROSTER, venue(min_size=3, dwell_s=11.0)) == []
    assert spans(huddle_episodes(truth, ROSTER, venue(min_size=3, dwell_s=11.0))) == [("g-1", "acme", 0, 10)]


def test_a_failing_second_breaks_the_episode() -> None:
    records = steady({"g-1": ["a-1", "a-2", "a-3"]}, 5)
    records.append(record(T0 + 5, {"g-1": ["a-1", "a-2"]}, extra=["a-3"]))  # below min_size
    records += steady({"g-1": ["a-1", "a-2", "a-3"]}, 4, start=T0 + 6)
    episodes = huddle_episodes(truth_of(records), ROSTER, venue(min_size=3, dwell_s=0.0))
    assert spans(episodes) == [("g-1", "acme", 0, 4), ("g-1", "acme", 6, 9)]


def test_a_missing_second_or_an_absent_group_breaks_the_episode() -> None:
    records = steady({"g-1": ACME4[:3]}, 3) + steady({"g-1": ACME4[:3]}, 3, start=T0 + 4)  # no line at T0+3
    records += [record(T0 + 7, {}, extra=ACME4[:3]), *steady({"g-1": ACME4[:3]}, 2, start=T0 + 8)]
    episodes = huddle_episodes(truth_of(records), ROSTER, venue(min_size=3, dwell_s=0.0))
    assert spans(episodes) == [("g-1", "acme", 0, 2), ("g-1", "acme", 4, 6), ("g-1", "acme", 8, 9)]


def test_a_change_of_dominant_company_starts_a_new_episode() -> None:
    records = steady({"g-1": ["a-1", "a-2", "a-3"]}, 3) + steady({"g-1": ["b-1", "b-2", "b-3"]}, 3, start=T0 + 3)
    episodes = huddle_episodes(truth_of(records), ROSTER, venue(min_size=3, dwell_s=0.0))
    assert spans(episodes) == [("g-1", "acme", 0, 2), ("g-1", "beta", 3, 5)]


def test_exempt_roles_and_unknown_badges_are_not_counted() -> None:
    people = roster(*employees("acme", "a-1", "a-2", "a-3"), ("s-1", "beta", "staff"), ("o-1", "acme", "organizer"))
    policy: dict[str, Any] = {"min_size": 3, "homogeneity": 0.8, "dwell_s": 0.0}
    # 3 acme + a beta staffer + an unknown badge: counted = 3 acme, share 1.0.
    truth = truth_of(steady({"g-1": ["a-1", "a-2", "a-3", "s-1", "x-9"]}, 2))
    assert spans(true_huddles(truth, people, venue(**policy))) == [("g-1", "acme", 0, 1)]
    # Had the staffer counted, acme's share would be 3/4 < 0.8.
    assert true_huddles(truth, people, venue(**{**policy, "exempt_roles": ()})) == []
    # 2 acme + an acme organizer + an unknown: only 2 counted < min_size 3.
    truth = truth_of(steady({"g-1": ["a-1", "a-2", "o-1", "x-9"]}, 2))
    assert true_huddles(truth, people, venue(**policy)) == []
    assert len(true_huddles(truth, people, venue(**{**policy, "exempt_roles": ()}))) == 1


def test_homogeneity_is_inclusive() -> None:
    truth = truth_of(steady({"g-1": ["a-1", "a-2", "a-3", "b-1"]}, 2))
    assert len(true_huddles(truth, ROSTER, venue(min_size=3, homogeneity=0.75, dwell_s=0.0))) == 1
    assert true_huddles(truth, ROSTER, venue(min_size=3, homogeneity=0.76, dwell_s=0.0)) == []
    truth = truth_of(steady({"g-1": ["a-1", "a-2", "b-1"]}, 2))
    assert len(true_huddles(truth, ROSTER, venue(min_size=3, homogeneity=2 / 3, dwell_s=0.0))) == 1


def test_min_size_is_inclusive() -> None:
    truth = truth_of(steady({"g-1": ["a-1", "a-2", "a-3"]}, 2))
    assert len(true_huddles(truth, ROSTER, venue(min_size=3, dwell_s=0.0))) == 1
    assert true_huddles(truth, ROSTER, venue(min_size=4, dwell_s=0.0)) == []


def test_a_no_nudge_zone_exempts_by_the_centre_of_all_members() -> None:
    lounge = Zone("lounge", square(0, 0, 5, 5), nudges=False)
    stage = Zone("stage", square(0, 0, 5, 5), nudges=True)
    inside = {"a-1": (1.0, 1.0), "a-2": (2.0, 1.0), "a-3": (1.0, 2.0)}
    truth = truth_of(steady({"g-1": ["a-1", "a-2", "a-3"]}, 2, at=inside))
    assert true_huddles(truth, ROSTER, venue([lounge], min_size=3, dwell_s=0.0)) == []
    assert len(true_huddles(truth, ROSTER, venue([stage], min_size=3, dwell_s=0.0))) == 1
    assert len(true_huddles(truth, ROSTER, venue([], min_size=3, dwell_s=0.0))) == 1
    # An unknown badge far outside pulls the centre (mean of all members) out of the lounge.
    outside = {**inside, "x-9": (20.0, 20.0)}
    truth = truth_of(steady({"g-1": ["a-1", "a-2", "a-3", "x-9"]}, 2, at=outside))
    assert len(true_huddles(truth, ROSTER, venue([lounge], min_size=3, dwell_s=0.0))) == 1


def test_members_are_kept_per_second_and_looked_up_by_nearest_second() -> None:
    records = steady({"g-1": ["a-1", "a-2", "a-3"]}, 2) + steady({"g-1": ACME4}, 2, start=T0 + 2)
    (huddle,) = true_huddles(truth_of(records), ROSTER, venue(min_size=3, dwell_s=0.0))
    three, four = frozenset(ACME4[:3]), frozenset(ACME4)
    assert huddle.members_at(T0 - 100) == three
    assert huddle.members_at(T0 + 1.4) == three
    assert huddle.members_at(T0 + 1.5) == three  # halfway: the earlier second
    assert huddle.members_at(T0 + 1.6) == four
    assert huddle.members_at(T0 + 100) == four
    assert huddle.members[0] is huddle.members[1]  # one set object per unchanged run


def test_episodes_are_ordered_by_start_then_group() -> None:
    records = [record(T0, {"g-2": ["a-1", "a-2", "a-3"]}, extra=["b-1"])]
    records += [record(T0 + 1, {"g-2": ["a-1", "a-2", "a-3"], "g-1": ["b-1", "b-2", "b-3"]})]
    records += [record(T0 + 2, {"g-0": ["b-1", "b-2", "b-3"]}, extra=["a-1"])]
    episodes = huddle_episodes(truth_of(records), ROSTER, venue(min_size=3, dwell_s=0.0))
    assert spans(episodes) == [("g-2", "acme", 0, 1), ("g-1", "beta", 1, 1), ("g-0", "beta", 2, 2)]


def _blipped(gap_s: int) -> list[Any]:
    """acme's g-1 huddling for 0..5, a member away for ``gap_s`` seconds, back for 6 more."""
    records = steady({"g-1": ["a-1", "a-2", "a-3"]}, 6)
    records += [record(T0 + 6 + k, {"g-1": ["a-1", "a-2"]}, extra=["a-3"]) for k in range(gap_s)]
    records += steady({"g-1": ["a-1", "a-2", "a-4"]}, 6, start=T0 + 6 + gap_s)
    return records


def test_bridging_joins_one_groups_episodes_across_short_gaps_only() -> None:
    strict = venue(min_size=3, dwell_s=12.0)
    truth = truth_of(_blipped(2))
    # Strictly, a two-second blip splits it into two episodes of 5 s: no true huddle.
    assert spans(huddle_episodes(truth, ROSTER, strict)) == [("g-1", "acme", 0, 5), ("g-1", "acme", 8, 13)]
    assert true_huddles(truth, ROSTER, strict) == []
    # Bridged over gaps of up to 2 s (inclusive), it is one huddle of 13 s, members kept per second.
    (joined,) = true_huddles(truth, ROSTER, strict, bridge_s=2.0)
    assert spans([joined]) == [("g-1", "acme", 0, 13)]
    assert len(joined.times) == 12
    assert joined.members_at(T0 + 1) == frozenset({"a-1", "a-2", "a-3"})
    assert joined.members_at(T0 + 12) == frozenset({"a-1", "a-2", "a-4"})
    assert true_huddles(truth, ROSTER, strict, bridge_s=1.999) == []
    assert true_huddles(truth_of(_blipped(3)), ROSTER, strict, bridge_s=2.0) == []


def test_bridging_never_joins_other_groups_or_companies() -> None:
    records = steady({"g-1": ["a-1", "a-2", "a-3"]}, 3)
    records += steady({"g-2": ["a-1", "a-2", "a-3"]}, 3, start=T0 + 4)  # another group id
    records += steady({"g-2": ["b-1", "b-2", "b-3"]}, 3, start=T0 + 8)  # g-2, another company
    episodes = huddle_episodes(truth_of(records), ROSTER, venue(min_size=3, dwell_s=0.0))
    assert spans(bridge_episodes(episodes, 60.0)) == spans(episodes)
    with pytest.raises(ValueError, match="bridge_s"):
        bridge_episodes(episodes, -1.0)
