from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from mingle_wire import ParsedTopic, RecordingError, RecordingWriter, Topics, parse_topic, read_recording


def test_topic_names_are_the_contract() -> None:
    t = Topics("expo")
    assert t.readings("gw-01") == "mingle/expo/readings/gw-01"
    assert t.readings() == "mingle/expo/readings/+"
    assert t.positions("uwb-1") == "mingle/expo/positions/uwb-1"
    assert t.gateway_status("gw-01") == "mingle/expo/gateways/gw-01/status"
    assert t.frames == "mingle/expo/frames"
    assert t.alerts == "mingle/expo/alerts"
    assert t.nudge("b-1") == "mingle/expo/nudges/b-1"
    assert t.pipeline_status == "mingle/expo/pipeline/status"
    assert Topics("expo", prefix="acme/events").frames == "acme/events/expo/frames"


@pytest.mark.parametrize("site", ["", "a/b", "+", "#", "x y"])
def test_bad_sites_are_refused(site: str) -> None:
    with pytest.raises(ValueError, match="site"):
        Topics(site)


def test_parse_topic() -> None:
    assert parse_topic("mingle/expo/readings/gw-01") == ParsedTopic("expo", "readings", "gw-01")
    assert parse_topic("acme/ev/expo/positions/u", "acme/ev") == ParsedTopic("expo", "positions", "u")
    for bad in ["mingle/expo/frames", "mingle/expo/readings", "other/expo/readings/g", "mingle/expo/readings/a/b", ""]:
        assert parse_topic(bad) is None


def test_recording_round_trip_keeps_raw_payloads(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl.gz"
    with RecordingWriter(path) as w:
        w.write("mingle/expo/readings/gw-01", {"v": 1}, t=1764140000.5)
        w.write("mingle/expo/readings/gw-01", b"not json {")
        w.write("mingle/expo/readings/gw-01", b'{"v":1,"gateway":"gw-01"}')
    with gzip.open(path, "rt") as fh:
        assert len(fh.readlines()) == 3
    got = list(read_recording(path))
    assert got[0].payload == {"v": 1} and got[0].t == 1764140000.5
    assert got[1].payload == "not json {" and got[1].t is None
    assert got[2].payload == {"v": 1, "gateway": "gw-01"}


def test_a_broken_recording_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_text('{"topic": "a", "payload": {}}\n{"payload": {}}\n', encoding="utf-8")
    with pytest.raises(RecordingError, match=r"rec\.jsonl:2"):
        list(read_recording(path))
