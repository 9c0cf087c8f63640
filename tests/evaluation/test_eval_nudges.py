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
