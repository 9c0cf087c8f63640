import sqlite3
import threading
from pathlib import Path

import pytest
from storekit import COMPANY, T0, fill, tick

from pipeline.analytics.export import export_store
from pipeline.store import EventStore, StoreError, StoreSink, StoreWriter
from pipeline.store.schema import PERSONAL_COLUMNS, SCHEMA_VERSION


def test_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "expo.db"
    fill(path)
    with EventStore(path, readonly=True) as s:
        assert s.meta()["site"] == "expo"
        assert s.people() == COMPANY
        assert s.query("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]
        assert s.query("PRAGMA journal_mode")[0][0] == "wal"
        eps = {e["id"]: e for e in s.episodes()}
        assert eps["c-1"]["start"] == T0 and eps["c-1"]["end"] == T0 + 59 and eps["c-1"]["mix"] == {"acme": 3}
        assert eps["c-2"]["mix"] == {"acme": 1, "beta": 2} and eps["c-2"]["max_size"] == 3
        alerts = s.alerts()
        assert [(a["id"], a["held_out"], a["nudge"]) for a in alerts] == [("al-1", False, ["a-1"]), ("al-2", True, [])]
        assert s.count("holdouts") == 1 and s.count("nudges") == 1
        c = s.contacts()
        # 3 windows of the acme trio (3 pairs), 3 windows of the mixed trio (3 pairs)
        assert c.t.shape[0] == 18
        assert s.positions().shape == (24 * 5, 3)  # every 5 s, 5 badges


def test_writes_are_batched_and_bounded(tmp_path: Path) -> None:
    w = StoreWriter(tmp_path / "x.db", flush_every=10, max_rows=7)
    for k in range(6):
        w.position(T0, f"p-{k}", 0.0, 0.0)
    assert w.pending == 6 and w.flushes == 0
    w.position(T0, "p-6", 0.0, 0.0)
    assert w.pending == 0 and w.flushes == 1  # the bound forces a flush, never a drop
    for _ in range(10):
        w.tick()
    w.close()
    with pytest.raises(ValueError, match="flush_every"):
        StoreWriter(tmp_path / "y.db", flush_every=0)


def test_a_failed_flush_keeps_every_row_for_the_next_and_a_lasting_failure_is_bounded(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    w = StoreWriter(path, flush_every=1, max_rows=4, backlog_rows=6)
    w.conn.execute("PRAGMA busy_timeout = 20")
    other = sqlite3.connect(path)
    other.execute("BEGIN EXCLUSIVE")  # another process holds the file
    w.people({"a-1": "acme", "a-2": "acme"})
    w.position(T0, "a-1", 1.0, 2.0)
    with pytest.raises(StoreError):
        w.flush()
    assert w.pending == 3 and w.rows_lost == 0 and w.failures == 1  # the people rows were not cleared
    other.rollback()
    w.flush()
    with EventStore(path, readonly=True) as s:
        assert s.count("people") == 2 and s.count("positions") == 1
    # A failure that lasts: adding never raises (a record is never half buffered); the rows are
    # held up to backlog_rows, then given up and counted.
    other.execute("BEGIN EXCLUSIVE")
    for k in range(10):
        w.position(T0 + k, "a-1", 1.0, 2.0)  # the 4th tries a flush; then only the tick schedule does
    assert w.failures == 2 and w.rows_lost == 6 and w.pending == 4
    with pytest.raises(StoreError):
        w.tick()
    other.rollback()
    other.close()
    w.tick()
    assert w.pending == 0
    w.position(T0, "a-1", float("nan"), 2.0)  # a NULL would fail the whole transaction: refused
    assert w.rows_rejected == 1 and w.pending == 0
    w.close()


def test_a_second_run_into_the_same_store_replaces_none_of_the_first_runs_rows(tmp_path: Path) -> None:
    path = tmp_path / "expo.db"
    fill(path)
    fill(path)  # the live service restarted: its ids start again at c-1 and al-1
    with EventStore(path, readonly=True) as s:
        assert s.meta()["runs"] == "2"
        assert sorted(a["id"] for a in s.alerts()) == ["al-1", "al-2", "r2-al-1", "r2-al-2"]
        assert sorted(e["id"] for e in s.episodes()) == ["c-1", "c-2", "r2-c-1", "r2-c-2"]
        assert s.count("nudges") == 2 and s.count("holdouts") == 2


def test_a_cluster_missed_for_a_few_ticks_is_one_episode_that_keeps_its_members_arrivals(tmp_path: Path) -> None:
    path = tmp_path / "expo.db"
    sink = StoreSink(path, company_of=COMPANY)
    for s in range(50):
        if s not in (20, 21, 22):  # the tracker missed it for three ticks and kept its id
            sink.on_tick(tick(s))
    sink.close()
    with EventStore(path, readonly=True) as st:
        (episode,) = st.episodes()
        assert episode["id"] == "c-1" and episode["start"] == T0 and episode["end"] == T0 + 49
        firsts = {b: first for ep, b, first, _ in st.episode_members()}
        assert firsts == {"a-1": T0, "a-2": T0, "a-3": T0}


def test_reader_reads_while_writer_writes(tmp_path: Path) -> None:
    path = tmp_path / "expo.db"
    sink = StoreSink(path, company_of=COMPANY, flush_every=1)
    sink.on_tick(tick(0))
    counts: list[int] = []
    errors: list[BaseException] = []

    def read() -> None:
        try:
            with EventStore(path, readonly=True) as r:
                for _ in range(20):
                    counts.append(r.count("positions"))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    writer_conn = sink.writer.conn
    writer_conn.execute("BEGIN IMMEDIATE")  # a write transaction is open...
    writer_conn.execute("INSERT INTO positions VALUES (?, 'z-1', 0, 0)", (T0,))
    reader = threading.Thread(target=read)
    reader.start()
    reader.join(10)
    assert not errors and len(counts) == 20 and set(counts) == {5}  # ...and readers see the last commit
    writer_conn.commit()
    for s in range(1, 30):
        sink.on_tick(tick(s))
    sink.close()


def test_not_a_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match=r"bad\.db"):
        EventStore(bad)
    with pytest.raises(StoreError, match="no such store"):
        EventStore(tmp_path / "missing.db", readonly=True)
    conn = sqlite3.connect(tmp_path / "new.db")
    conn.execute("CREATE TABLE schema_version (version INTEGER)")
    conn.execute("INSERT INTO schema_version VALUES (99)")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="99"):
        EventStore(tmp_path / "new.db")


def test_forget_removes_every_row_of_a_badge(tmp_path: Path) -> None:
    path = tmp_path / "expo.db"
    fill(path)
    with EventStore(path) as s:
        assert s.forget("a-1") > 0
        for table, column in PERSONAL_COLUMNS:
            assert s.query(f"SELECT COUNT(*) FROM {table} WHERE {column} = 'a-1'") == [(0,)], table
        assert s.count("people") == 4
        assert s.query("SELECT COUNT(*) FROM positions WHERE badge = 'a-2'")[0][0] > 0


def test_retention(tmp_path: Path) -> None:
    path = tmp_path / "expo.db"
    fill(path)
    with EventStore(path, retention_s=3600) as s:
        assert s.apply_retention(T0 + 3600) == 0
        assert s.apply_retention(T0 + 3600 + 60) > 0
        assert s.query("SELECT MIN(ts) FROM positions")[0][0] >= T0 + 60
        assert [e["id"] for e in s.episodes()] == ["c-2"]
        assert s.query("SELECT DISTINCT episode FROM episode_members") == [("c-2",)]
        assert [a["id"] for a in s.alerts()] == []
    with EventStore(path) as s:
        assert s.apply_retention(T0 + 10**9) == 0  # no retention set: keep everything
    with EventStore(path, readonly=True, retention_s=60) as s, pytest.raises(StoreError):
        s.apply_retention(T0 + 10**9)  # sqlite's own error ("read-only"), translated
    with pytest.raises(ValueError, match="retention_s"):
        EventStore(path, retention_s=0)


def test_every_acknowledgement_is_kept_those_without_an_alert_id_too(tmp_path: Path) -> None:
    path = tmp_path / "expo.db"
    sink = StoreSink(path, company_of=COMPANY)
    sink.acknowledge("", "a-1", T0 + 5)  # a nudge relayed without an alert id: acked with "alert": null
    sink.acknowledge("", "a-1", T0 + 65)  # a later one, for the same badge
    sink.acknowledge("al-1", "a-2", T0 + 31, "gw-01", T0 + 30)
    sink.acknowledge("al-1", "a-2", T0 + 32, "gw-02", T0 + 30)  # two gateways in the nudge's via both buzzed it
    sink.acknowledge("al-1", "a-2", T0 + 40, "gw-01", T0 + 30)  # gw-01's ack delivered again by the broker
    sink.close()
    with EventStore(path, readonly=True) as s:
        assert s.query("SELECT alert, badge, ts, gateway, sent FROM acknowledgements ORDER BY ts") == [
            ("", "a-1", T0 + 5, "", T0 + 5),
            ("al-1", "a-2", T0 + 31, "gw-01", T0 + 30),
            ("al-1", "a-2", T0 + 32, "gw-02", T0 + 30),
            ("", "a-1", T0 + 65, "", T0 + 65),
        ]


def test_a_version_1_store_is_read_as_it_is_and_migrated_when_written(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    fill(path)
    conn = sqlite3.connect(path)
    with conn:  # what schema version 1 wrote: one acknowledgement per (alert, badge)
        conn.execute("DROP TABLE acknowledgements")
        conn.execute(
            "CREATE TABLE acknowledgements (alert TEXT NOT NULL, badge TEXT NOT NULL, ts REAL NOT NULL,"
            " PRIMARY KEY (alert, badge))"
        )
        conn.execute("INSERT INTO acknowledgements VALUES ('al-1', 'a-1', ?)", (T0 + 31,))
        conn.execute("UPDATE schema_version SET version = 1")
    conn.close()
    with EventStore(path, readonly=True) as s:  # a reader leaves it as it is, and export reads it
        assert s.query("SELECT version FROM schema_version") == [(1,)]
        export_store(s, tmp_path / "v1", parquet=False)
    assert (tmp_path / "v1" / "acknowledgements.csv").read_text(encoding="utf-8").splitlines() == [
        "alert,badge,ts,gateway,sent",
        f"al-1,a-1,{T0 + 31},,",  # (columns version 1 did not have: empty)
    ]
    sink = StoreSink(path, company_of=COMPANY)  # the live service restarted on it
    sink.acknowledge("", "a-1", T0 + 200)
    sink.acknowledge("", "a-1", T0 + 260)
    sink.close()
    with EventStore(path, readonly=True) as s:
        assert s.query("SELECT version FROM schema_version ORDER BY version") == [(1,), (SCHEMA_VERSION,)]
        assert s.query("SELECT alert, badge, ts, gateway, sent FROM acknowledgements ORDER BY ts") == [
            ("al-1", "a-1", T0 + 31, "", T0 + 31),
            ("", "a-1", T0 + 200, "", T0 + 200),
            ("", "a-1", T0 + 260, "", T0 + 260),
        ]
        export_store(s, tmp_path / "v2", parquet=False)
    assert (tmp_path / "v2" / "acknowledgements.csv").read_text(encoding="utf-8").splitlines() == [
        "alert,badge,ts,gateway,sent",
        f",a-1,{T0 + 200},,{T0 + 200}",
        f",a-1,{T0 + 260},,{T0 + 260}",
        f"al-1,a-1,{T0 + 31},,{T0 + 31}",
    ]


def test_an_ack_of_the_run_before_a_restart_is_filed_under_that_runs_alert(tmp_path: Path) -> None:
    path = tmp_path / "expo.db"
    fill(path)  # run 1 raised al-1 and al-2, and nudged
    fill(path)  # run 2 raised them again (as r2-al-1 and r2-al-2)
    sink = StoreSink(path, company_of=COMPANY)  # run 3 has just started: it has raised nothing yet
    sink.acknowledge("al-2", "a-1", T0 + 300, "gw-01", T0 + 100)  # run 2's nudge, acked from a gateway's buffer
    sink.on_tick(tick(0))  # run 3 raises nothing at its first second
    sink.close()
    with EventStore(path, readonly=True) as s:
        assert s.query("SELECT alert FROM acknowledgements") == [("r2-al-2",)]
    sink = StoreSink(path, company_of=COMPANY)  # run 4: its own alert's ack stays its own
    for k in range(120):
        sink.on_tick(tick(k))
    sink.acknowledge("al-1", "a-1", T0 + 400, "gw-01", T0 + 399)  # run 4 raised al-1 (as run 1 did)
    sink.close()
    with EventStore(path, readonly=True) as s:
        assert ("r4-al-1",) in s.query("SELECT alert FROM acknowledgements")
