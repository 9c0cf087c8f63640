from evalkit import T0, alert, roster

from pipeline.evaluation import nudge_violations
from pipeline.venue import Policy

ROSTER = roster(
    ("a-1", "acme"),
    ("a-2", "acme", "attendee", True),  # opted out
    ("a-3", "acme", "staff"),
    ("a-4", "acme", "organizer", True),  # exempt and opted out
    ("a-5", "acme", "speaker"),
)
MEMBERS = ["a-1", "a-2", "a-3", "a-4", "a-5", "x-1"]
POLICY = Policy(cooldown_s=600.0)


def test_nudges_to_opted_out_attendees_are_counted() -> None:
    alerts = [
        alert("al-1", T0, "acme", MEMBERS, nudge=["a-1", "a-2"]),
        alert("al-2", T0 + 10, "acme", MEMBERS, nudge=["a-4"]),
    ]
    counts = nudge_violations(alerts, ROSTER, Policy(cooldown_s=0.0))
    assert (counts.nudges, counts.opt_out) == (3, 2)


def test_nudges_to_exempt_roles_are_counted() -> None:
    alerts = [alert("al-1", T0, "acme", MEMBERS, nudge=["a-3", "a-4", "a-5", "x-1"])]
    counts = nudge_violations(alerts, ROSTER, POLICY)
    assert (counts.nudges, counts.exempt, counts.opt_out) == (4, 2, 1)  # speakers and unknown badges are not exempt


def test_clean_nudges_count_nothing() -> None:
    alerts = [alert("al-1", T0, "acme", MEMBERS, nudge=["a-1"]), alert("al-2", T0 + 5, "acme", MEMBERS, held_out=True)]
    counts = nudge_violations(alerts, ROSTER, POLICY)
    assert (counts.nudges, counts.opt_out, counts.exempt, counts.cooldown) == (1, 0, 0, 0)


def test_a_renudge_within_the_cooldown_is_counted_and_at_the_cooldown_is_not() -> None:
    alerts = [
        alert("al-3", T0 + 1199.0, "acme", MEMBERS, nudge=["a-1"]),  # 599 s after al-2: too soon
        alert("al-1", T0, "acme", MEMBERS, nudge=["a-1", "a-5"]),
        alert("al-2", T0 + 600.0, "acme", MEMBERS, nudge=["a-1"]),  # exactly the cooldown: fine
        alert("al-4", T0 + 100.0, "acme", MEMBERS, nudge=["x-1"]),  # another badge: fine
    ]
    assert nudge_violations(alerts, ROSTER, POLICY).cooldown == 1


def test_a_nudge_is_aimed_when_its_badge_truly_clings_to_the_alerts_company() -> None:
    from evalkit import steady, truth_of, venue

    people = roster(*[(f"a-{k}", "acme") for k in range(1, 5)], ("b-1", "beta"), ("b-2", "beta"), ("c-1", "cyan"))
    # g-1: three acme and a beta (0.75 acme); g-2: an acme with two betas; c-1 and a-9 stand alone.
    truth = truth_of(steady({"g-1": ["a-1", "a-2", "a-3", "b-1"], "g-2": ["a-4", "b-2", "c-1"]}, 5, extra=["a-9"]))
    alerts = [
        # a-1 aimed; a-4 stands in a mixed group
        alert("al-1", T0 + 1, "acme", ["a-1", "a-2", "a-4"], nudge=["a-1", "a-4"]),
        alert("al-2", T0 + 2, "acme", ["a-1", "a-2", "a-9"], nudge=["a-9"]),  # alone: not aimed
        alert("al-3", T0 + 3, "beta", ["b-1", "b-2"], nudge=["b-1"]),  # g-1 is not beta's
        alert("al-4", T0 + 60, "acme", ["a-1", "a-2", "a-3"], nudge=["a-2"]),  # no truth at that second
    ]
    at_75 = venue(homogeneity=0.75, cooldown_s=0.0)
    counts = nudge_violations(alerts, people, at_75.policy, truth, at_75)
    assert (counts.nudges, counts.aimed) == (5, 1)
    at_80 = venue(homogeneity=0.8, cooldown_s=0.0)
    assert nudge_violations(alerts, people, at_80.policy, truth, at_80).aimed == 0
    assert nudge_violations(alerts, people, POLICY).aimed is None  # without the truth


def test_aimed_counts_the_true_group_as_the_huddle_condition_does() -> None:
    from evalkit import square, steady, truth_of, venue

    from pipeline.venue import Zone

    people = roster(*[(f"a-{k}", "acme") for k in range(1, 9)], ("s-1", "globex", "staff"))
    # g-1: three acme and a globex staff member (exempt: not counted); g-2: two acme, below
    # min_size; g-3: three acme in a booth (a nudges: false zone), at (40, 40).
    booth = {b: (40.0, 40.0) for b in ("a-6", "a-7", "a-8")}
    groups = {"g-1": ["a-1", "a-2", "a-3", "s-1"], "g-2": ["a-4", "a-5"], "g-3": ["a-6", "a-7", "a-8"]}
    truth = truth_of(steady(groups, 5, at=booth))
    v = venue(
        [Zone("booth", square(38, 38, 42, 42), nudges=False)],
        min_size=3,
        homogeneity=1.0,
        cooldown_s=0.0,
        exempt_roles=("staff",),
    )

    def aimed(badge: str) -> int | None:
        nudged = [alert("al-1", T0 + 1, "acme", ["a-1", "a-2", badge], nudge=[badge])]
        return nudge_violations(nudged, people, v.policy, truth, v).aimed

    assert aimed("a-1") == 1  # the staff member is not counted: g-1 is all acme
    assert aimed("a-4") == 0  # g-2 is all acme, but two are fewer than min_size
    assert aimed("a-6") == 0  # g-3 stands in a booth
