import argparse
import csv
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "store"))
from storekit import fill

from pipeline.analytics import cli
from pipeline.analytics.nudges import bootstrap_diff, bootstrap_share_diff, nudge_efficacy
from pipeline.store import EventStore


def mingle(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="mingle")
    cli.add_parser(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.run(args))


@pytest.fixture
def store(tmp_path: Path) -> Path:
    path = tmp_path / "expo.db"
    fill(path)
    return path


def test_report_renders_self_contained(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert mingle("report", "--store", str(store), "--out", str(out)) == 0
    html = out.read_text(encoding="utf-8")
    assert "http://" not in html and "https://" not in html
    assert not re.search(r"<(script|link|img|iframe)\b", html)
    with EventStore(store, readonly=True) as s:
        from pipeline.analytics.summary import summarize_mixing

        m = summarize_mixing(s.contacts(), s.people())
    assert f"{m.r_weighted:.3f}" in html and f"{m.r_unweighted:.3f}" in html
    for heading in (
        "Mixing index over time",
        "Insularity",
        "Cross-company contact",
        "Huddles",
        "Nudge efficacy",
        "New companies met",
        "Too little data",
    ):
        assert heading in html
    assert html.count("<svg") >= 5


def test_report_with_roster(store: Path, tmp_path: Path, roster_file: Path) -> None:
    html = tmp_path / "r.html"
    assert mingle("report", "--store", str(store), "--roster", str(roster_file), "--out", str(html)) == 0
    assert mingle("report", "--store", str(tmp_path / "missing.db"), "--out", str(html)) == 1


def test_nudge_efficacy_arms(store: Path) -> None:
    with EventStore(store, readonly=True) as s:
        eff = nudge_efficacy(s.alerts(), s.episodes(), s.episode_members())
    assert eff.alerted.alerts == 1 and eff.held_out.alerts == 1 and eff.too_little_data
    assert eff.alerted.dispersal_s == (29.0,) and eff.held_out.dispersal_s == (19.0,)
    assert eff.alerted.joined_by_alert == ((1, len(eff.alerted.joined)),)  # a-1 joined the mixed group at T0 + 60
    assert eff.held_out.joined == (1.0, 0.0, 0.0)  # every member counts; a-1 joined 20 s after the hold-out
    assert eff.held_out.joined_by_alert == ((1, 3),)
    assert bootstrap_diff([1.0, 2.0], [1.0], seed=3) == bootstrap_diff([1.0, 2.0], [1.0], seed=3)


def test_export_and_forget(store: Path, tmp_path: Path) -> None:
    out = tmp_path / "export"
    assert mingle("export", "--store", str(store), "--out", str(out)) == 0
    import pyarrow.parquet as pq

    for name in ("people", "contacts", "episodes", "episode_members", "alerts", "alert_members", "holdouts", "nudges"):
        with (out / f"{name}.csv").open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        assert rows[0] and len(rows) > 1, name
        table = pq.read_table(out / f"{name}.parquet")
        assert table.num_rows == len(rows) - 1 and table.schema.names == rows[0], name
    assert mingle("forget", "a-1", "--store", str(store)) == 0
    with EventStore(store, readonly=True) as s:
        assert s.query("SELECT COUNT(*) FROM contacts WHERE a = 'a-1' OR b = 'a-1'") == [(0,)]
        assert s.count("contacts") > 0
    assert mingle("forget", "--store", str(store)) == 2
    assert mingle("forget", "b-1", "--older-than-days", "1", "--store", str(store)) == 2
    assert mingle("forget", "--older-than-days", "36500", "--store", str(store)) == 0  # a century: keeps all
    with EventStore(store, readonly=True) as s:
        assert s.count("contacts") > 0
    assert mingle("forget", "--older-than-days", "0.001", "--store", str(store)) == 0  # the data is from 2025
    with EventStore(store, readonly=True) as s:
        assert s.count("contacts") == 0


def test_import_cli(tmp_path: Path) -> None:
    (tmp_path / "t.dat").write_bytes(b"20 1 2\r\n40 1 3\r\n")
    (tmp_path / "m.txt").write_text("1 A\n2 A\n3 B\n", encoding="utf-8")
    db = tmp_path / "sp.db"
    assert mingle("import-sociopatterns", str(tmp_path / "t.dat"), str(tmp_path / "m.txt"), "--store", str(db)) == 0
    with EventStore(db, readonly=True) as s:
        assert s.people() == {"sp-1": "A", "sp-2": "A", "sp-3": "B"} and s.count("contacts") == 2
    # Its times count seconds from the study's start: retention cannot date them, and says so.
    assert mingle("forget", "--older-than-days", "3650", "--store", str(db)) == 1
    with EventStore(db, readonly=True) as s:
        assert s.count("contacts") == 2
    (tmp_path / "bad.dat").write_text("oops\n", encoding="utf-8")
    assert mingle("import-sociopatterns", str(tmp_path / "bad.dat"), str(tmp_path / "m.txt"), "--store", str(db)) == 1


def test_with_no_nudge_effect_the_arms_do_not_differ_whoever_the_policy_picks() -> None:
    # Forty huddles, every other one held out; everyone behaves alike in both arms. In each, a
    # staff member (never picked to nudge) leaves for a mixed group a minute after the alert.
    alerts, episodes, members = [], [], []
    for k in range(40):
        ts, held = 1_764_140_000.0 + 1000 * k, k % 2 == 1
        huddle = [f"a{k}-{i}" for i in range(3)] + [f"staff{k}"]
        alerts.append(
            {"id": f"a-{k}", "ts": ts, "held_out": held, "members": huddle, "nudge": [] if held else huddle[:1]}
        )
        episodes += [
            {"id": f"h-{k}", "mix": {"Acme": 3, "Staff": 1}},
            {"id": f"m-{k}", "mix": {"Globex": 2, "Staff": 1}},
        ]
        members += [(f"h-{k}", b, ts - 200, ts + 600) for b in huddle] + [(f"m-{k}", f"staff{k}", ts + 60, ts + 300)]
    eff = nudge_efficacy(alerts, episodes, members)
    diff, lo, hi = eff.joined_diff
    assert diff == 0.0 and lo <= 0.0 <= hi and not eff.too_little_data  # (it read −0.25, CI all below 0)
    assert bootstrap_share_diff([(1, 4)] * 5, [(1, 4)] * 5) == (0.0, 0.0, 0.0)


def test_a_report_of_a_store_with_nothing_in_it_yet_renders(tmp_path: Path) -> None:
    from pipeline.store import StoreSink

    db = tmp_path / "empty.db"
    StoreSink(db, meta={"site": "expo"}).close()
    html = tmp_path / "r.html"
    assert mingle("report", "--store", str(db), "--out", str(html)) == 0
    assert "Mixing report" in html.read_text(encoding="utf-8")


def test_the_report_names_no_delegation_smaller_than_min_size(store: Path, tmp_path: Path) -> None:
    html = tmp_path / "r.html"
    assert mingle("report", "--store", str(store), "--out", str(html), "--min-company-size", "3") == 0
    text = html.read_text(encoding="utf-8")
    assert ">acme<" in text  # three people: named
    assert "beta" not in text  # two: in no chart, no matrix cell, no pool of its own


def test_companies_met_counts_the_attendees_who_met_nobody(store: Path) -> None:
    from pipeline.analytics.summary import summarize_mixing

    with EventStore(store, readonly=True) as s:
        contacts, people = s.contacts(), s.people()
    extra = {**people, "z-1": "zeta", "z-2": "zeta"}  # on the roster, never in contact with anyone
    plain, more = summarize_mixing(contacts, people), summarize_mixing(contacts, extra)
    assert more.companies_met.shape[0] == plain.companies_met.shape[0] + 2
    assert sorted(more.companies_met.tolist()) == sorted([*plain.companies_met.tolist(), 0, 0])
