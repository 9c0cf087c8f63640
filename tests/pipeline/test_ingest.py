"""Ingest: every rejection counted and logged with its reason; nothing raises."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from pipeline.ingest import BadgeIndex, Ingest
from pipeline.roster import load_roster
from pipeline.venue import load_venue

T0 = 1764140000.0


@pytest.fixture
def ingest(venue_file: Path, roster_file: Path) -> Ingest:
    venue, roster = load_venue(venue_file), load_roster(roster_file)
    return Ingest(venue.site, [g.id for g in venue.gateways], roster, BadgeIndex(capacity=10))


def msg(gateway: str = "gw-01", **reading: object) -> bytes:
    r = {"badge": "b-01", "rssi": -60, "ts": T0, **reading}
    return json.dumps({"v": 1, "gateway": gateway, "sent": T0 + 1, "readings": [r]}).encode()


def test_good_readings_are_buffered_and_drained(ingest: Ingest) -> None:
    ingest.accept("mingle/expo/readings/gw-02", msg("gw-02", tx=-59))
    out = ingest.drain()
    assert out.gateway.tolist() == [1] and out.rssi.tolist() == [-60.0] and out.ts.tolist() == [T0]
    assert ingest.readings == 1 and ingest.messages == 1 and not ingest.rejected
    assert ingest.drain().badge.shape == (0,)


def test_topic_level_rejections(ingest: Ingest) -> None:
    ingest.accept("mingle/other/readings/gw-01", msg())
    ingest.accept("mingle/expo/readings/gw-99", msg("gw-99"))
    ingest.accept("mingle/expo/whatever", msg())
    ingest.accept("mingle/expo/readings/gw-01", b"\x00garbage")
    ingest.accept("mingle/expo/readings/gw-01", msg(rssi=-127))
    assert dict(ingest.rejected) == {
        "wrong_site": 1,
        "unknown_gateway": 1,
        "unknown_topic": 1,
        "bad_json": 1,
        "rssi_out_of_range": 1,
    }
    assert ingest.drain().badge.shape == (0,)


def test_unknown_badges_are_counted_and_kept(ingest: Ingest) -> None:
    ingest.accept("mingle/expo/readings/gw-01", msg(badge="visitor-7"))
    assert ingest.unknown_badges == {"visitor-7"}
    assert ingest.drain().badge.shape == (1,)


def test_badge_capacity_bounds_memory_and_keeps_room_for_the_roster(ingest: Ingest) -> None:
    roster = sorted(ingest.known)
    ingest.accept("mingle/expo/readings/gw-01", msg(badge=roster[0]))
    for k in range(30):
        ingest.accept("mingle/expo/readings/gw-01", msg(badge=f"x-{k}"))
    admitted = 10 - len(roster)  # the index holds 10; every roster badge keeps its place
    assert admitted > 0 and len(ingest.unknown_badges) == admitted
    assert ingest.rejected["badge_capacity"] == 30 - admitted
    # The roster's attendees heard for the first time after the flood still get in.
    for badge in roster[1:]:
        ingest.accept("mingle/expo/readings/gw-01", msg(badge=badge))
    assert len(ingest.badges) == 10 and ingest.rejected["badge_capacity"] == 30 - admitted
    assert ingest.drain().badge.shape == (1 + admitted + len(roster) - 1,)


def test_rejections_are_logged_but_rate_limited(ingest: Ingest, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="mingle.ingest"):
        for _ in range(50):
            ingest.accept("mingle/expo/readings/gw-01", b"{")
    assert ingest.rejected["bad_json"] == 50
    assert 1 <= len(caplog.records) <= 5 and "bad_json" in caplog.records[0].getMessage()


def test_positions_keep_the_latest_per_badge(ingest: Ingest) -> None:
    def pos(ts: float, x: float) -> bytes:
        p = {"badge": "b-01", "x": x, "y": 1.0, "ts": ts, "heading": 0.5}
        return json.dumps({"v": 1, "source": "uwb-1", "sent": T0 + 2, "positions": [p]}).encode()

    ingest.accept("mingle/expo/positions/uwb-1", pos(T0 + 1, 5.0))
    ingest.accept("mingle/expo/positions/uwb-1", pos(T0, 3.0))  # older, arrives later
    (only,) = ingest.drain().positions.values()
    assert only.x == 5.0 and only.heading == 0.5


def test_pauses_are_drained_in_order_and_unknown_badges_rejected(ingest: Ingest) -> None:
    def pause(badge: str, until: float) -> bytes:
        return json.dumps({"v": 1, "badge": badge, "until": until, "sent": T0}).encode()

    ingest.accept("mingle/expo/pauses/b-01", pause("b-01", T0 + 1800))
    ingest.accept("mingle/expo/pauses/b-01", pause("b-01", T0))
    ingest.accept("mingle/expo/pauses/visitor-9", pause("visitor-9", T0 + 60))
    ingest.accept("mingle/expo/pauses/b-02", b"[]")
    out = ingest.drain()
    assert [(p.badge, p.until) for p in out.pauses] == [("b-01", T0 + 1800), ("b-01", T0)]
    assert dict(ingest.rejected) == {"pause_unknown_badge": 1, "not_object": 1}
    assert ingest.pauses == 2 and ingest.drain().pauses == ()


def test_known_and_new_badges_in_one_stream_keep_arrival_order(ingest: Ingest) -> None:
    """Batches of badges seen before go in column by column; any new badge takes the item path."""

    def batch(*items: tuple[str, float, float | None]) -> bytes:
        rows = [{"badge": b, "rssi": r, "ts": T0, **({} if tx is None else {"tx": tx})} for b, r, tx in items]
        return json.dumps({"v": 1, "gateway": "gw-02", "sent": T0, "readings": rows}).encode()

    topic = "mingle/expo/readings/gw-02"
    ingest.accept(topic, batch(("b-01", -60, -59), ("v-1", -61, None)))  # v-1 is new (and unknown)
    ingest.accept(topic, batch(("v-1", -62, -58), ("b-01", -63, None)))  # both seen before
    ingest.accept(topic, batch(("b-01", -64, -57), ("b-01", -65, -56)))  # every tx present
    out = ingest.drain()
    b01, v1 = ingest.badges.find("b-01"), ingest.badges.find("v-1")
    assert out.badge.tolist() == [b01, v1, v1, b01, b01, b01]
    assert out.rssi.tolist() == [-60, -61, -62, -63, -64, -65]
    assert out.gateway.tolist() == [1] * 6 and ingest.readings == 6
    assert ingest.tx_dbm == {b01: -56, v1: -58} and ingest.unknown_badges == {"v-1"}


def contacts(gateway: str = "gw-01", *items: dict[str, object], sent: float = T0 + 1) -> bytes:
    return json.dumps({"v": 1, "gateway": gateway, "sent": sent, "contacts": list(items)}).encode()


def contact(**fields: object) -> dict[str, object]:
    return {"badge": "b-01", "near": "b-02", "rssi": -61, "ts": T0, "seq": 7, **fields}


def test_contacts_are_kept_once_per_report_however_many_gateways_relay_it(ingest: Ingest) -> None:
    report = (contact(), contact(near="b-03", rssi=-70))
    ingest.accept("mingle/expo/contacts/gw-01", contacts("gw-01", *report))
    ingest.accept("mingle/expo/contacts/gw-02", contacts("gw-02", *report))  # the same report, relayed again
    ingest.accept("mingle/expo/contacts/gw-02", contacts("gw-02", contact(seq=8, rssi=-59, ts=T0 + 4)))
    out = ingest.drain().contacts
    assert out is not None
    idx = ingest.badges.index
    assert out.badge.tolist() == [idx["b-01"]] * 3
    assert out.near.tolist() == [idx["b-02"], idx["b-03"], idx["b-02"]]
    assert out.rssi.tolist() == [-61.0, -70.0, -59.0] and out.ts.tolist() == [T0, T0, T0 + 4]
    assert ingest.contacts == 3 and ingest.contact_copies == 2 and not ingest.rejected
    assert ingest.drain().contacts is None
    # A copy that arrives after the drain is still a copy.
    ingest.accept("mingle/expo/contacts/gw-03", contacts("gw-03", contact(seq=8, rssi=-59, ts=T0 + 4)))
    assert ingest.drain().contacts is None and ingest.contact_copies == 3


def test_bad_contacts_are_rejected_with_their_reason_and_the_rest_kept(ingest: Ingest) -> None:
    ingest.accept("mingle/expo/contacts/gw-99", contacts("gw-99", contact()))
    ingest.accept("mingle/expo/contacts/gw-01", contacts("gw-01", contact(near="b-01"), contact(rssi=-200), contact()))
    ingest.accept("mingle/expo/contacts/gw-01", b"[1, 2]")
    assert dict(ingest.rejected) == {
        "unknown_gateway": 1,
        "self_contact": 1,
        "rssi_out_of_range": 1,
        "not_object": 1,
    }
    out = ingest.drain().contacts
    assert out is not None and len(out) == 1


def test_input_stamped_far_ahead_of_the_clock_is_rejected_counted_and_logged(
    ingest: Ingest, caplog: pytest.LogCaptureFixture
) -> None:
    """A gateway whose clock runs a day ahead: held, its readings would wait a day and grow memory."""
    day = 86400.0

    def batch(gateway: str, ts: float) -> bytes:
        readings = [{"badge": "b-01", "rssi": -60, "ts": ts}, {"badge": "b-02", "rssi": -61, "ts": ts}]
        return json.dumps({"v": 1, "gateway": gateway, "sent": ts + 1, "readings": readings}).encode()

    def position(ts: float) -> bytes:
        p = {"badge": "b-03", "x": 1.0, "y": 1.0, "ts": ts}
        return json.dumps({"v": 1, "source": "uwb-1", "sent": ts, "positions": [p]}).encode()

    with caplog.at_level(logging.WARNING, logger="mingle.ingest"):
        ingest.accept("mingle/expo/readings/gw-01", batch("gw-01", T0))
        ingest.accept("mingle/expo/readings/gw-02", batch("gw-02", T0 + day))
        ingest.accept("mingle/expo/readings/gw-03", batch("gw-03", T0 + 20))  # within AHEAD_S: kept
        ingest.accept("mingle/expo/contacts/gw-02", contacts("gw-02", contact(ts=T0 + day), sent=T0 + day))
        ingest.accept("mingle/expo/positions/uwb-1", position(T0 + day))
        out = ingest.drain(T0 + 1)
    assert out.gateway.tolist() == [0, 0, 2, 2] and out.ts.tolist() == [T0, T0, T0 + 20, T0 + 20]
    assert out.contacts is not None and len(out.contacts) == 0 and out.positions == {}
    assert dict(ingest.rejected) == {"ahead_of_clock": 4}
    assert ingest.readings == 4 and ingest.contacts == 0 and ingest.positions == 0
    logged = [r.getMessage() for r in caplog.records]
    assert any("gw-02" in m and "ahead" in m for m in logged), logged
    # Without a clock nothing is ahead of it.
    ingest.accept("mingle/expo/readings/gw-02", batch("gw-02", T0 + day))
    assert ingest.drain().badge.shape == (2,)


def feed(*positions: tuple[str, float, float]) -> bytes:
    """A positions message: (badge, x, ts) each."""
    ps = [{"badge": b, "x": x, "y": 1.0, "ts": ts} for b, x, ts in positions]
    sent = max(ts for _, _, ts in positions)  # (a stamp far from its message's is refused)
    return json.dumps({"v": 1, "source": "uwb-1", "sent": sent, "positions": ps}).encode()


@pytest.mark.parametrize("ahead_first", [True, False])
def test_a_position_stamped_ahead_does_not_hide_a_good_one_in_the_same_drain(ingest: Ingest, ahead_first: bool) -> None:
    good, ahead = ("b-03", 2.0, T0), ("b-03", 9.0, T0 + 86400)
    # Before the first drain there is no clock to be ahead of: the newest wins.
    ingest.accept("mingle/expo/positions/uwb-1", feed(good))
    ingest.accept("mingle/expo/positions/uwb-1", feed(ahead))
    assert [p.x for p in ingest.drain().positions.values()] == [9.0]
    ingest.positions = 0
    for p in [ahead, good] if ahead_first else [good, ahead]:
        ingest.accept("mingle/expo/positions/uwb-1", feed(p))
    ingest.accept("mingle/expo/positions/uwb-1", feed(("b-03", 1.0, T0 - 1)))  # older: not the one
    out = ingest.drain(T0 + 1)
    assert [(p.badge, p.x) for p in out.positions.values()] == [("b-03", 2.0)]
    assert dict(ingest.rejected) == {"ahead_of_clock": 1}
    assert ingest.positions == 2  # three taken, one of them then rejected


def test_a_flood_of_positions_stamped_ahead_cannot_push_out_a_good_one(ingest: Ingest) -> None:
    ingest.drain(T0)  # the clock, as the ingest last knew it
    ingest.accept("mingle/expo/positions/uwb-1", feed(("b-03", 2.0, T0 + 1)))
    for k in range(40):  # the feed's host clock jumps a day ahead
        ingest.accept("mingle/expo/positions/uwb-1", feed(("b-03", 9.0, T0 + 86400 + k)))
    assert [p.x for p in ingest.drain(T0 + 1).positions.values()] == [2.0]
    assert dict(ingest.rejected) == {"ahead_of_clock": 40} and ingest.positions == 1


def test_a_position_on_time_for_a_late_tick_is_kept(ingest: Ingest) -> None:
    """Ticks a minute apart (a replay's --tick-s 60, a stalled loop): a position stamped 45 s
    after the last drain is in the past of the next one, not ahead of any clock."""
    ingest.drain(T0)
    for k in range(180):  # a feed at 3 Hz: far more positions than a badge holds between drains
        ingest.accept("mingle/expo/positions/uwb-1", feed(("b-03", float(k), T0 + (k + 1) / 3)))
    assert [(p.x, p.ts) for p in ingest.drain(T0 + 60).positions.values()] == [(179.0, T0 + 60)]
    assert not ingest.rejected and ingest.positions == 180


def test_positions_refused_beyond_capacity_are_not_counted_as_taken(ingest: Ingest) -> None:
    strangers = [(f"visitor-{k}", 1.0, T0) for k in range(40)]
    ingest.accept("mingle/expo/positions/uwb-1", feed(*strangers))
    refused = ingest.rejected["badge_capacity"]
    assert refused > 0
    assert ingest.positions == 40 - refused == len(ingest.drain(T0).positions)


def test_a_flood_of_positions_for_one_badge_is_held_bounded_and_the_newest_kept(ingest: Ingest) -> None:
    for k in range(100):
        ingest.accept("mingle/expo/positions/uwb-1", feed(("b-03", float(k), T0 + k / 100)))
    assert max(len(held) for held in ingest.held_positions.by_badge.values()) <= 16
    assert [p.x for p in ingest.drain(T0 + 1).positions.values()] == [99.0]
    assert ingest.positions == 100 and not ingest.rejected


def test_a_report_stamped_ahead_neither_pins_the_report_keys_nor_blocks_a_rebooted_badge(ingest: Ingest) -> None:
    ahead = contact(badge="b-03", seq=999, ts=T0 + 86400)
    ingest.accept("mingle/expo/contacts/gw-02", contacts("gw-02", ahead, sent=T0 + 86400))
    ingest.drain(T0)
    for s in range(1, 301):
        ingest.accept("mingle/expo/contacts/gw-01", contacts("gw-01", contact(seq=s, ts=T0 + s), sent=T0 + s))
        ingest.drain(T0 + s)
    assert 29 <= len(ingest._reports) <= 32  # the last CONTACT_COPY_S of reports, not all 301 nor none
    # While a gateway an hour ahead keeps relaying, another gateway's copy that arrives a tick
    # after the report is still a copy.
    for s in range(301, 311):
        ahead = contact(badge="b-03", seq=1000 + s, ts=T0 + s + 3600)
        ingest.accept("mingle/expo/contacts/gw-02", contacts("gw-02", ahead, sent=T0 + s + 3600))
        ingest.accept("mingle/expo/contacts/gw-01", contacts("gw-01", contact(seq=s, ts=T0 + s - 0.5), sent=T0 + s))
        ingest.drain(T0 + s)
    ingest.accept("mingle/expo/contacts/gw-03", contacts("gw-03", contact(seq=310, ts=T0 + 309.5), sent=T0 + 310))
    assert ingest.drain(T0 + 311).contacts is None and ingest.contact_copies == 1
    # b-01 reboots and its seq starts again: its reports are new, not copies.
    for k in range(5):
        report = contact(seq=1 + k, ts=T0 + 311 + k)
        ingest.accept("mingle/expo/contacts/gw-01", contacts("gw-01", report, sent=T0 + 311 + k))
    out = ingest.drain(T0 + 316)
    assert out.contacts is not None and len(out.contacts) == 5 and ingest.contact_copies == 1
