"""``StoreSink``: what replay (or the live service) hands each tick's result to.

Samples positions every ``position_every_s``, tracks cluster episodes, turns frames into
20 s pair contacts and stores alerts, nudges and hold-outs, all through a batched
:class:`StoreWriter`.

An episode stays open for ``EPISODE_GAP_S`` after its cluster was last seen: the trackers
keep a track (and its id) through a few missed ticks, and an episode closed at the first
missed tick would be written again when it came back, replacing the first write (and its
members' arrival times). A store written by more than one run (the live service restarted,
a second day) numbers its runs in ``meta``: from the second on, the run's cluster and alert
ids (which every run starts again at 1) are stored as ``r<run>-<id>``, so no run's rows
replace another's.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..roster import Roster
from ..step import TickResult
from ..venue import Venue
from .contacts import ContactAccumulator
from .writer import StoreWriter

__all__ = ["EPISODE_GAP_S", "StoreSink"]

#: An episode unseen this long (s) is closed: longer than a track is kept through missed ticks.
EPISODE_GAP_S = 30.0


class StoreSink:
    """Stores tick results in the store at ``path``.

    ``company_of`` maps badges to companies (the roster) for people and episode mixes;
    ``meta`` (site, floor size...) is written once. ``position_every_s`` seconds (> 0)
    between position samples of one badge.
    """

    def __init__(
        self,
        path: str | Path,
        *,
        company_of: Mapping[str, str] | None = None,
        meta: Mapping[str, str] | None = None,
        position_every_s: float = 5.0,
        window_s: int = 20,
        flush_every: int = 30,
    ) -> None:
        if not position_every_s > 0:
            raise ValueError(f"position_every_s must be > 0 seconds, got {position_every_s!r}")
        self.writer = StoreWriter(path, flush_every=flush_every)
        self.company_of = dict(company_of or {})
        self.position_every_s = position_every_s
        self.contacts = ContactAccumulator(window_s)
        self._last_sample: float | None = None
        self._open: dict[str, dict[str, Any]] = {}
        self._members: dict[str, dict[str, tuple[float, float]]] = {}
        self._seen_at: dict[str, float] = {}
        runs = self.writer.conn.execute("SELECT value FROM meta WHERE key = 'runs'").fetchone()
        run = int(runs[0]) + 1 if runs else 1
        self.run = run
        self.prefix = _prefix(run)
        self._alerted: set[str] = set()  # this run's alert ids (as the pipeline numbers them)
        self.writer.set_meta({**(meta or {}), "runs": str(run)})
        if self.company_of:
            self.writer.people(self.company_of)

    @classmethod
    def for_venue(cls, path: str | Path, venue: Venue, roster: Roster, **kwargs: Any) -> StoreSink:
        """A sink that records the venue's site and floor size and the roster's companies."""
        meta = {"site": venue.site, "floor_width": str(venue.floor.width), "floor_height": str(venue.floor.height)}
        return cls(path, company_of={b: a.company for b, a in roster.items()}, meta=meta, **kwargs)

    def on_tick(self, result: TickResult) -> None:
        frame = result.frame
        ts = frame.ts
        if self._last_sample is None or ts - self._last_sample >= self.position_every_s:
            self._last_sample = ts
            for b in frame.badges:
                self.writer.position(ts, b.badge, b.x, b.y)
        for contact in self.contacts.update(frame):
            self.writer.contact(contact)
        seen = set()
        for c in frame.clusters:
            seen.add(c.id)
            self._seen_at[c.id] = ts
            ep = self._open.setdefault(
                c.id, {"id": self.prefix + c.id, "start": c.since, "max_size": 0, "xs": 0.0, "ys": 0.0, "n": 0}
            )
            ep.update(
                end=ts, company=c.company, homogeneity=c.homogeneity, max_size=max(ep["max_size"], len(c.members))
            )
            ep["xs"] += c.x
            ep["ys"] += c.y
            ep["n"] += 1
            members = self._members.setdefault(c.id, {})
            for m in c.members:
                first = members.get(m, (ts, ts))[0]
                members[m] = (first, ts)
        for cid in [k for k in self._open if k not in seen and ts - self._seen_at[k] > EPISODE_GAP_S]:
            self._write_episode(cid)
        for alert in result.alerts:
            self._alerted.add(alert.id)
            if self.prefix:
                alert = replace(alert, id=self.prefix + alert.id, cluster=self.prefix + alert.cluster)
            self.writer.alert(alert)
        self.writer.tick()

    def _write_episode(self, cid: str) -> None:
        ep = self._open.pop(cid)
        members = self._members.pop(cid)
        del self._seen_at[cid]
        mix = Counter(self.company_of.get(m, "unknown") for m in members)
        row = {**ep, "x": ep["xs"] / ep["n"], "y": ep["ys"] / ep["n"], "mix": dict(sorted(mix.items()))}
        self.writer.episode(row, members)

    def acknowledge(self, alert: str, badge: str, ts: float, gateway: str = "", sent: float | None = None) -> None:
        """Record that ``badge`` acknowledged the nudge of ``alert``, received at ``ts``, from
        ``gateway`` at its own time ``sent``. An alert id this run has not raised is the run
        before's (a pipeline restarted while the ack was on its way, or in a gateway's buffer:
        alerts are recorded before their nudges go out, so this run's acks always find theirs)."""
        if alert:
            run = self.run if alert in self._alerted or self.run == 1 else self.run - 1
            alert = _prefix(run) + alert
        self.writer.acknowledgement(alert, badge, ts, gateway, sent)

    def close(self) -> None:
        for cid in list(self._open):
            self._write_episode(cid)
        for contact in self.contacts.flush():
            self.writer.contact(contact)
        self.writer.close()


def _prefix(run: int) -> str:
    """How run ``run`` marks its cluster and alert ids in the store (the first run does not)."""
    return "" if run == 1 else f"r{run}-"
