"""Inbound messages in, validated readings, contacts and positions out — every rejection counted.

:class:`Ingest` checks the topic, decodes with :mod:`mingle_wire`, maps ids to indices and
buffers what was accepted until the next tick drains it. Nothing raises: a bad message
or item is counted under its reason and logged (rate-limited, so a flood of garbage cannot
flood the log). Badge ids not on the roster are counted as unknown and kept for
positioning. The number of distinct badges is capped so hostile traffic cannot grow memory
without bound, with room kept for every roster badge.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import orjson

from mingle_wire import (
    ContactColumns,
    DecodeError,
    Parser,
    Pause,
    Position,
    PositionBatch,
    ReadingColumns,
    decode_contact_columns,
    decode_pause,
    decode_positions,
    decode_reading_columns,
    loads,
    parse_topic,
)

from .fastdecode import fast_reading_columns
from .heldpositions import HeldPositions
from .ingested import BadgeIndex, Contacts, Drained, Message

if TYPE_CHECKING:
    from .venue import Venue

__all__ = ["BadgeIndex", "Contacts", "Drained", "Ingest", "Message", "anchors_of", "venue_ingest"]

#: A report's copies (the same report relayed by every gateway in range) arrive within about
#: a second of each other; (badge, seq) keys are remembered this long to drop the copies.
CONTACT_COPY_S = 30.0

#: Input stamped more than this ahead of the pipeline's clock (a gateway or feed host whose
#: clock is wrong: a Raspberry Pi has no real-time clock until NTP sets it) is rejected when
#: drained. Held, it would wait for its second to come and grow memory meanwhile; and one
#: report stamped ahead would stop the report keys from being forgotten.
AHEAD_S = 30.0

log = logging.getLogger("mingle.ingest")

LOG_FIRST = 5
LOG_EVERY = 1000


def anchors_of(venue: Venue) -> list[tuple[str, float, float, float]]:
    """Known transmitters at known spots, as (id, x, y, z): the venue's reference badges, then
    its gateways (heard by each other)."""
    refs = [(r.id, r.x, r.y, r.z) for r in venue.references]
    return refs + [(g.id, g.x, g.y, g.z) for g in venue.gateways]


def venue_ingest(venue: Venue, roster: Iterable[str], *, prefix: str = "mingle") -> Ingest:
    """The ingest a pipeline for ``venue`` and ``roster`` (badge ids) runs: its badge index holds
    the venue's anchors first (:func:`anchors_of`, in order), and every roster badge and anchor
    is known. Two built from the same files number every badge alike when fed alike."""
    badges = BadgeIndex()
    anchors = anchors_of(venue)
    for a in anchors:
        badges.get(a[0])
    known = [*roster, *(a[0] for a in anchors)]
    return Ingest(venue.site, [g.id for g in venue.gateways], known, badges, prefix=prefix)


class Ingest:
    def __init__(
        self,
        site: str,
        gateway_ids: Iterable[str],
        known_badges: Iterable[str],
        badges: BadgeIndex,
        *,
        prefix: str = "mingle",
        parse: Parser | None = None,
        fast: bool = True,
    ) -> None:
        self.parse: Parser = parse if parse is not None else orjson.loads
        self.fast = fast
        self.site = site
        self.prefix = prefix
        self.gateway_index = {g: i for i, g in enumerate(gateway_ids)}
        self._gateway_ids = list(self.gateway_index)
        self.known = frozenset(known_badges)
        self.badges = badges
        self._unheard_known = sum(1 for b in self.known if badges.find(b) is None)
        self.messages = 0
        self.readings = 0
        self.positions = 0
        self.pauses = 0
        self.contacts = 0
        self.contact_copies = 0
        self.rejected: Counter[str] = Counter()
        self.unknown_badges: set[str] = set()
        self.tx_dbm: dict[int, float] = {}
        # The readings taken since the last drain, a batch at a time as arrays (badge index,
        # gateway index, ts, rssi): each batch's lists become arrays as it is taken, so the
        # tick's drain only joins them.
        self._batches: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
        self.held_positions = HeldPositions(AHEAD_S)  # this drain's positions, per badge
        self._pauses: list[Pause] = []
        self._c: list[tuple[int, int, float, float]] = []  # (badge, near, rssi, ts)
        self._reports: dict[tuple[str, int], float] = {}  # (badge id, seq) -> first seen ts, in arrival order
        self._newest_report = -math.inf

    #: What an ingest has counted (and the unknown badges it has seen), as :meth:`tally` gives it.
    TALLIED = (
        "messages",
        "readings",
        "positions",
        "pauses",
        "contacts",
        "contact_copies",
        "rejected",
        "unknown_badges",
    )

    def tally(self) -> dict[str, Any]:
        """The counts (a copy): what another process's ingest hands over (:meth:`take_tally`)."""
        out = {name: getattr(self, name) for name in self.TALLIED}
        return out | {"rejected": Counter(self.rejected), "unknown_badges": set(self.unknown_badges)}

    def take_tally(self, tally: Mapping[str, Any]) -> None:
        """Take another ingest's counts as this one's (a replay that ingested in another process)."""
        if set(tally) != set(self.TALLIED):
            raise ValueError(f"a tally has {sorted(self.TALLIED)}, got {sorted(tally)}")
        for name in self.TALLIED:
            setattr(self, name, tally[name])
        self.rejected = Counter(tally["rejected"])
        self.unknown_badges = set(tally["unknown_badges"])

    def reject(self, reason: str, detail: str, topic: str, count: int = 1) -> None:
        before = self.rejected[reason]
        self.rejected[reason] += count
        n = self.rejected[reason]
        if before < LOG_FIRST or n // LOG_EVERY > before // LOG_EVERY:
            log.warning("rejected %s on %r: %s (%d so far)", reason, topic[:120], detail[:200], n)

    def _badge(self, badge: str, topic: str) -> int | None:
        """The badge's index; at its first sighting an unknown badge is counted, or refused
        beyond the index's capacity (None)."""
        idx = self.badges.find(badge)
        if idx is not None:  # seen before (every indexed id is known or already counted)
            return idx
        if badge not in self.known and badge not in self.unknown_badges:
            # Room is kept for every roster badge not heard yet: unknown ids cannot lock them out.
            if len(self.badges) + self._unheard_known >= self.badges.capacity:
                self.reject("badge_capacity", f"badge {badge!r} beyond {self.badges.capacity} distinct", topic)
                return None
            self.unknown_badges.add(badge)
        idx = self.badges.get(badge)
        if idx is None:
            self.reject("badge_capacity", f"badge {badge!r} beyond {self.badges.capacity} distinct", topic)
        elif badge in self.known:
            self._unheard_known -= 1
        return idx

    def accept(self, topic: str, payload: bytes | str | dict[str, Any]) -> None:
        """Take one message as it arrived on ``topic``."""
        self.messages += 1
        parsed = parse_topic(topic, self.prefix)
        if parsed is None:
            self.reject("unknown_topic", "not <prefix>/<site>/readings|positions|contacts|pauses/<id>", topic)
            return
        if parsed.site != self.site:
            self.reject("wrong_site", f"site {parsed.site!r}, this pipeline serves {self.site!r}", topic)
            return
        if parsed.kind in ("readings", "contacts") and parsed.key not in self.gateway_index:
            self.reject("unknown_gateway", f"gateway {parsed.key!r} is not in the venue file", topic)
            return
        if self.fast and parsed.kind == "readings" and not isinstance(payload, dict):
            # A well-formed batch in one native pass; anything else takes the strict codec below.
            fast = fast_reading_columns(payload, parsed.key, self.badges.index)
            if fast is not None:
                self._take_readings(fast, topic)
                return
        try:
            if not isinstance(payload, dict):
                payload = loads(payload, self.parse)
                if not isinstance(payload, dict):  # a JSON array, string or number
                    raise DecodeError("not_object", f"payload is a JSON {type(payload).__name__}, not an object")
            if parsed.kind == "pauses":
                pause = decode_pause(payload, parsed.key)
                if pause.badge not in self.known:  # also bounds what a flood of pauses can hold
                    raise DecodeError("pause_unknown_badge", f"badge {pause.badge!r} is not on the roster")
                self._pauses.append(pause)
                self.pauses += 1
                return
            if parsed.kind == "readings":
                # Every id in the index passed the id check (roster, venue or this decoder).
                columns, rejected = decode_reading_columns(payload, parsed.key, known_ids=self.badges.index)
            elif parsed.kind == "contacts":
                contacts, rejected = decode_contact_columns(payload, parsed.key, known_ids=self.badges.index)
            else:
                decoded = decode_positions(payload, parsed.key)
                rejected = decoded.rejected
        except DecodeError as exc:
            self.reject(exc.reason, exc.detail, topic)
            return
        for bad in rejected:
            self.reject(bad.reason, bad.detail, topic)
        if parsed.kind == "readings":
            self._take_readings(columns, topic)
            return
        if parsed.kind == "contacts":
            self._take_contacts(contacts, topic)
            return
        batch = decoded.batch
        if isinstance(batch, PositionBatch):
            for p in batch.positions:
                idx = self._badge(p.badge, topic)
                if idx is None:  # refused beyond capacity (and counted so)
                    continue
                self.positions += 1
                if self.held_positions.add(idx, p):  # it let go of one surely ahead of the clock
                    self.positions -= 1
                    self.reject(
                        "ahead_of_clock", f"a position stamped more than {AHEAD_S:.0f} s ahead of the clock", topic
                    )

    def _take_contacts(self, columns: ContactColumns, topic: str) -> None:
        """Buffer a batch's contacts, each report once: the first gateway's copy is kept (a
        copy is recognised by its reporter and ``seq`` before anything else is looked up)."""
        first: dict[tuple[str, int], bool] = {}
        for b, n, rssi, ts, seq in zip(columns.badge, columns.near, columns.rssi, columns.ts, columns.seq, strict=True):
            new = first.get((b, seq))
            if new is None:  # this batch's first item of that report decides for all of them
                new = (b, seq) not in self._reports
                first[(b, seq)] = new
                if new:
                    self._reports[(b, seq)] = ts
                    self._newest_report = max(self._newest_report, ts)
            if not new:
                self.contact_copies += 1
                continue
            badge, near = self._badge(b, topic), self._badge(n, topic)
            if badge is None or near is None:
                continue
            self._c.append((badge, near, float(rssi), ts))
            self.contacts += 1

    def _forget_reports(self, now: float | None = None) -> None:
        """Forget report keys older than ``CONTACT_COPY_S`` behind the newest (bounded memory),
        and those of reports stamped more than ``AHEAD_S`` ahead of ``now`` (rejected).

        Keys are held in arrival order, which is nearly time order: the old ones are at the
        front, so a drain looks at the few that leave and one that stays, not at every key.
        """
        ceiling = math.inf if now is None else now + AHEAD_S
        # (A report stamped ahead must not make the others look old: the newest is now at most.)
        horizon = min(self._newest_report, math.inf if now is None else now) - CONTACT_COPY_S
        stale = []
        for key, ts in self._reports.items():
            if horizon <= ts <= ceiling:
                break
            stale.append(key)
        for key in stale:
            del self._reports[key]

    def _without_ahead(self, out: Drained, now: float) -> Drained:
        """``out`` without what is stamped more than ``AHEAD_S`` after ``now``, each kind rejected
        as ``ahead_of_clock``."""
        badge, gateway, ts, rssi = out.badge, out.gateway, out.ts, out.rssi
        contacts = out.contacts
        limit = now + AHEAD_S
        ahead = ts > limit
        if ahead.any():
            n = int(ahead.sum())
            gw = self._gateway_ids[int(gateway[int(np.argmax(ahead))])]
            self.reject(
                "ahead_of_clock",
                f"{n} readings stamped up to {float(ts[ahead].max()) - now:.0f} s ahead of the "
                f"pipeline's clock (more than {AHEAD_S:.0f} s): is gateway {gw!r}'s clock set?",
                f"{self.prefix}/{self.site}/readings/{gw}",
                n,
            )
            keep = ~ahead
            badge, gateway, ts, rssi = badge[keep], gateway[keep], ts[keep], rssi[keep]
            self.readings -= n
        late = contacts.ts > limit if contacts is not None else np.zeros(0, dtype=np.bool_)
        if contacts is not None and late.any():
            n = int(late.sum())
            self.reject(
                "ahead_of_clock",
                f"{n} neighbour reports stamped more than {AHEAD_S:.0f} s ahead of the clock",
                f"{self.prefix}/{self.site}/contacts",
                n,
            )
            keep = ~late
            contacts = Contacts(contacts.badge[keep], contacts.near[keep], contacts.rssi[keep], contacts.ts[keep])
            self.contacts -= n
        return Drained(badge, gateway, ts, rssi, out.positions, out.pauses, contacts)

    def _latest_positions(self, now: float | None) -> dict[int, Position]:
        """Each badge's newest held position not stamped ahead of ``now``; those stamped ahead
        are rejected as ``ahead_of_clock``."""
        out, ahead = self.held_positions.take(now)
        if ahead:
            self.reject(
                "ahead_of_clock",
                f"{ahead} positions stamped more than {AHEAD_S:.0f} s ahead of the clock",
                f"{self.prefix}/{self.site}/positions",
                ahead,
            )
            self.positions -= ahead
        return out

    def _take_readings(self, columns: ReadingColumns, topic: str) -> None:
        gi = self.gateway_index[columns.gateway]
        found = self.badges.find_all(columns.badge)
        if None not in found:  # every badge seen before: whole columns at once
            self._readings_known(gi, found, columns)
            return
        b: list[int] = []
        t: list[float] = []
        r: list[float] = []
        for badge, rssi, ts, tx in zip(columns.badge, columns.rssi, columns.ts, columns.tx, strict=True):
            idx = self._badge(badge, topic)
            if idx is None:  # refused beyond capacity
                continue
            b.append(idx)
            t.append(ts)
            r.append(rssi)
            if tx is not None:
                self.tx_dbm[idx] = tx
        self._keep_batch(b, gi, t, r)
        self.readings += len(columns)

    def _keep_batch(self, badge: list[int], gateway: int, ts: list[float], rssi: list[float]) -> None:
        if badge:
            n = len(badge)
            self._batches.append(
                (
                    np.array(badge, dtype=np.int64),
                    np.full(n, gateway, dtype=np.int64),
                    np.array(ts, dtype=np.float64),
                    np.array(rssi, dtype=np.float64),
                )
            )

    def _readings_known(self, gi: int, found: list[int | None], columns: ReadingColumns) -> None:
        """Buffer a batch whose badges all have indices (``found``), column by column."""
        idx = cast(list[int], found)
        n = len(idx)
        self._keep_batch(idx, gi, columns.ts, columns.rssi)
        tx = columns.tx
        missing = tx.count(None)
        if missing == 0:
            self.tx_dbm.update(zip(idx, cast(list[float], tx), strict=True))
        elif missing < n:
            self.tx_dbm.update((i, t) for i, t in zip(idx, tx, strict=True) if t is not None)
        self.readings += n

    def _joined(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """The batches taken since the last drain, joined column by column."""
        batches = self._batches
        if not batches:
            return (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
        if len(batches) == 1:
            return batches[0]
        b, g, t, r = zip(*batches, strict=True)
        return np.concatenate(b), np.concatenate(g), np.concatenate(t), np.concatenate(r)

    def drain(self, now: float | None = None) -> Drained:
        """What was accepted since the last drain. With ``now`` (the pipeline's clock), readings,
        contacts and positions stamped more than ``AHEAD_S`` ahead of it are rejected
        (``ahead_of_clock``) instead."""
        contacts = None
        if self._c:
            c = np.array(self._c, dtype=np.float64)
            contacts = Contacts(c[:, 0].astype(np.int64), c[:, 1].astype(np.int64), c[:, 2], c[:, 3])
            self._c = []
        self._forget_reports(now)
        out = Drained(
            *self._joined(),
            self._latest_positions(now),
            tuple(self._pauses),
            contacts,
        )
        if now is not None:
            out = self._without_ahead(out, now)
        self._batches = []
        self._pauses = []
        return out
