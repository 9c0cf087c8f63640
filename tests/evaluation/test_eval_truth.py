import gzip
import json
from pathlib import Path

import pytest
from evalkit import T0, record, truth_of

from pipeline.evaluation import InputError, load_truth, parse_truth


def _write(path: Path, records: list[dict[str, object]]) -> None:
    text = "".join(json.dumps(r) + "\n" for r in records)
    if path.suffix == ".gz":
        with gzip.open(path, "wt", encoding="utf-8") as fh:
            fh.write(text)
    else:
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize("name", ["truth.jsonl", "truth.jsonl.gz"])
def test_load_truth_reads_people_and_groups(tmp_path: Path, name: str) -> None:
    records = [
        record(T0, {"g-1": ["b-1", "b-2"]}, at={"b-1": (1.5, 2.5)}, extra=["u-9"]),
        record(T0 + 1, {}, extra=["b-1"]),
    ]
    _write(tmp_path / name, records)
    truth = load_truth(tmp_path / name)
    assert len(truth) == 2
    first = truth.ticks[0]
    assert first.t == T0 and first.second == round(T0)
    assert first.badges == ("b-1", "b-2", "u-9")
    assert first.xy.shape == (3, 2)
    assert tuple(first.xy[0]) == (1.5, 2.5)
    assert [(g.id, g.members) for g in first.groups] == [("g-1", ("b-1", "b-2"))]
    assert truth.ticks[1].groups == ()


def test_badge_ids_are_shared_between_seconds() -> None:
    truth = truth_of([record(T0, {"g-1": ["b-1", "b-2"]}), record(T0 + 1, {"g-1": ["b-1", "b-2"]})])
    assert truth.ticks[0].badges[0] is truth.ticks[1].badges[0]
    assert truth.ticks[0].groups[0].members[0] is truth.ticks[0].badges[0]


def test_at_pairs_within_half_a_second() -> None:
    truth = truth_of([record(T0, {}, extra=["b-1"]), record(T0 + 1, {}, extra=["b-1"])])
    assert truth.at(T0 + 0.5) is truth.ticks[1]  # rounded half up
    assert truth.at(T0 + 0.4) is truth.ticks[0]
    assert truth.at(T0 + 0.6) is truth.ticks[1]
    assert truth.at(T0 - 0.4) is truth.ticks[0]
    assert truth.at(T0 + 5) is None


def test_a_truth_on_half_seconds_loads_one_second_per_line() -> None:
    # (a simulation started at a half second: round-half-even keyed 0.5, 1.5, 2.5 as 0, 2, 2)
    truth = truth_of([record(T0 + k + 0.5, {}, extra=["b-1"]) for k in range(4)])
    assert [tick.second for tick in truth.ticks] == [round(T0) + k + 1 for k in range(4)]


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("{not json", "not JSON"),
        (json.dumps({"t": "soon", "people": []}), "'t'"),
        (json.dumps({"t": T0 + 1, "people": [{"badge": "b-1", "x": True, "y": 1}]}), "people[0]"),
        (json.dumps(record(T0 + 1, {"g-1": ["b-1"]})), "at least 2"),
        (json.dumps({"t": T0 + 1, "people": [], "groups": [{"id": "g-1", "members": ["b-1", "b-2"]}]}), "not among"),
        (json.dumps(record(T0, {})), "does not follow"),
        # Integers too large for a float (JSON allows them) are no finite numbers:
        ('{"t": 1' + "0" * 400 + ', "people": []}', "'t'"),
        (json.dumps({"t": T0 + 1, "people": [{"badge": "b-1", "x": 10**400, "y": 1}]}), "people[0]"),
    ],
)
def test_bad_lines_name_the_line(line: str, fragment: str) -> None:
    first = json.dumps(record(T0, {}, extra=["b-1"]))
    with pytest.raises(InputError) as err:
        parse_truth([first, line], "truth.jsonl")
    assert err.value.line == 2
    assert "truth.jsonl:2" in str(err.value)
    assert fragment in str(err.value)


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_truth(tmp_path / "nope.jsonl")
