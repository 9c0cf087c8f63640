"""The event store's SQLite schema (one file per site), versioned in ``schema_version``.

A store written by an older schema is brought up to date when it is opened for writing, by
the steps in :data:`MIGRATIONS` (one transaction); opened read-only it is read as it is, so
every reader must cope with each version's tables. A newer store than this code knows is
refused (``pipeline.store.db.open_store``).

Versions: 1, the first; 2, ``acknowledgements`` gain the acknowledging ``gateway`` and the
gateway's own time ``sent``, and are keyed by ``(alert, badge, gateway, sent)``, not
``(alert, badge)``: every delivered acknowledgement is a row (under version 1 a second ack
without an alert id, ``alert = ''``, replaced the badge's first, and a second gateway's ack of
one nudge did too), while a copy the broker delivers again (QoS 1) is the same row. Rows
migrated from version 1 have ``gateway = ''`` and ``sent = ts``.
"""

from __future__ import annotations

from typing import Final

__all__ = ["MIGRATIONS", "PERSONAL_COLUMNS", "SCHEMA", "SCHEMA_VERSION", "TIME_COLUMNS"]

SCHEMA_VERSION: Final = 2

SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS people (badge TEXT PRIMARY KEY, company TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (ts REAL NOT NULL, badge TEXT NOT NULL, x REAL NOT NULL, y REAL NOT NULL);
CREATE INDEX IF NOT EXISTS positions_badge ON positions (badge);
CREATE TABLE IF NOT EXISTS episodes (
    id TEXT PRIMARY KEY, start REAL NOT NULL, end REAL NOT NULL, company TEXT, homogeneity REAL NOT NULL,
    max_size INTEGER NOT NULL, x REAL NOT NULL, y REAL NOT NULL, mix TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS episode_members (
    episode TEXT NOT NULL, badge TEXT NOT NULL, first REAL NOT NULL, last REAL NOT NULL,
    PRIMARY KEY (episode, badge));
CREATE INDEX IF NOT EXISTS episode_members_badge ON episode_members (badge);
CREATE TABLE IF NOT EXISTS contacts (t INTEGER NOT NULL, a TEXT NOT NULL, b TEXT NOT NULL, PRIMARY KEY (t, a, b));
CREATE INDEX IF NOT EXISTS contacts_b ON contacts (b);
CREATE TABLE IF NOT EXISTS alerts (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, cluster TEXT NOT NULL, company TEXT NOT NULL, since REAL NOT NULL,
    held_out INTEGER NOT NULL, zone TEXT, x REAL, y REAL);
CREATE TABLE IF NOT EXISTS alert_members (alert TEXT NOT NULL, badge TEXT NOT NULL, PRIMARY KEY (alert, badge));
CREATE TABLE IF NOT EXISTS holdouts (alert TEXT PRIMARY KEY, ts REAL NOT NULL);
CREATE TABLE IF NOT EXISTS nudges (alert TEXT NOT NULL, badge TEXT NOT NULL, ts REAL NOT NULL,
    PRIMARY KEY (alert, badge));
CREATE TABLE IF NOT EXISTS acknowledgements (alert TEXT NOT NULL, badge TEXT NOT NULL, ts REAL NOT NULL,
    gateway TEXT NOT NULL, sent REAL NOT NULL, PRIMARY KEY (alert, badge, gateway, sent));
"""

#: version -> the statements that bring a store of the version before up to it.
MIGRATIONS: Final[dict[int, tuple[str, ...]]] = {
    2: (
        "CREATE TABLE acknowledgements_v2 (alert TEXT NOT NULL, badge TEXT NOT NULL, ts REAL NOT NULL,"
        " gateway TEXT NOT NULL, sent REAL NOT NULL, PRIMARY KEY (alert, badge, gateway, sent))",
        "INSERT INTO acknowledgements_v2 SELECT alert, badge, ts, '', ts FROM acknowledgements"
        " ORDER BY ts, alert, badge",
        "DROP TABLE acknowledgements",
        "ALTER TABLE acknowledgements_v2 RENAME TO acknowledgements",
    ),
}

#: (table, column) pairs holding a badge id: ``forget`` deletes every row matching one.
PERSONAL_COLUMNS: Final = (
    ("people", "badge"),
    ("positions", "badge"),
    ("episode_members", "badge"),
    ("contacts", "a"),
    ("contacts", "b"),
    ("alert_members", "badge"),
    ("nudges", "badge"),
    ("acknowledgements", "badge"),
)

#: (table, time column) pairs that retention trims.
TIME_COLUMNS: Final = (
    ("positions", "ts"),
    ("contacts", "t"),
    ("episodes", "end"),
    ("alerts", "ts"),
    ("holdouts", "ts"),
    ("nudges", "ts"),
    ("acknowledgements", "ts"),
)
