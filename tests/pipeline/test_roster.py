"""Roster files: valid ones load; every bad one names the file, line, column and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.roster import dump_roster, load_roster


def test_the_example_loads(roster_file: Path) -> None:
    r = load_roster(roster_file)
    assert len(r) == 6
    assert r["b-01"].interests == ("robots", "ml")
    assert r["b-03"].opt_out is True and r["b-01"].opt_out is False
    assert r["b-04"].role == "staff"
    assert r.company("b-05") == "Globex" and r.company("nobody") is None


def test_minimal_columns_and_defaults(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("badge,company\nb-1,Acme\n\nb-2,Globex\n", encoding="utf-8")
    r = load_roster(path)
    assert r["b-1"].role == "attendee" and r["b-1"].opt_out is False and r["b-2"].interests == ()


def test_dump_round_trips(roster_file: Path, tmp_path: Path) -> None:
    r = load_roster(roster_file)
    out = tmp_path / "again.csv"
    dump_roster(r, out)
    assert dict(load_roster(out)) == dict(r)


@pytest.mark.parametrize(
    ("text", "line", "key", "value"),
    [
        ("name,company\nAnn,Acme\n", 1, "badge", "missing column"),
        ("badge,company,shoe\nb-1,Acme,42\n", 1, "shoe", "unknown column"),
        ("badge,company\nb-1,Acme\nb 2,Acme\n", 3, "badge", "'b 2'"),
        ("badge,company\nb-1,Acme\nb-1,Globex\n", 3, "badge", "first on line 2"),
        ("badge,company\nb-1,\n", 2, "company", "empty company"),
        ("badge,company,role\nb-1,Acme,ceo\n", 2, "role", "'ceo'"),
        ("badge,company,opt_out\nb-1,Acme,maybe\n", 2, "opt_out", "'maybe'"),
        ("badge,company\nb-1,Acme,extra\n", 2, "", "more fields"),
    ],
)
def test_bad_rosters_say_where_and_what(tmp_path: Path, text: str, line: int, key: str, value: str) -> None:
    path = tmp_path / "roster.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_roster(path)
    assert str(path) in str(info.value)
    assert info.value.line == line and info.value.key == key
    assert value in str(info.value)
