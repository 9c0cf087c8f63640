"""``mingle simulate``: argument parsing, defaults, errors."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from pipeline.sim import ScenarioConfig
from pipeline.sim.cli import add_parser, config_from_args


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="mingle")
    add_parser(p.add_subparsers(dest="command", required=True))
    return p


def test_defaults_are_the_config_defaults() -> None:
    args = parser().parse_args(["simulate", "out"])
    assert config_from_args(args) == ScenarioConfig()
    assert args.out_dir == Path("out")


def test_every_option_reaches_the_config() -> None:
    line = (
        "simulate out --attendees 80 --minutes 3 --seed 9 --gateway-spacing 5 --noise 1.5 --clinginess 0.8 "
        "--booths 1 --input both --position-noise 0.5 --unknown-badges 0 --references 2 --opt-out 0.1 "
        "--site hall-2 --start 1800000000 --area-per-attendee 5"
    )
    args = parser().parse_args(line.split())
    assert config_from_args(args) == ScenarioConfig(
        attendees=80,
        minutes=3.0,
        seed=9,
        gateway_spacing_m=5.0,
        noise=1.5,
        clinginess=0.8,
        booths=1,
        input="both",
        position_noise_m=0.5,
        unknown_badges=0,
        references=2,
        opt_out_fraction=0.1,
        site="hall-2",
        start=1800000000.0,
        area_per_attendee_m2=5.0,
    )


def test_small_events_get_as_many_booths_as_fit() -> None:
    assert config_from_args(parser().parse_args(["simulate", "o", "--attendees", "40"])).booths == 2
    assert config_from_args(parser().parse_args(["simulate", "o", "--attendees", "8"])).booths == 1
    assert config_from_args(parser().parse_args(["simulate", "o", "--attendees", "3"])).booths == 0


def test_run_writes_and_summarises(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["simulate", str(tmp_path / "o"), "--attendees", "20", "--minutes", "0.25"])
    assert args.run(args) == 0
    printed = capsys.readouterr().out
    assert "simulated 15 s of 23 people" in printed and "packet loss" in printed
    assert json.loads((tmp_path / "o" / "scenario.json").read_text())["config"]["attendees"] == 20


def test_bad_option_exits_2_naming_the_knob(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = parser().parse_args(["simulate", str(tmp_path / "o"), "--clinginess", "1.5"])
    assert args.run(args) == 2
    assert "clinginess" in capsys.readouterr().err and not (tmp_path / "o").exists()
