from __future__ import annotations

from dash_helpers import T0, cluster, frame

from dashboard.outcomes import NudgeOutcomes

HUDDLE = {"b-01": (10.0, 7.0), "b-02": (10.5, 7.0), "b-03": (10.3, 7.5)}


def outcomes(max_open: int = 10) -> NudgeOutcomes:
    return NudgeOutcomes(within_s=300.0, hold_s=10.0, radius_m=4.5, max_open=max_open)


def test_at_most_max_open_nudges_are_followed() -> None:
    o = outcomes(max_open=2)
    for badge in ("b-01", "b-02", "b-03"):
        o.add(badge, "Acme", "a-1", T0)
    assert o.open == 2


def test_a_nudge_of_an_unknown_alert_is_judged_by_the_clusters_alone() -> None:
    members = {"a-1": ("b-01", "b-02", "b-03")}
    for known, worked in ((True, 0), (False, 1)):
        o = outcomes()
        o.add("b-01", "Acme", "a-1", T0)
        # b-01 stands 2 m from the rest of its huddle, in no Acme-dominated cluster.
        spots = {**HUDDLE, "b-01": (12.3, 7.0)}
        for k in range(12):
            o.judge(frame(T0 + k, spots, ()), 0.75, lambda a, known=known: members.get(a) if known else None)
        assert (o.worked, o.open) == (worked, 1 - worked)


def test_standing_in_an_own_company_cluster_is_not_away() -> None:
    o = outcomes()
    o.add("b-01", "Acme", "a-1", T0)
    spots = {**HUDDLE, "b-01": (30.0, 20.0), "b-04": (30.5, 20.0), "b-05": (30.0, 20.5)}
    acme = cluster("c-9", ("b-01", "b-04", "b-05"), "Acme", 1.0, since=T0)
    for k in range(302):
        o.judge(frame(T0 + k, spots, (acme,)), 0.75, lambda a: ("b-01", "b-02", "b-03"))
    assert (o.worked, o.failed, o.open) == (0, 1, 0)
