import argparse
import gzip
import json
import sys
import types
from pathlib import Path
from typing import Any

import pytest
from evalkit import T0, alert, employees, frame, roster, steady, venue

from mingle_wire import Alert, Frame, RecordingError, alert_to_dict, frame_to_dict
from pipeline.evaluation import cli
from pipeline.roster import Roster, dump_roster
from pipeline.venue import Venue, dump_venue

MEMBERS = ["a-1", "a-2", "a-3"]
SECONDS = 12


def _jsonl(path: Path, objs: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(o) + "\n" for o in objs), encoding="utf-8")


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    scenario, replay = tmp_path / "scenario", tmp_path / "replay"
    scenario.mkdir()
    replay.mkdir()
    (scenario / "venue.yaml").write_text(dump_venue(venue(min_size=3, dwell_s=5.0)), encoding="utf-8")
    dump_roster(roster(*employees("acme", *MEMBERS), *employees("beta", "b-1")), scenario / "roster.csv")
    _jsonl(scenario / "truth.jsonl", steady({"g-1": MEMBERS}, SECONDS, extra=["b-1"]))
    with gzip.open(scenario / "recording.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write("")
    (scenario / "scenario.json").write_text("{}", encoding="utf-8")
    _jsonl(replay / "frames.jsonl", [frame_to_dict(frame(T0 + i, MEMBERS)) for i in range(SECONDS)])
    _jsonl(replay / "alerts.jsonl", [alert_to_dict(alert("al-1", T0 + 5, "acme", MEMBERS, nudge=["a-1"]))])
    (replay / "summary.json").write_text("{}", encoding="utf-8")
    return scenario, replay


class FakeReplay:
    """Stands in for ``pipeline.replay``: the baseline finds nothing but a wrong-company alert."""

    def __init__(self) -> None:
        self.calls: list[tuple[Path, dict[str, Any]]] = []

    def run_replay(self, recording: Path, venue: Venue, roster: Roster, **kw: Any) -> types.SimpleNamespace:
        assert isinstance(venue, Venue) and isinstance(roster, Roster)
        self.calls.append((recording, kw))
        frames: list[Frame] = [frame(T0 + i) for i in range(SECONDS)]
        alerts: list[Alert] = [alert("bl-1", T0 + 6, "beta", MEMBERS)]
        return types.SimpleNamespace(frames=frames, alerts=alerts, summary={})


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeReplay:
    replay = FakeReplay()
    module = types.ModuleType("pipeline.replay")
    module.run_replay = replay.run_replay  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pipeline.replay", module)
    return replay


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="mingle")
    cli.add_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["evaluate", *argv])


def test_add_parser_registers_evaluate() -> None:
    args = _args("s", "r", "--no-baseline", "--json-only")
    assert (args.scenario, args.replay, args.no_baseline, args.json_only) == (Path("s"), Path("r"), True, True)
    assert args.run is cli.run
    assert _args("s", "r").no_baseline is False


def test_run_prints_the_table_then_the_json_line(
    dirs: tuple[Path, Path], fake: FakeReplay, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, replay = dirs
    assert cli.run(_args(str(scenario), str(replay))) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 4
    assert out[0].split()[0] == "detector"
    assert out[1].split()[:5] == ["mingle", "1", "1", "1", "0"]
    assert out[2].split()[:5] == ["baseline", "1", "1", "0", "1"]
    data = json.loads(out[-1])
    assert list(data) == ["mingle", "baseline"]
    assert data["mingle"]["alerts"]["f1"] == 1.0 and data["mingle"]["groups"]["1"]["ticks"] == SECONDS
    assert data["baseline"]["alerts"]["f1"] == 0.0
    ((recording, kw),) = fake.calls
    assert recording == scenario / "recording.jsonl.gz"
    assert kw["detector"] == "baseline" and kw.get("out_dir") is None


def test_run_without_baseline_and_json_only(
    dirs: tuple[Path, Path], fake: FakeReplay, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.run(_args(*map(str, dirs), "--no-baseline", "--json-only")) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1
    assert list(json.loads(out[0])) == ["mingle"]
    assert fake.calls == []


def test_bridge_s_scores_against_the_joined_episodes(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    scenario, replay = dirs
    # a-3 steps away for seconds 5 and 6: strictly two episodes of 4 s, short of the 5 s
    # dwell, so the alert at second 5 is a false positive; bridged over 2 s it is right.
    records = steady({"g-1": MEMBERS}, 5, extra=["b-1"])
    records += steady({"g-1": MEMBERS[:2]}, 2, start=T0 + 5, extra=["b-1", "a-3"])
    records += steady({"g-1": MEMBERS}, 5, start=T0 + 7, extra=["b-1"])
    _jsonl(scenario / "truth.jsonl", records)
    scores = []
    for extra in ([], ["--bridge-s", "2"]):
        assert cli.run(_args(str(scenario), str(replay), "--no-baseline", "--json-only", *extra)) == 0
        row = json.loads(capsys.readouterr().out)["mingle"]
        scores.append((row["true_huddles"], row["alerts"]["tp"]))
    assert scores == [(0, 0), (1, 1)]
    with pytest.raises(SystemExit):
        _args("s", "r", "--bridge-s", "-1")
    capsys.readouterr()


def test_run_reads_gzipped_replay_files(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    scenario, replay = dirs
    text = (replay / "frames.jsonl").read_text(encoding="utf-8")
    (replay / "frames.jsonl").unlink()
    with gzip.open(replay / "frames.jsonl.gz", "wt", encoding="utf-8") as fh:
        fh.write(text)
    assert cli.run(_args(str(scenario), str(replay), "--no-baseline", "--json-only")) == 0
    assert json.loads(capsys.readouterr().out)["mingle"]["groups"]["1"]["ticks"] == SECONDS


def test_bad_input_is_reported_on_stderr(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    scenario, replay = dirs
    with (replay / "alerts.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"id": "al-2"}\n')
    assert cli.run(_args(str(scenario), str(replay), "--no-baseline")) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "alerts.jsonl:2" in captured.err


def test_missing_truth_is_reported(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    scenario, replay = dirs
    (scenario / "truth.jsonl").unlink()
    assert cli.run(_args(str(scenario), str(replay), "--no-baseline")) == 1
    assert "truth.jsonl" in capsys.readouterr().err


def test_missing_replay_module_is_reported(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "pipeline.replay", None)  # makes the import fail
    assert cli.run(_args(*map(str, dirs))) == 1
    assert "--no-baseline" in capsys.readouterr().err


def test_a_bad_venue_exits_2(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    scenario, replay = dirs
    (scenario / "venue.yaml").write_text("site: s\nfloor: {width: 10, height: 10}\ngateways: []\n", encoding="utf-8")
    assert cli.run(_args(str(scenario), str(replay), "--no-baseline")) == 2
    assert "venue.yaml" in capsys.readouterr().err


def test_a_corrupt_recording_is_reported(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(*args: Any, **kw: Any) -> None:
        raise RecordingError("recording.jsonl.gz:3: not JSON")

    module = types.ModuleType("pipeline.replay")
    module.run_replay = broken  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "pipeline.replay", module)
    assert cli.run(_args(*map(str, dirs))) == 1
    assert "recording.jsonl.gz:3" in capsys.readouterr().err


def test_the_real_replay_accepts_the_call(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("pipeline.replay")
    assert cli.run(_args(*map(str, dirs), "--json-only")) == 0  # the recording is empty: no frames, no alerts
    baseline = json.loads(capsys.readouterr().out)["baseline"]
    assert (baseline["alerts"]["count"], baseline["groups"]["1"]["ticks"]) == (0, 0)
