"""Opening, reading and trimming the event store (embedded SQLite, WAL mode, one file per site).

Exceptions: :class:`StoreError` (a ``RuntimeError``) for a file that is not a Mingle store
or has a newer schema; ``sqlite3`` errors are translated into it at this boundary. A store
of an older schema is migrated when opened for writing, read as it is when read-only
(``pipeline/store/schema.py``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .schema import MIGRATIONS, PERSONAL_COLUMNS, SCHEMA, SCHEMA_VERSION, TIME_COLUMNS

__all__ = ["ContactRows", "EventStore", "StoreError", "open_store"]


class StoreError(RuntimeError):
    """The store file cannot be used; the message names the file."""


@dataclass(frozen=True, slots=True)
class ContactRows:
    """Contacts as arrays: window start ``t`` (s), person codes ``a``/``b`` into ``badges``."""

    t: npt.NDArray[np.int64]
    a: npt.NDArray[np.int64]
    b: npt.NDArray[np.int64]
    badges: tuple[str, ...]


def open_store(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open (creating unless ``readonly``) the store at ``path`` in WAL mode and check its schema."""
    name = str(path)
    conn: sqlite3.Connection | None = None
    try:
        if readonly:
            if not Path(path).exists():
                raise StoreError(f"{name}: no such store")
            conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, timeout=30.0)
        else:
            conn = sqlite3.connect(name, timeout=30.0)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.executescript(SCHEMA)
            _stamp_or_migrate(conn)
        version = _version(conn)
    except sqlite3.Error as exc:
        if conn is not None:
            conn.close()
        raise StoreError(f"{name}: not a Mingle store ({exc})") from exc
    if version is None or version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(f"{name}: schema version {version!r}, this Mingle reads up to {SCHEMA_VERSION}")
    return conn


def _version(conn: sqlite3.Connection) -> int | None:
    row = conn.execute("SELECT MAX(version) FROM schema_version").fetchone()
    return None if row is None or row[0] is None else int(row[0])


def _stamp_or_migrate(conn: sqlite3.Connection) -> None:
    """Stamp a new store with :data:`SCHEMA_VERSION`, or bring an older one up to it in one
    transaction (each step's version is added to ``schema_version``). A newer one is left
    alone, for the caller to refuse."""
    version = _version(conn)
    if version is not None and version >= SCHEMA_VERSION:
        return
    with conn:
        conn.execute("BEGIN IMMEDIATE")  # (a second writer opening the same old store waits, then finds it done)
        version = _version(conn)
        if version is None:
            conn.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            return
        for step in range(version + 1, SCHEMA_VERSION + 1):
            for sql in MIGRATIONS[step]:
                conn.execute(sql)
            conn.execute("INSERT INTO schema_version VALUES (?)", (step,))


class EventStore:
    """A store file: reads for analytics and reports, plus ``forget`` and ``apply_retention``.

    ``retention_s`` (seconds, > 0, or ``None`` to keep everything) is how long rows are kept
    after the time they describe; trimming happens when :meth:`apply_retention` is called
    with the current time, never by reading the clock here.
    """

    def __init__(self, path: str | Path, *, readonly: bool = False, retention_s: float | None = None) -> None:
        if retention_s is not None and not retention_s > 0:
            raise ValueError(f"retention_s must be > 0 seconds or None, got {retention_s!r}")
        self.path = Path(path)
        self.retention_s = retention_s
        self.conn = open_store(path, readonly=readonly)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.conn.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc

    def count(self, table: str) -> int:
        return int(self.query(f"SELECT COUNT(*) FROM {table}")[0][0])

    def meta(self) -> dict[str, str]:
        return dict(self.query("SELECT key, value FROM meta"))

    def people(self) -> dict[str, str]:
        """Badge -> company (or SocioPatterns group)."""
        return dict(self.query("SELECT badge, company FROM people ORDER BY badge"))

    def contacts(self) -> ContactRows:
        rows = self.query("SELECT t, a, b FROM contacts ORDER BY t, a, b")
        names = sorted({r[1] for r in rows} | {r[2] for r in rows})
        code = {n: k for k, n in enumerate(names)}
        t = np.array([r[0] for r in rows], dtype=np.int64)
        a = np.array([code[r[1]] for r in rows], dtype=np.int64)
        b = np.array([code[r[2]] for r in rows], dtype=np.int64)
        return ContactRows(t, a, b, tuple(names))

    def episodes(self) -> list[dict[str, Any]]:
        cols = ("id", "start", "end", "company", "homogeneity", "max_size", "x", "y", "mix")
        out = [
            dict(zip(cols, r, strict=True))
            for r in self.query(f"SELECT {', '.join(cols)} FROM episodes ORDER BY start, id")
        ]
        for ep in out:
            ep["mix"] = json.loads(ep["mix"])
        return out

    def episode_members(self) -> list[tuple[str, str, float, float]]:
        return [
            (r[0], r[1], float(r[2]), float(r[3]))
            for r in self.query("SELECT episode, badge, first, last FROM episode_members ORDER BY episode, badge")
        ]

    def alerts(self) -> list[dict[str, Any]]:
        cols = ("id", "ts", "cluster", "company", "since", "held_out", "zone", "x", "y")
        out = [
            dict(zip(cols, r, strict=True)) for r in self.query(f"SELECT {', '.join(cols)} FROM alerts ORDER BY ts, id")
        ]
        members: dict[str, list[str]] = {}
        for alert, badge in self.query("SELECT alert, badge FROM alert_members ORDER BY alert, badge"):
            members.setdefault(alert, []).append(badge)
        nudged: dict[str, list[str]] = {}
        for alert, badge in self.query("SELECT alert, badge FROM nudges ORDER BY alert, badge"):
            nudged.setdefault(alert, []).append(badge)
        for a in out:
            a["held_out"] = bool(a["held_out"])
            a["members"] = members.get(a["id"], [])
            a["nudge"] = nudged.get(a["id"], [])
        return out

    def positions(self) -> npt.NDArray[np.float64]:
        """Sampled positions as an ``[N, 3]`` array of ts, x, y."""
        rows = self.query("SELECT ts, x, y FROM positions")
        return np.array(rows, dtype=np.float64).reshape(-1, 3)

    def forget(self, badge: str) -> int:
        """Delete every row about ``badge`` from every table (right to erasure); returns rows deleted."""
        deleted = 0
        try:
            with self.conn:
                for table, column in PERSONAL_COLUMNS:
                    cur = self.conn.execute(f"DELETE FROM {table} WHERE {column} = ?", (badge,))
                    deleted += cur.rowcount
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc
        return deleted

    def apply_retention(self, now: float) -> int:
        """Delete rows older than ``now - retention_s``; returns rows deleted (0 without a retention).

        Raises :class:`StoreError` for a store whose times are not Unix times (an imported
        SocioPatterns study counts seconds from its start: every row would look decades old)."""
        if self.retention_s is None:
            return 0
        if self.meta().get("source") == "sociopatterns":
            raise StoreError(
                f"{self.path}: its times count seconds from the study's start, not Unix time: "
                "retention cannot date its rows (use forget for one badge, or delete the file)"
            )
        cutoff = now - self.retention_s
        deleted = 0
        try:
            with self.conn:
                for table, column in TIME_COLUMNS:
                    deleted += self.conn.execute(f"DELETE FROM {table} WHERE {column} < ?", (cutoff,)).rowcount
                for sql in (
                    "DELETE FROM episode_members WHERE episode NOT IN (SELECT id FROM episodes)",
                    "DELETE FROM alert_members WHERE alert NOT IN (SELECT id FROM alerts)",
                ):
                    deleted += self.conn.execute(sql).rowcount
        except sqlite3.Error as exc:
            raise StoreError(f"{self.path}: {exc}") from exc
        return deleted


def insert_many(conn: sqlite3.Connection, sql: str, rows: Iterable[Sequence[Any]]) -> None:
    """``executemany`` with sqlite errors translated."""
    try:
        conn.executemany(sql, rows)
    except sqlite3.Error as exc:
        raise StoreError(str(exc)) from exc
