"""Batched writes into the event store, so storing never slows a tick.

Rows collect in an in-memory buffer and go to SQLite in one transaction every
``flush_every`` ticks, when the buffer holds ``max_rows`` rows (the bound: a flush, never
a drop), and on :meth:`StoreWriter.close`. A flush that fails (the file locked by another
process for more than ``BUSY_TIMEOUT_MS``, a full disk) keeps every row for the next one:
the transaction is all or nothing. Only :meth:`flush` (and so :meth:`tick` and
:meth:`close`) raises; adding a row never does, so a record is never half buffered. While
the store fails, flushes are tried on the tick schedule only, and if it keeps failing until
``backlog_rows`` are held they are given up, counted in ``rows_lost`` and logged, so memory
stays bounded. A position that is not finite is refused (``rows_rejected``): a NULL would
fail the whole transaction.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import sqlite3
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mingle_wire import Alert

from .contacts import Contact
from .db import StoreError, insert_many, open_store

__all__ = ["StoreWriter"]

log = logging.getLogger("mingle.store")

#: How long a write waits for another process's lock before the flush fails and its rows wait
#: for the next (ms): a live tick must not stall for the connection's default 30 s.
BUSY_TIMEOUT_MS = 2000

_SQL = {
    "people": "INSERT OR REPLACE INTO people VALUES (?, ?)",
    "positions": "INSERT INTO positions VALUES (?, ?, ?, ?)",
    "episodes": "INSERT OR REPLACE INTO episodes VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "episode_members": "INSERT OR REPLACE INTO episode_members VALUES (?, ?, ?, ?)",
    "contacts": "INSERT OR IGNORE INTO contacts VALUES (?, ?, ?)",
    "alerts": "INSERT OR REPLACE INTO alerts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
    "alert_members": "INSERT OR IGNORE INTO alert_members VALUES (?, ?)",
    "holdouts": "INSERT OR REPLACE INTO holdouts VALUES (?, ?)",
    "nudges": "INSERT OR REPLACE INTO nudges VALUES (?, ?, ?)",
    # Every ack a row; a copy delivered again by the broker is the same row (schema v2).
    "acknowledgements": "INSERT OR IGNORE INTO acknowledgements VALUES (?, ?, ?, ?, ?)",
}


class StoreWriter:
    """Buffered writer for one store file. ``flush_every`` ticks (>= 1), ``max_rows`` rows (>= 1)."""

    def __init__(
        self, path: str | Path, *, flush_every: int = 30, max_rows: int = 50_000, backlog_rows: int | None = None
    ) -> None:
        if flush_every < 1 or max_rows < 1:
            raise ValueError(f"flush_every and max_rows must be >= 1, got {flush_every!r} and {max_rows!r}")
        self.flush_every = flush_every
        self.max_rows = max_rows
        self.backlog_rows = 10 * max_rows if backlog_rows is None else max(backlog_rows, max_rows)
        self.rows_lost = 0
        self.rows_rejected = 0
        self.failures = 0
        self.conn = open_store(path)
        self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._buf: dict[str, list[tuple[Any, ...]]] = {k: [] for k in _SQL}
        self._rows = 0
        self._ticks = 0
        self._failing = False
        self.flushes = 0

    def _add(self, table: str, row: tuple[Any, ...]) -> None:
        self._buf[table].append(row)
        self._rows += 1
        if self._rows >= self.backlog_rows:
            self._give_up()
        elif self._rows >= self.max_rows and not self._failing:
            with contextlib.suppress(StoreError):  # (logged and counted; retried on the tick schedule)
                self.flush()

    def set_meta(self, values: Mapping[str, str]) -> None:
        with self.conn:
            insert_many(self.conn, "INSERT OR REPLACE INTO meta VALUES (?, ?)", sorted(values.items()))

    def people(self, company_of: Mapping[str, str]) -> None:
        for badge, company in sorted(company_of.items()):
            self._add("people", (badge, company))

    def position(self, ts: float, badge: str, x: float, y: float) -> None:
        if not (math.isfinite(x) and math.isfinite(y)):  # (a NULL would fail the whole transaction)
            self.rows_rejected += 1
            if self.rows_rejected <= 5:
                log.error("position of %r at %r is not finite: (%r, %r); not stored", badge, ts, x, y)
            return
        self._add("positions", (ts, badge, x, y))

    def contact(self, contact: Contact) -> None:
        self._add("contacts", contact)

    def episode(self, ep: Mapping[str, Any], members: Mapping[str, tuple[float, float]]) -> None:
        """An episode (``id, start, end, company, homogeneity, max_size, x, y, mix``), upserted."""
        self._add(
            "episodes",
            (
                ep["id"],
                ep["start"],
                ep["end"],
                ep["company"],
                ep["homogeneity"],
                ep["max_size"],
                ep["x"],
                ep["y"],
                json.dumps(ep["mix"], sort_keys=True),
            ),
        )
        for badge, (first, last) in sorted(members.items()):
            self._add("episode_members", (ep["id"], badge, first, last))

    def alert(self, alert: Alert) -> None:
        self._add(
            "alerts",
            (
                alert.id,
                alert.ts,
                alert.cluster,
                alert.company,
                alert.since,
                int(alert.held_out),
                alert.zone,
                alert.x,
                alert.y,
            ),
        )
        for badge in alert.members:
            self._add("alert_members", (alert.id, badge))
        if alert.held_out:
            self._add("holdouts", (alert.id, alert.ts))
        for badge in alert.nudge:
            self._add("nudges", (alert.id, badge, alert.ts))

    def acknowledgement(self, alert: str, badge: str, ts: float, gateway: str = "", sent: float | None = None) -> None:
        """``badge``'s nudge of ``alert`` acknowledged, received at ``ts``; ``gateway`` buzzed it
        and said so at its own time ``sent`` (default ``ts``)."""
        self._add("acknowledgements", (alert, badge, ts, gateway, ts if sent is None else sent))

    def tick(self) -> None:
        """Count a tick; flushes every ``flush_every`` ticks."""
        self._ticks += 1
        if self._ticks % self.flush_every == 0:
            self.flush()

    @property
    def pending(self) -> int:
        return self._rows

    def flush(self) -> None:
        """Write every buffered row in one transaction; raises :class:`StoreError` (the rows kept
        for the next flush, or given up beyond ``backlog_rows``)."""
        if not self._rows:
            return
        try:
            with self.conn:
                for table, rows in self._buf.items():
                    if rows:
                        insert_many(self.conn, _SQL[table], rows)
        except (StoreError, sqlite3.Error) as exc:  # (sqlite3.Error: the commit itself, as on a full disk)
            self._failing = True
            self.failures += 1
            if self.failures <= 5 or self.failures % 100 == 0:
                log.error("store write failed (%d so far; %d rows wait): %s", self.failures, self._rows, exc)
            if isinstance(exc, StoreError):
                raise
            raise StoreError(str(exc)) from exc
        self._failing = False
        self._clear()
        self.flushes += 1

    def _give_up(self) -> None:
        log.error("the store has failed until %d rows were held: they are given up", self._rows)
        self.rows_lost += self._rows
        self._clear()

    def _clear(self) -> None:
        for rows in self._buf.values():
            rows.clear()
        self._rows = 0

    def close(self) -> None:
        self.flush()
        self.conn.close()

    def __enter__(self) -> StoreWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
