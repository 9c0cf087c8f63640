from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest
from dash_helpers import HUDDLE_SPOTS, T0, alert, cluster, frame, venue_and_roster

from dashboard.state import DashboardState, StateConfig
from dashboard.wording import suggestion_words
from mingle_wire import DecodeError, Frame, FrameBadge


@pytest.fixture
def state(venue_file: Path, roster_file: Path) -> DashboardState:
    venue, roster = venue_and_roster(venue_file, roster_file)
    return DashboardState(venue, roster)


def nudge(badge: str, aid: str = "a-1", ts: float = T0 + 120) -> dict[str, object]:
    return {"v": 1, "badge": badge, "alert": aid, "ts": ts, "via": "gw-01", "text": "Go say hello.", "suggestion": None}


ACME = cluster("c-1", ("b-01", "b-02", "b-03"), "Acme", 1.0, since=T0)


def test_opted_out_and_unknown_badges_are_anonymous_everywhere(state: DashboardState) -> None:
    state.apply_frame(frame(T0 + 10, {**HUDDLE_SPOTS, "zz-9": (1.0, 1.0)}, (ACME,)), T0 + 10)
    state.apply_alert(alert(nudge=("b-01",)), T0 + 10)
    view = state.live_view(T0 + 10)
    badges = {tuple(b[1:3]): b for b in view["frame"]["badges"]}
    assert badges[(10.3, 7.5)][0] is None and badges[(10.3, 7.5)][3] == -1  # Cat opted out
    assert badges[(1.0, 1.0)][0] is None  # not on the roster
    assert badges[(10.0, 7.0)][0] == "b-01" and badges[(10.0, 7.0)][3] == state.companies.index("Acme")
    assert view["alerts"][0]["who"] == ["Ann", "Bob", "someone who opted out"]
    text = json.dumps(view) + json.dumps(state.venue_view())
    assert "b-03" not in text and "Cat" not in text and "zz-9" not in text
    assert "b-05" not in json.dumps(view["alerts"])  # the suggested person is described, not identified


def test_where_an_anonymous_dot_sits_among_the_named_ones_does_not_tell_its_badge(state: DashboardState) -> None:
    # The pipeline sends badges sorted by id: Cat (b-03, opted out) would sit between b-02 and b-05.
    spots = {"b-01": (10.0, 7.0), "b-02": (10.6, 7.0), "b-03": (10.3, 7.5), "b-05": (16.0, 3.0), "zz-9": (1.0, 1.0)}
    state.apply_frame(frame(T0 + 10, spots), T0 + 10)
    badges = state.live_view(T0 + 10)["frame"]["badges"]
    assert [b[0] for b in badges] == ["b-01", "b-02", "b-05", None, None]  # the named first, then the rest
    assert [b[1:3] for b in badges[3:]] == [[1.0, 1.0], [10.3, 7.5]]  # in an order of where they stand
    alerted = alert(nudge=("b-01",))
    state.apply_alert(replace(alerted, members=("b-01", "b-03", "b-05")), T0 + 10)
    assert state.live_view(T0 + 10)["alerts"][0]["who"] == ["Ann", "Eve", "someone who opted out"]


def test_kpis_count_placed_people_and_mixing(state: DashboardState) -> None:
    mixed = cluster("c-2", ("b-05", "b-06", "b-04"), "Globex", 0.5, since=T0)  # b-04 is staff: not counted
    spots = {**HUDDLE_SPOTS, "b-06": (16.5, 3.0), "b-04": (16.2, 3.4)}
    state.apply_frame(frame(T0 + 59, spots, (ACME, mixed)), T0 + 59)
    k = state.kpis()
    assert k["placed"] == 5  # b-01 b-02 b-03 b-05 b-06; staff b-04 not counted
    assert k["clusters"] == 2
    assert k["mixing_index"] == pytest.approx(2 / 5)  # b-05 and b-06 in a mixed group
    assert k["huddles"] == 0  # no alert yet


def test_an_alerted_huddle_stands_while_its_members_stay_together(state: DashboardState) -> None:
    state.apply_alert(alert(ts=T0 + 120), T0 + 120)  # Ann, Bob, Cat since T0
    state.apply_frame(frame(T0 + 130, HUDDLE_SPOTS), T0 + 130)
    huddles = state.live_view(T0 + 130)["frame"]["huddles"]
    assert [(h["alert"], h["size"], h["dwell_s"]) for h in huddles] == [("a-1", 3, 130.0)]
    assert len(huddles[0]["hull"]) == 3 and state.kpis()["huddles"] == 1
    # Bob walks 4.6 m from the members' median spot: two are left, fewer than min_size 3
    state.apply_frame(frame(T0 + 131, {**HUDDLE_SPOTS, "b-02": (10.0, 12.1)}), T0 + 131)
    assert state.kpis()["huddles"] == 0
    # back together, but half an hour after the alert it is history
    state.apply_frame(frame(T0 + 120 + 1800, HUDDLE_SPOTS), T0 + 1920)
    assert state.kpis()["huddles"] == 1
    state.apply_frame(frame(T0 + 120 + 1801, HUDDLE_SPOTS), T0 + 1921)
    assert state.kpis()["huddles"] == 0


def test_empty_state_views_are_well_formed(state: DashboardState) -> None:
    view = state.live_view(T0)
    assert view["frame"] is None and view["kpis"]["mixing_index"] is None and view["alerts"] == []
    assert {g["state"] for g in view["gateways"]} == {"unknown"}
    assert state.history_at(T0) is None


def test_history_keeps_one_frame_per_interval_for_thirty_minutes(venue_file: Path, roster_file: Path) -> None:
    venue, roster = venue_and_roster(venue_file, roster_file)
    st = DashboardState(venue, roster, StateConfig(history_s=1800.0, history_every_s=5.0))
    for i in range(0, 2400):  # 40 minutes, one frame a second
        st.apply_frame(frame(T0 + i, {"b-01": (1.0 + (i % 7), 2.0)}), T0 + i)
    view = st.live_view(T0 + 2399)["history"]
    assert view["frames"] == 360  # 30 min at one per 5 s: those at or after 2399 - 1800 s
    assert view["from"] == T0 + 600 and view["to"] == T0 + 2395
    got = json.loads(st.history_at(T0 + 1002.0) or b"")
    assert got["frame"]["ts"] == T0 + 1000  # at or just before
    assert json.loads(st.history_at(T0) or b"")["frame"]["ts"] == view["from"]  # earlier than kept: the oldest


def test_frames_out_of_order_are_ignored_and_bad_frames_rejected(state: DashboardState) -> None:
    state.apply_frame(frame(T0 + 10, HUDDLE_SPOTS), T0 + 10)
    state.apply_frame(frame(T0 + 9, {"b-01": (0.0, 0.0)}), T0 + 10)
    assert state.frame is not None and state.frame.ts == T0 + 10
    with pytest.raises(ValueError, match="finite"):
        state.apply_frame(Frame("expo", T0 + 11, (FrameBadge("b-01", "x", 1.0, 1.0),)), T0 + 11)  # type: ignore[arg-type]
    assert state.frame.ts == T0 + 10
    # The pipeline's clock set back ten minutes: the map follows it and the old history goes.
    state.apply_frame(frame(T0 - 590, HUDDLE_SPOTS), T0 + 12)
    assert state.frame.ts == T0 - 590
    assert state.live_view(T0 + 12)["history"]["from"] == T0 - 590


def test_nudge_works_when_the_badge_stays_away_from_its_company_for_the_hold(state: DashboardState) -> None:
    assert state.apply_nudge("b-01", nudge("b-01"), T0 + 120)
    state.apply_frame(frame(T0 + 125, HUDDLE_SPOTS, (ACME,)), T0 + 125)
    away = {**HUDDLE_SPOTS, "b-01": (15.0, 3.0)}
    state.apply_frame(frame(T0 + 130, away, (ACME,)), T0 + 130)  # ACME still lists b-01: not away yet
    assert state.kpis()["nudges_open"] == 1
    left = cluster("c-1", ("b-02", "b-03"), "Acme", 1.0, since=T0)
    state.apply_frame(frame(T0 + 131, away, (left,)), T0 + 131)
    state.apply_frame(frame(T0 + 140.9, away, (left,)), T0 + 140.9)
    assert state.kpis()["nudges_worked"] == 0  # 9.9 s away < 10 s hold
    state.apply_frame(frame(T0 + 141, away, (left,)), T0 + 141)
    k = state.kpis()
    assert (k["nudges_sent"], k["nudges_worked"], k["nudges_judged"], k["nudges_open"]) == (1, 1, 1, 0)


def test_nudge_does_not_work_while_the_badge_stands_by_its_huddle(state: DashboardState) -> None:
    state.apply_alert(alert(ts=T0 + 120), T0 + 120)
    state.apply_nudge("b-01", nudge("b-01"), T0 + 120)
    near = {**HUDDLE_SPOTS, "b-01": (13.0, 7.0)}  # out of any cluster, but 3 m from Bob and Cat
    for t in range(121, 200):
        state.apply_frame(frame(T0 + t, near), T0 + t)
    assert state.kpis()["nudges_worked"] == 0
    far = {**HUDDLE_SPOTS, "b-01": (15.0, 7.0)}  # 4.7 m away
    for t in range(200, 211):
        state.apply_frame(frame(T0 + t, far), T0 + t)
    assert state.kpis()["nudges_worked"] == 1


def test_nudge_fails_after_five_minutes_and_a_return_resets_the_hold(state: DashboardState) -> None:
    state.apply_nudge("b-02", nudge("b-02"), T0 + 120)
    away = {**HUDDLE_SPOTS, "b-02": (15.0, 3.0)}
    state.apply_frame(frame(T0 + 121, away), T0 + 121)
    state.apply_frame(frame(T0 + 125, HUDDLE_SPOTS, (ACME,)), T0 + 125)  # back with Acme
    state.apply_frame(frame(T0 + 130, away), T0 + 130)  # 130-121 would be 9 s; but the hold restarted at 130
    state.apply_frame(frame(T0 + 139, away), T0 + 139)
    assert state.kpis()["nudges_worked"] == 0
    state.apply_frame(frame(T0 + 420, HUDDLE_SPOTS, (ACME,)), T0 + 420)
    assert state.kpis()["nudges_open"] == 1  # exactly 300 s: still open (inclusive)
    state.apply_frame(frame(T0 + 421, HUDDLE_SPOTS, (ACME,)), T0 + 421)
    k = state.kpis()
    assert (k["nudges_worked"], k["nudges_judged"], k["nudges_open"]) == (0, 1, 0)


def test_nudges_are_kept_per_roster_badge_bounded_and_deduplicated(venue_file: Path, roster_file: Path) -> None:
    venue, roster = venue_and_roster(venue_file, roster_file)
    st = DashboardState(venue, roster, StateConfig(nudges_per_badge=2))
    assert not st.apply_nudge("zz-9", nudge("zz-9"), T0)  # not on the roster
    assert not st.apply_nudge("b-01", nudge("b-02"), T0)  # payload for someone else
    assert not st.apply_nudge("b-01", {**nudge("b-01"), "text": ""}, T0)
    assert st.dropped_nudges == 3
    for i in range(3):
        assert st.apply_nudge("b-01", nudge("b-01", f"a-{i}", T0 + i), T0 + i)
    assert not st.apply_nudge("b-01", nudge("b-01", "a-2", T0 + 2), T0 + 2)  # duplicate
    mine = st.attendee_view("b-01", T0 + 3)
    assert [n["id"] for n in mine["nudges"]] == ["a-2", "a-1"]
    assert st.attendee_view("b-02", T0 + 3)["nudges"] == []
    assert st.nudges_sent == 3


def test_what_deduplicates_nudges_stays_bounded_over_a_long_event(venue_file: Path, roster_file: Path) -> None:
    from dashboard.nudges import NUDGE_IDS_KEPT

    venue, roster = venue_and_roster(venue_file, roster_file)
    st = DashboardState(venue, roster)
    for i in range(5 * NUDGE_IDS_KEPT):
        assert st.apply_nudge("b-01", nudge("b-01", f"a-{i}", T0 + i), T0 + i)
        assert not st.apply_nudge("b-01", nudge("b-01", f"a-{i}", T0 + i), T0 + i)  # its QoS 1 copy
    assert st.nudges_sent == 5 * NUDGE_IDS_KEPT
    assert sum(len(ids) for ids in st._nudge_ids.values()) == NUDGE_IDS_KEPT


def test_pause_shows_until_it_ends(state: DashboardState) -> None:
    state.pause("b-01", T0 + 1800)
    assert state.attendee_view("b-01", T0)["paused_until"] == T0 + 1800
    assert state.attendee_view("b-01", T0 + 1800)["paused_until"] is None
    state.pause("zz-9", T0 + 1800)
    assert state.attendee_view("zz-9", T0)["paused_until"] is None


def test_alert_feed_newest_first_with_acks_and_bounded(venue_file: Path, roster_file: Path) -> None:
    venue, roster = venue_and_roster(venue_file, roster_file)
    st = DashboardState(venue, roster, StateConfig(alert_feed_max=2))
    for i in range(3):
        st.apply_alert(alert(f"a-{i}", ts=T0 + 100 + i), T0 + 100 + i)
    assert st.ack("a-1", T0 + 200) and not st.ack("a-0", T0 + 200)  # a-0 fell off the feed
    feed = st.alert_feed()
    assert [(a["id"], a["acked"]) for a in feed] == [("a-2", False), ("a-1", True)]
    assert feed[0]["nudged"] == ["Ann"] and feed[0]["dwell_s"] == 102.0
    assert feed[0]["suggestion"] == "meet someone from Globex (also into ml), about 5 m away"


def test_held_out_alert_and_suggestion_words(state: DashboardState) -> None:
    state.apply_alert(alert(nudge=()), T0)
    assert state.alert_feed()[0]["held_out"] and state.alert_feed()[0]["nudged"] == []
    assert "no suggestion" in suggestion_words(alert().__class__(**{**_fields(alert()), "suggestion": None}))


def _fields(a: object) -> dict[str, object]:
    return {name: getattr(a, name) for name in a.__slots__}  # type: ignore[attr-defined]


def test_gateway_health_online_stale_offline_and_unknown(state: DashboardState) -> None:
    online = {"v": 1, "gateway": "gw-01", "state": "online", "ts": T0, "stats": {"adverts_per_s": 212.4}}
    assert state.apply_gateway_status("gw-01", online, T0)
    assert state.apply_gateway_status("gw-02", {**online, "gateway": "gw-02", "state": "offline"}, T0)
    with pytest.raises(DecodeError, match="not in the venue"):
        state.apply_gateway_status("gw-99", {**online, "gateway": "gw-99"}, T0)
    with pytest.raises(DecodeError, match="names gateway"):
        state.apply_gateway_status("gw-03", online, T0)
    state.apply_pipeline_status({"v": 1, "state": "online", "stats": {"gateways_silent": ["gw-02"]}}, T0)
    by_id = {g["id"]: g for g in state.gateway_health(T0 + 30)}
    assert by_id["gw-01"]["state"] == "online" and by_id["gw-01"]["adverts_per_s"] == 212.4
    assert by_id["gw-02"]["state"] == "offline" and by_id["gw-02"]["silent"]
    assert by_id["gw-03"]["state"] == "unknown" and by_id["gw-03"]["last_heard_s"] is None
    assert {g["id"]: g for g in state.gateway_health(T0 + 30.1)}["gw-01"]["state"] == "stale"
    assert state.pipeline_health(T0 + 5) == {"state": "online", "last_heard_s": 5.0}


def test_a_gateway_status_ages_from_its_own_timestamp_not_its_arrival(state: DashboardState) -> None:
    # The dashboard restarts three hours after gw-01 last spoke; the broker hands over its retained "online".
    now = T0 + 3 * 3600
    retained = {"v": 1, "gateway": "gw-01", "state": "online", "ts": T0, "stats": {"adverts_per_s": 212.4}}
    assert state.apply_gateway_status("gw-01", retained, now)
    gw01 = {g["id"]: g for g in state.gateway_health(now)}["gw-01"]
    assert gw01["state"] == "stale" and gw01["last_heard_s"] == 10800.0


def test_a_gateway_status_from_the_future_counts_from_its_arrival(state: DashboardState) -> None:
    # gw-01's clock runs an hour ahead: its status is as fresh as its arrival, and no fresher for longer.
    ahead = {"v": 1, "gateway": "gw-01", "state": "online", "ts": T0 + 3600}
    assert state.apply_gateway_status("gw-01", ahead, T0)
    assert {g["id"]: g for g in state.gateway_health(T0)}["gw-01"]["last_heard_s"] == 0.0
    assert {g["id"]: g for g in state.gateway_health(T0 + 30)}["gw-01"]["state"] == "online"
    assert {g["id"]: g for g in state.gateway_health(T0 + 30.1)}["gw-01"]["state"] == "stale"


def test_a_last_will_does_not_move_last_heard_back(state: DashboardState) -> None:
    # The will's "offline" carries the time the gateway started (when it set the will up).
    online = {"v": 1, "gateway": "gw-01", "state": "online", "ts": T0 + 3600}
    assert state.apply_gateway_status("gw-01", online, T0 + 3600)
    assert state.apply_gateway_status("gw-01", {**online, "state": "offline", "ts": T0}, T0 + 3645)
    gw01 = {g["id"]: g for g in state.gateway_health(T0 + 3645)}["gw-01"]
    assert gw01["state"] == "offline" and gw01["last_heard_s"] == 45.0


@pytest.mark.parametrize("ts", [None, "1764140000", True, float("nan"), float("inf"), 10**400])
def test_a_gateway_status_without_a_usable_timestamp_is_refused(state: DashboardState, ts: object) -> None:
    status: dict[str, object] = {"v": 1, "gateway": "gw-01", "state": "online"}
    if ts is not None:
        status["ts"] = ts
    with pytest.raises(DecodeError, match="ts"):
        state.apply_gateway_status("gw-01", status, T0)
    assert {g["id"]: g for g in state.gateway_health(T0)}["gw-01"]["state"] == "unknown"


def test_config_validates_itself() -> None:
    with pytest.raises(ValueError, match="history_every_s"):
        StateConfig(history_every_s=0)
    with pytest.raises(ValueError, match="worked_hold_s"):
        StateConfig(worked_hold_s=400)
    with pytest.raises(ValueError, match="nudges_per_badge"):
        StateConfig(nudges_per_badge=0)


def test_a_retained_pipeline_status_ages_from_its_own_timestamp(state: DashboardState) -> None:
    now = T0 + 3 * 3600  # the dashboard restarts; the pipeline last spoke three hours ago
    state.apply_pipeline_status({"v": 1, "state": "online", "ts": T0, "stats": {}}, now)
    assert state.pipeline_health(now) == {"state": "online", "last_heard_s": 10800.0}
    state.apply_pipeline_status({"v": 1, "state": "online", "ts": now + 600}, now + 1)  # a clock ahead: arrival
    assert state.pipeline_health(now + 1)["last_heard_s"] == 0.0
    state.apply_pipeline_status({"v": 1, "state": "online", "ts": T0}, now + 2)  # an old copy: not back in time
    assert state.pipeline_health(now + 2)["last_heard_s"] == 1.0
    state.apply_pipeline_status({"v": 1, "state": "offline"}, now + 5)  # the last will has no ts: its arrival
    assert state.pipeline_health(now + 7) == {"state": "offline", "last_heard_s": 2.0}


def test_a_pipeline_status_with_an_absurd_ts_counts_from_its_arrival(state: DashboardState) -> None:
    state.apply_pipeline_status({"v": 1, "state": "online", "ts": 10**400}, T0)  # (no float holds it)
    assert state.pipeline_health(T0 + 3) == {"state": "online", "last_heard_s": 3.0}
