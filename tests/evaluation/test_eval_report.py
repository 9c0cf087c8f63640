import json

from evalkit import T0, alert, employees, frame, roster, steady, truth_of, venue

from pipeline.evaluation import Evaluation, evaluate, format_table, to_json

ROSTER = roster(*employees("acme", "a-1", "a-2", "a-3"), ("a-4", "acme", "attendee", True))
VENUE = venue(min_size=3, dwell_s=5.0, cooldown_s=60.0)
MEMBERS = ["a-1", "a-2", "a-3"]


def _rows() -> dict[str, Evaluation]:
    truth = truth_of(steady({"g-1": MEMBERS}, 10, extra=["a-4"]))
    frames = [frame(T0 + i, MEMBERS) for i in range(10)]
    good = evaluate(truth, ROSTER, VENUE, frames, [alert("al-1", T0 + 6, "acme", MEMBERS, nudge=["a-1"])])
    naive_alerts = [alert("al-1", T0 + 6, "beta", [*MEMBERS, "a-4"], nudge=["a-4"])]
    naive = evaluate(truth, ROSTER, VENUE, [frame(T0 + i, [*MEMBERS, "a-4"]) for i in range(10)], naive_alerts)
    return {"mingle": good, "baseline": naive}


def test_evaluate_bundles_every_score() -> None:
    rows = _rows()
    good, naive = rows["mingle"], rows["baseline"]
    assert good.true_huddles == naive.true_huddles == 1
    assert (good.alerts.tp, good.alerts.latency_median_s, good.groups_2_3.f1, good.groups_1.f1) == (1, 1.0, 1.0, 1.0)
    assert good.nudges.opt_out == 0
    # 3 of 4 matches at 2/3 but not at 1; the alert named the wrong company; a-4 opted out.
    assert (naive.alerts.tp, naive.alerts.fp, naive.groups_2_3.f1, naive.groups_1.f1) == (0, 1, 1.0, 0.0)
    assert naive.nudges.opt_out == 1


def test_format_table_has_a_header_and_one_aligned_row_per_detector() -> None:
    lines = format_table(_rows()).splitlines()
    assert len(lines) == 3
    assert len({len(line) for line in lines}) == 1
    header = lines[0].split()
    assert header == [
        "detector", "huddles", "alerts", "TP", "FP", "FN", "precision", "recall", "F1",
        "latency_s", "gF1@2/3", "gF1@1", "opt-out", "exempt", "cooldown", "aimed",
    ]  # fmt: skip
    assert " ".join(lines[1].split()) == "mingle 1 1 1 0 0 1.000 1.000 1.000 1.0 1.000 1.000 0 0 0 1/1"
    assert " ".join(lines[2].split()) == "baseline 1 1 0 1 1 0.000 0.000 0.000 - 1.000 0.000 1 0 0 0/1"


def test_to_json_is_one_line_keyed_by_detector() -> None:
    text = to_json(_rows())
    assert "\n" not in text
    data = json.loads(text)
    assert list(data) == ["mingle", "baseline"]
    mingle = data["mingle"]
    assert mingle["true_huddles"] == 1
    assert mingle["alerts"] == {
        "count": 1, "held_out": 0, "tp": 1, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0,
        "latency_median_s": 1.0, "latency_p90_s": 1.0,
    }  # fmt: skip
    assert mingle["groups"]["2/3"]["f1"] == 1.0 and mingle["groups"]["1"]["ticks"] == 10
    assert data["baseline"]["alerts"]["latency_median_s"] is None
    assert data["baseline"]["nudges"] == {"count": 1, "opt_out": 1, "exempt": 0, "cooldown": 0, "aimed": 0}
    assert data["mingle"]["nudges"]["aimed"] == 1


def test_format_table_widens_for_long_names() -> None:
    rows = _rows()
    lines = format_table({"a-rather-long-detector-name": rows["mingle"]}).splitlines()
    assert lines[1].startswith("a-rather-long-detector-name  ")
    assert len(lines[0]) == len(lines[1])
