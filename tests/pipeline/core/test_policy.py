"""The huddle policy: dwell, homogeneity, exemptions, cooldown, missionaries, hold-outs."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.core.composition import Person, compose
from pipeline.core.policy import HuddlePolicy
from pipeline.core.tracking import Track
from pipeline.venue import Policy, Zone

PEOPLE = {
    "a1": Person("Acme", interests=("ml",)),
    "a2": Person("Acme"),
    "a3": Person("Acme"),
    "a4": Person("Acme", opt_out=True),
    "s1": Person("Acme", role="staff"),
    "g1": Person("Globex", interests=("ml", "bio")),
    "g2": Person("Globex"),
    "i1": Person("Initech"),
}
BOOTH = Zone("booth", ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)), nudges=False)
POLICY = Policy(min_size=3, homogeneity=0.75, dwell_s=60, cooldown_s=600, holdout_fraction=0.0, seed=1)


def track(members: tuple[str, ...], x: float = 10.0, y: float = 10.0, tid: str = "c-1") -> Track:
    return Track(tid, members, x, y, 0.0, 0.0)


def run(policy: HuddlePolicy, t: Track, seconds: range, others: tuple[Track, ...] = ()) -> list:  # type: ignore[type-arg]
    fired = []
    for now in seconds:
        fired += policy.update((t, *others), (), {m: (t.x, t.y) for m in t.members}, float(now))
    return fired


def since(*phases: tuple[Track, range]) -> list[float]:
    """The ``since`` of every alert when a fresh policy (20 s grace, 3 s when short of a
    member) sees each track over its seconds in turn."""
    p = HuddlePolicy(POLICY, PEOPLE, site="expo", grace_s=20, shrunk_grace_s=3)
    return [a.since for t, seconds in phases for a in run(p, t, seconds)]


def test_composition_counts_roster_non_exempt_members() -> None:
    c = compose(["a1", "a2", "s1", "stranger", "g1"], PEOPLE, ("staff",))
    assert c.counted == ("a1", "a2", "g1") and c.company == "Acme" and abs(c.share - 2 / 3) < 1e-9
    assert c.companies == ("Acme", "Globex") and c.counts == (2, 1)
    assert (c.count("Acme"), c.count("Globex"), c.count("Initech")) == (2, 1, 0)


def test_fires_once_after_dwell() -> None:
    p = HuddlePolicy(POLICY, PEOPLE, site="expo")
    fired = run(p, track(("a1", "a2", "a3")), range(0, 200))
    assert len(fired) == 1
    alert = fired[0]
    assert alert.ts == 60.0 and alert.since == 0.0 and alert.company == "Acme" and alert.cluster == "c-1"
    assert len(alert.nudge) == 1 and alert.nudge[0] in ("a1", "a2", "a3") and not alert.held_out


def test_a_lead_starts_the_clock_that_much_before_the_huddle_is_seen() -> None:
    p = HuddlePolicy(POLICY, PEOPLE, site="expo")
    t = track(("a1", "a2", "a3"))
    fired = []
    for now in range(10, 200):
        fired += p.update((t,), (), {}, float(now), lead_s=3.0)
    assert [(a.ts, a.since) for a in fired] == [(67.0, 7.0)]  # seen from 10 s, dwell 60 s


def test_homogeneity_boundary_is_inclusive() -> None:
    p = HuddlePolicy(POLICY, PEOPLE, site="expo")
    assert len(run(p, track(("a1", "a2", "a3", "g1")), range(0, 61))) == 1  # 3/4 = 0.75
    p = HuddlePolicy(POLICY, PEOPLE, site="expo")
    assert run(p, track(("a1", "a2", "g1", "g2")), range(0, 200)) == []  # 2/4


def test_too_small_exempt_roles_and_unknown_badges_do_not_count() -> None:
    p = HuddlePolicy(POLICY, PEOPLE, site="expo")
    assert run(p, track(("a1", "a2", "s1", "stranger")), range(0, 200)) == []


def test_no_alert_in_a_nudges_false_zone() -> None:
    p = HuddlePolicy(POLICY, PEOPLE, (BOOTH,), site="expo")
    assert run(p, track(("a1", "a2", "a3"), x=2.0, y=2.0), range(0, 200)) == []


def test_a_zone_margin_exempts_only_tracks_well_inside_the_zone() -> None:
    def alerts(x: float, margin: float) -> int:
        p = HuddlePolicy(POLICY, PEOPLE, (BOOTH,), site="expo")
        t = track(("a1", "a2", "a3"), x=x, y=2.0)
        return sum(len(p.update((t,), (), {}, float(now), zone_margin_m=margin)) for now in range(0, 200))

    # 2 m inside the booth (its centre): exempt with or without a margin; 0.5 m inside, by its
    # edge: exempt without, alerted with a 1 m margin (the radio's position is metres off).
    assert (alerts(2.0, 0.0), alerts(2.0, 1.0)) == (0, 0)
    assert (alerts(0.5, 0.0), alerts(0.5, 1.0)) == (0, 1)
    assert (
        BOOTH.depth(0.5, 2.0) == 0.5 and BOOTH.depth(2.0, 2.0) == 2.0 and BOOTH.depth(5.0, 5.0) == pytest.approx(2**0.5)
    )


def test_opt_out_is_never_nudged() -> None:
    p = HuddlePolicy(replace(POLICY, max_nudge=2, min_size=3), PEOPLE, site="expo")
    for seed in range(20):
        p = HuddlePolicy(replace(POLICY, seed=seed), PEOPLE, site="expo")
        alert = run(p, track(("a4", "a1", "a2")), range(0, 61))[0]
        assert "a4" not in alert.nudge


def test_grace_keeps_the_clock_through_a_lapse_and_resets_after() -> None:
    p = HuddlePolicy(POLICY, PEOPLE, site="expo", grace_s=5)
    huddle, mixed = track(("a1", "a2", "a3")), track(("a1", "g1", "g2"))
    fired = run(p, huddle, range(0, 30)) + run(p, mixed, range(30, 33)) + run(p, huddle, range(33, 61))
    assert [a.since for a in fired] == [0.0]
    p = HuddlePolicy(POLICY, PEOPLE, site="expo", grace_s=5)
    fired = run(p, huddle, range(0, 30)) + run(p, mixed, range(30, 40)) + run(p, huddle, range(40, 101))
    assert [a.since for a in fired] == [40.0]


def test_without_a_grace_an_unbroken_huddle_still_alerts_and_any_lapse_resets() -> None:
    huddle, mixed = track(("a1", "a2", "a3")), track(("a1", "g1", "g2"))
    p = HuddlePolicy(POLICY, PEOPLE, site="expo", grace_s=0, suppress_repeats=False)
    assert [a.since for a in run(p, huddle, range(0, 100))] == [0.0]
    p = HuddlePolicy(POLICY, PEOPLE, site="expo", grace_s=0, suppress_repeats=False)
    fired = run(p, huddle, range(0, 30)) + run(p, mixed, range(30, 31)) + run(p, huddle, range(31, 100))
    assert [a.since for a in fired] == [31.0]
    p = HuddlePolicy(POLICY, PEOPLE, site="expo", grace_s=0, suppress_repeats=False)
    other = track(("g1", "g2"), tid="c-2")
    fired = run(p, huddle, range(0, 30)) + run(p, other, range(30, 31)) + run(p, huddle, range(31, 100))  # unseen at 30
    assert [a.since for a in fired] == [31.0]


def test_a_huddle_that_shrinks_below_min_size_resets_sooner_than_one_that_turns_mixed() -> None:
    huddle, shrunk, mixed = track(("a1", "a2", "a3")), track(("a1", "a2")), track(("a1", "a2", "a3", "g1", "g2"))

    # Three seconds short of a member: the same huddle; five: a new one, its clock from scratch.
    assert since((huddle, range(0, 30)), (shrunk, range(30, 33)), (huddle, range(33, 100))) == [0.0]
    assert since((huddle, range(0, 30)), (shrunk, range(30, 35)), (huddle, range(35, 100))) == [35.0]
    # Ten seconds mixed (still three colleagues, 60 %): bridged by the 20 s grace.
    assert since((huddle, range(0, 30)), (mixed, range(30, 40)), (huddle, range(40, 100))) == [0.0]
    # Short for two seconds after ten mixed: the short clock runs from the last tick with three.
    assert since((huddle, range(0, 30)), (mixed, range(30, 40)), (shrunk, range(40, 42)), (huddle, range(42, 100))) == [
        0.0
    ]


def test_a_colleague_gone_while_a_stranger_stays_is_a_member_short_not_a_mixed_group() -> None:
    # Three colleagues and a stranger (75 %: a huddle). One colleague leaves and the stranger
    # stays: three counted members, but two colleagues can never be a huddle at min_size 3 and
    # 75 %, so the short clock applies. A second stranger joining instead is a mixed lapse.
    huddle, short, mixed = (
        track(("a1", "a2", "a3", "g1")),
        track(("a1", "a2", "g1")),
        track(("a1", "a2", "a3", "g1", "g2")),
    )
    p = HuddlePolicy(POLICY, PEOPLE, site="expo", grace_s=20, shrunk_grace_s=3)
    assert p.min_colleagues == 3
    assert since((huddle, range(0, 30)), (short, range(30, 35)), (huddle, range(35, 100))) == [35.0]
    assert since((huddle, range(0, 30)), (short, range(30, 33)), (huddle, range(33, 100))) == [0.0]
    assert since((huddle, range(0, 30)), (mixed, range(30, 40)), (huddle, range(40, 100))) == [0.0]


def test_the_fewest_colleagues_a_huddle_holds_follows_the_policy() -> None:
    for min_size, homogeneity, want in ((3, 0.75, 3), (4, 0.75, 3), (3, 2 / 3, 2), (5, 0.6, 3), (2, 1.0, 2)):
        policy = replace(POLICY, min_size=min_size, homogeneity=homogeneity)
        assert HuddlePolicy(policy, PEOPLE, site="expo").min_colleagues == want, (min_size, homogeneity)


def test_without_a_shrunk_grace_a_group_short_of_a_member_keeps_the_grace() -> None:
    huddle, shrunk = track(("a1", "a2", "a3")), track(("a1", "a2"))
    p = HuddlePolicy(POLICY, PEOPLE, site="expo", grace_s=20)
    fired = run(p, huddle, range(0, 30)) + run(p, shrunk, range(30, 35)) + run(p, huddle, range(35, 100))
    assert [a.since for a in fired] == [0.0]


def test_clocks_of_tracks_no_longer_seen_are_forgotten_after_the_grace() -> None:
    # Tracks that stop coming without being reported ended (another tracker's) leave no state.
    p = HuddlePolicy(POLICY, PEOPLE, site="expo", grace_s=20)
    for k in range(50):
        t = track(("a1", "a2", "a3"), tid=f"c-{k}")
        run(p, t, range(10 * k, 10 * k + 5))
    assert set(p.state) <= {"c-47", "c-48", "c-49"}
    # A huddle seen again within its grace keeps its clock.
    fired = run(p, track(("a1", "a2", "a3"), tid="c-49"), range(500, 560))
    assert [a.since for a in fired] == [490.0]


def test_the_same_huddle_on_a_new_track_is_suppressed_within_cooldown() -> None:
    p = HuddlePolicy(POLICY, PEOPLE, site="expo")
    first = run(p, track(("a1", "a2", "a3")), range(0, 61))
    again = run(p, track(("a1", "a2", "a3"), tid="c-2"), range(100, 200))
    assert len(first) == 1 and again == [] and p.suppressed == 1


def test_missionaries_rotate_and_respect_cooldown() -> None:
    policy = replace(POLICY, cooldown_s=100)
    p = HuddlePolicy(policy, PEOPLE, site="expo")
    nudged = []
    for k in range(3):
        start = k * 200
        fired = run(p, track(("a1", "a2", "a3"), tid=f"c-{k}"), range(start, start + 61))
        nudged.append(fired[0].nudge)
    assert len({n[0] for n in nudged}) == 3  # a different missionary each time


def test_paused_badges_are_skipped() -> None:
    p = HuddlePolicy(POLICY, PEOPLE, site="expo")
    p.pause("a1", 1000.0)
    p.pause("a2", 1000.0)
    alert = run(p, track(("a1", "a2", "a3")), range(0, 61))[0]
    assert alert.nudge == ("a3",)


def test_a_pause_holds_until_its_own_source_cancels_it_and_a_late_one_changes_nothing() -> None:
    p = HuddlePolicy(POLICY, PEOPLE, site="expo")
    p.pause("a1", 1800.0, sent=0.0, source="phone")  # asked on the phone: 30 minutes
    p.pause("a1", 600.0, sent=10.0, source="button")  # the team-huddle button, then...
    p.pause("a1", 20.0, sent=20.0, source="button")  # ...switched off: cancels the button's pause only
    assert p.paused("a1", 100.0) and not p.paused("a1", 1800.0)
    p.pause("a1", 30.0, sent=30.0, source="phone")  # cancelled on the phone
    p.pause("a1", 900.0, sent=5.0, source="phone")  # an older pause delivered late (a gateway's backlog)
    assert not p.paused("a1", 100.0)
    assert not p.paused("a2", 0.0)


def test_holdout_fraction_is_seeded_and_nudges_nobody() -> None:
    def outcomes(seed: int) -> list[bool]:
        p = HuddlePolicy(replace(POLICY, holdout_fraction=0.5, cooldown_s=0, seed=seed), PEOPLE, site="expo")
        out = []
        for k in range(40):
            fired = run(p, track(("a1", "a2", "a3"), tid=f"c-{k}"), range(k * 100, k * 100 + 61))
            out += [a.held_out for a in fired]
            assert all(a.nudge == () for a in fired if a.held_out)
        return out

    a, b = outcomes(3), outcomes(3)
    assert a == b and 10 <= sum(a) <= 30


def test_suggests_the_nearest_mixed_group_with_room() -> None:
    p = HuddlePolicy(POLICY, PEOPLE, site="expo")
    near = track(("g1", "i1"), x=14.0, y=10.0, tid="c-8")
    far = track(("g2", "i1"), x=30.0, y=10.0, tid="c-9")
    alert = run(p, track(("a1", "a2", "a3")), range(0, 61), (far, near))[0]
    assert alert.suggestion is not None and alert.suggestion.cluster == "c-8"
    assert alert.suggestion.distance_m == 4.0 and alert.suggestion.companies == ("Globex", "Initech")


def test_suggests_a_person_with_shared_interests_when_no_group_has_room() -> None:
    p = HuddlePolicy(replace(POLICY, max_nudge=1), PEOPLE, site="expo")
    t = track(("a1", "a2", "a3"))
    fired = []
    for now in range(0, 61):
        positions = {m: (10.0, 10.0) for m in t.members} | {"g1": (15.0, 10.0), "g2": (12.0, 10.0)}
        fired += p.update((t,), (), positions, float(now))
    s = fired[0].suggestion
    assert s is not None and s.kind == "person"
    if fired[0].nudge == ("a1",):
        assert s.badge == "g1" and s.shared_interests == ("ml",)  # shares "ml" though farther
    else:
        assert s.badge == "g2"
