"""Batching windows, the watchdog and the status payload (pure cores)."""

from __future__ import annotations

import json

import pytest

from edge.advert import BadgeAdvert
from edge.batcher import NO_RSSI_DBM, Batcher, BatcherConfig
from edge.status import GatewayStats, StatusMeter, encode_status
from edge.watchdog import Watchdog, WatchdogConfig

T0 = 1_764_140_000.0
A = BadgeAdvert("b-0042", "mingle", tx_dbm=-59, seq=12, battery_pct=80, huddle=True)
B = BadgeAdvert("ib-1-2", "ibeacon", tx_dbm=-60)


def test_window_is_aligned_and_flushed_once_over() -> None:
    b = Batcher(BatcherConfig("gw-01", window_s=1.0))
    assert b.flush(T0 + 0.2) is None
    assert b.add(A, -67, T0 + 0.3)
    assert b.add(B, -70.5, T0 + 0.9)
    assert b.flush(T0 + 0.99) is None
    batch = b.flush(T0 + 1.0)  # the window [T0, T0+1) is over at T0+1 (exclusive end)
    assert batch is not None and batch.gateway == "gw-01" and batch.sent == T0 + 1.0
    assert [(r.badge, r.rssi, r.ts, r.tx, r.seq) for r in batch.readings] == [
        ("b-0042", -67.0, T0 + 0.3, -59, 12),
        ("ib-1-2", -70.5, T0 + 0.9, -60, None),
    ]
    assert b.flush(T0 + 1.5) is None
    empty = b.flush(T0 + 2.0)
    assert empty is not None and empty.readings == ()


def test_no_rssi_and_out_of_range_are_dropped_and_counted() -> None:
    b = Batcher(BatcherConfig("gw-01"))
    assert not b.add(A, NO_RSSI_DBM, T0)
    assert not b.add(A, -121, T0)
    assert not b.add(A, 11, T0)
    assert b.add(A, -120, T0) and b.add(A, 10, T0)  # bounds inclusive
    assert b.dropped == {"no_rssi": 1, "rssi_out_of_range": 2}
    assert b.accepted == 2 and b.huddle_badges(T0) == ["b-0042"]


def test_a_clock_not_yet_set_or_set_back_is_counted_not_raised() -> None:
    b = Batcher(BatcherConfig("gw-01"))
    # A Raspberry Pi before NTP: its clock reads 1970.
    assert not b.add(A, -60, 61.5) and b.flush(62.0) is None and b.dropped == {"clock_unset": 1}
    assert b.add(A, -60, T0 + 0.5)  # NTP has set it
    assert b.flush(T0 + 1.0) is not None and b.add(A, -61, T0 + 1.5)
    # NTP sets it back two minutes: the window of the old clock is dropped, the new one starts.
    assert b.flush(T0 - 120.0) is None and b.dropped["clock_stepped_back"] == 1
    assert b.add(A, -62, T0 - 119.5)
    batch = b.flush(T0 - 119.0)
    assert batch is not None and [r.ts for r in batch.readings] == [T0 - 119.5]


def test_a_huddle_flag_is_reported_while_the_badge_is_heard() -> None:
    b = Batcher(BatcherConfig("gw-01"))
    b.add(A, -60, T0)
    assert b.huddle_badges(T0 + 30) == ["b-0042"]
    assert b.huddle_badges(T0 + 3 * 3600) == []  # gone for hours: no longer in a huddle here
    b.add(A, -60, T0 + 3600)
    assert b.huddle_badges(T0) == []  # heard on a clock since set back: not "heard lately"


def test_window_full_is_counted() -> None:
    b = Batcher(BatcherConfig("gw-01", max_readings=2))
    for _ in range(5):
        b.add(A, -60, T0)
    assert b.pending == 2 and b.dropped["window_full"] == 3


@pytest.mark.parametrize(
    "kwargs", [{"gateway": "gw/01"}, {"gateway": "gw-01", "window_s": 0}, {"gateway": "g", "max_readings": 5001}]
)
def test_batcher_config_validates(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BatcherConfig(**kwargs)  # type: ignore[arg-type]


def test_watchdog_restarts_after_silence_only_when_badges_were_heard() -> None:
    w = Watchdog(WatchdogConfig(stall_s=30, min_gap_s=60), T0)
    assert not w.check(T0 + 100)  # never heard anything, not told to expect badges
    w.seen("b-0001", T0 + 100)
    assert not w.check(T0 + 129.9)
    assert w.check(T0 + 130)
    w.restarted(T0 + 130)
    assert w.restarts == 1 and not w.check(T0 + 189)  # too soon after the last restart
    assert w.check(T0 + 190)  # still silent: try again
    assert not w.check(T0 + 701)  # ten minutes of silence: the hall has emptied
    assert w.last_advert_age(T0 + 140) == pytest.approx(40)


def test_watchdog_expecting_badges_and_min_gap() -> None:
    w = Watchdog(WatchdogConfig(stall_s=10, min_gap_s=60, expect_badges=True), T0)
    assert w.check(T0 + 10)
    w.restarted(T0 + 10)
    assert not w.check(T0 + 30)  # silent again, but the last restart is too recent
    assert w.check(T0 + 70)


def test_watchdog_suspects_duplicate_filtering() -> None:
    w = Watchdog(WatchdogConfig(duplicate_window_s=20), T0)
    for i in range(5):
        w.seen(f"b-000{i}", T0 + i)
    w.check(T0 + 21)
    assert w.duplicate_filtering_suspected
    for i in range(30):
        w.seen("b-0001", T0 + 22 + i * 0.1)
        w.seen("b-0002", T0 + 22 + i * 0.1)
    w.check(T0 + 45)
    assert not w.duplicate_filtering_suspected


def test_status_payload() -> None:
    meter = StatusMeter(T0)
    for badge in ("b-0001", "b-0002", "b-0001", "b-0003"):
        meter.advert(badge)
    rate, badges = meter.take(T0 + 2)
    assert (rate, badges) == (2.0, 3)
    stats = GatewayStats(rate, badges, 4, 1, 2, 0.25, 0, False, ("b-0001",))
    body = json.loads(encode_status("gw-01", "online", T0, version="0.1.0", adapter="hci0", stats=stats))
    assert body["v"] == 1 and body["state"] == "online" and body["adapter"] == "hci0"
    assert body["stats"]["adverts_per_s"] == 2.0 and body["stats"]["buffer_depth"] == 4
    assert body["stats"]["scanner_restarts"] == 2 and body["stats"]["huddle_badges"] == ["b-0001"]
    assert "stats" not in json.loads(encode_status("gw-01", "offline", T0, version="x", adapter="hci0"))
