"""The native pre-check admits only what the strict codec admits, and gives the same columns."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.fastdecode import fast_reading_columns
from pipeline.ingest import BadgeIndex, Ingest
from pipeline.roster import load_roster
from pipeline.venue import load_venue

SENT = 1764140001.0
TOPIC = "mingle/expo/readings/gw-01"
values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.integers(min_value=-200, max_value=50),
    st.integers(min_value=2**32 - 2, max_value=2**32 + 2),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-130, max_value=20),
    st.floats(min_value=SENT - 400, max_value=SENT + 400),
    st.text(max_size=8),
    st.sampled_from(["b-01", "b 2", "", "x" * 65, "bädge", "gw-01", "+", "a/b", "v-9"]),
    st.lists(st.integers(), max_size=2),
)
good_reading = st.fixed_dictionaries(
    {
        "badge": st.sampled_from(["b-01", "b-02", "v-7", "b-03"]),
        "rssi": st.one_of(st.integers(-120, 10), st.floats(-120, 10)),
        "ts": st.one_of(st.floats(SENT - 300, SENT + 300), st.integers(int(SENT) - 300, int(SENT) + 300)),
    },
    optional={"tx": st.one_of(st.integers(-100, 20), st.floats(-100, 20), st.none()), "seq": st.integers(0, 2**32 - 1)},
)
# A good reading with one field set to an odd value (or removed) tests each check on its own.
one_off = st.tuples(
    good_reading, st.sampled_from(["badge", "rssi", "ts", "tx", "seq"]), st.one_of(st.none(), values)
).map(lambda t: {k: v for k, v in t[0].items() if k != t[1]} if t[2] is None else {**t[0], t[1]: t[2]})
odd_reading = st.one_of(
    one_off,
    one_off,
    st.dictionaries(st.sampled_from(["badge", "rssi", "ts", "tx", "seq", "extra"]), values, max_size=6),
    values,
)
items = st.tuples(st.lists(good_reading, max_size=30), st.one_of(st.none(), odd_reading), st.integers(0, 30)).map(
    lambda t: t[0] if t[1] is None else [*t[0][: t[2]], t[1], *t[0][t[2] :]]
)
header_value = st.one_of(st.just(None), values)  # None: keep the good value


def payload_of(batch: list[Any], v: Any, gateway: Any, sent: Any, drop: str | None) -> bytes:
    obj: dict[str, Any] = {
        "v": 1 if v is None else v,
        "gateway": "gw-01" if gateway is None else gateway,
        "sent": SENT if sent is None else sent,
        "readings": batch,
    }
    if drop is not None:
        del obj[drop]
    return json.dumps(obj, allow_nan=True).encode()  # NaN/Infinity tokens too: bad JSON


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    from tests.conftest import ROSTER_CSV, VENUE_YAML

    d = tmp_path_factory.mktemp("fastdecode")
    (d / "venue.yaml").write_text(VENUE_YAML, encoding="utf-8")
    (d / "roster.csv").write_text(ROSTER_CSV, encoding="utf-8")
    return d / "venue.yaml", d / "roster.csv"


def make(files: tuple[Path, Path], fast: bool) -> Ingest:
    venue, roster = load_venue(files[0]), load_roster(files[1])
    return Ingest(venue.site, [g.id for g in venue.gateways], roster, BadgeIndex(capacity=50), fast=fast)


@settings(max_examples=500, deadline=None)
@given(
    st.lists(
        st.tuples(
            items,
            st.one_of(st.none(), st.sampled_from([2, True, "1", 1.0])),
            st.one_of(st.none(), st.sampled_from(["gw-02", "gw 1", 7])),
            st.one_of(st.none(), st.sampled_from([True, "x", 5.0, 1e12, math.inf, SENT + 0.5])),
            st.one_of(st.none(), st.sampled_from(["v", "gateway", "sent", "readings"])),
        ),
        min_size=1,
        max_size=4,
    )
)
def test_ingest_with_and_without_the_pre_check_agree(files: tuple[Path, Path], messages: list[Any]) -> None:
    fast, strict = make(files, True), make(files, False)
    for batch, v, gateway, sent, drop in messages:
        body = payload_of(batch, v, gateway, sent, drop)
        fast.accept(TOPIC, body)
        strict.accept(TOPIC, body)
    a, b = fast.drain(), strict.drain()
    assert a.badge.tolist() == b.badge.tolist() and a.gateway.tolist() == b.gateway.tolist()
    assert a.ts.tolist() == b.ts.tolist() and a.rssi.tolist() == b.rssi.tolist()
    assert fast.rejected == strict.rejected and fast.readings == strict.readings
    assert fast.tx_dbm == strict.tx_dbm and fast.unknown_badges == strict.unknown_badges


def test_only_well_formed_batches_pass_the_pre_check() -> None:
    good = {"badge": "b-01", "rssi": -60, "ts": SENT, "tx": -59, "seq": 3}
    ok = fast_reading_columns(payload_of([good, {**good, "rssi": -61.5}], None, None, None, None), "gw-01")
    assert ok is not None and ok.badge == ["b-01", "b-01"] and ok.rssi == [-60.0, -61.5] and ok.tx == [-59.0, -59.0]
    for bad in (
        {**good, "rssi": True},  # a bool is not a number here
        {**good, "rssi": -121},  # out of range
        {**good, "ts": SENT + 301},  # too far from sent
        {**good, "seq": -1},
        {**good, "tx": 21},
        {**good, "badge": "b 1"},  # not an id
        {"badge": "b-01", "rssi": -60},  # no ts
    ):
        assert fast_reading_columns(payload_of([good, bad], None, None, None, None), "gw-01") is None, bad
    assert fast_reading_columns(payload_of([good], None, None, None, None), "gw-02") is None  # topic mismatch
    assert fast_reading_columns(b'{"v":1,"gateway":"gw-01","sent":NaN,"readings":[]}', "gw-01") is None


@settings(max_examples=1500, deadline=None)
@given(
    st.lists(good_reading, min_size=1, max_size=12),
    st.integers(0, 12),
    st.sampled_from(["badge", "rssi", "ts", "tx", "seq"]),
    st.one_of(st.none(), values),
)
def test_one_odd_field_is_either_rejected_or_decoded_as_the_codec_does(
    batch: list[dict[str, Any]], at: int, key: str, value: Any
) -> None:
    from mingle_wire import DecodeError, decode_readings, loads

    odd = {k: v for k, v in batch[at % len(batch)].items() if k != key}
    if value is not None:
        odd[key] = value
    batch = [*batch[:at], odd, *batch[at:]]
    body = payload_of(batch, None, None, None, None)
    fast = fast_reading_columns(body, "gw-01")
    if fast is None:
        return  # the strict codec decides (and names the reason)
    try:  # the object path: every reading through Reading's own validation
        strict = decode_readings(loads(body), "gw-01")
    except DecodeError as exc:
        raise AssertionError(f"the pre-check admitted a batch the codec rejects: {exc.reason}") from exc
    assert not strict.rejected, [e.reason for e in strict.rejected]
    readings = strict.batch.readings
    assert fast.badge == [r.badge for r in readings] and fast.rssi == [r.rssi for r in readings]
    assert fast.ts == [r.ts for r in readings] and fast.tx == [r.tx for r in readings]
