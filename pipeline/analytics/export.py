"""``mingle export``: the store's people, contacts, episodes, alerts (with their members, hold-outs,
nudges and acknowledgements) as CSV, and Parquet if pyarrow is there: everything the report
computes from, so an analyst can reproduce it (positions, the bulk of a store, stay in it)."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path
from typing import Any

from ..store.db import EventStore

__all__ = ["TABLES", "export_store"]

TABLES: dict[str, tuple[str, ...]] = {
    "people": ("badge", "company"),
    "contacts": ("t", "a", "b"),
    "episodes": ("id", "start", "end", "company", "homogeneity", "max_size", "x", "y", "mix"),
    "episode_members": ("episode", "badge", "first", "last"),
    "alerts": ("id", "ts", "cluster", "company", "since", "held_out", "zone", "x", "y"),
    "alert_members": ("alert", "badge"),
    "holdouts": ("alert", "ts"),
    "nudges": ("alert", "badge", "ts"),
    "acknowledgements": ("alert", "badge", "ts", "gateway", "sent"),
}


def export_store(store: EventStore, out: Path, *, parquet: bool | None = None) -> list[Path]:
    """Write one CSV per table into ``out``; Parquet too when ``parquet`` (default: if pyarrow imports)."""
    out.mkdir(parents=True, exist_ok=True)
    if parquet is None:
        parquet = importlib.util.find_spec("pyarrow") is not None
    written = []
    for table, cols in TABLES.items():
        # (A column an older schema lacks is exported empty: acknowledgements' gateway and sent
        # before version 2.)
        have = {row[1] for row in store.query(f"PRAGMA table_info({table})")}
        picked = [c if c in have else f"NULL AS {c}" for c in cols]
        order = [c for c in cols if c in have]
        rows: list[tuple[Any, ...]] = store.query(
            f"SELECT {', '.join(picked)} FROM {table} ORDER BY {', '.join(order)}"
        )
        path = out / f"{table}.csv"
        with open(path, "w", newline="", encoding="utf-8") as fh:
            w = csv.writer(fh)
            w.writerow(cols)
            w.writerows(rows)
        written.append(path)
        if parquet:
            written.append(_parquet(out / f"{table}.parquet", cols, rows))
    return written


def _parquet(path: Path, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> Path:
    import pyarrow as pa  # type: ignore[import-not-found, unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-not-found, unused-ignore]

    table = pa.table({c: [r[k] for r in rows] for k, c in enumerate(cols)})
    pq.write_table(table, path)
    return path
