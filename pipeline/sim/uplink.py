"""The gateways' side: clocks, 1 s report windows, and messages on their way to the broker.

Each gateway stamps a packet on receipt with its own clock (BlueZ gives no radio
timestamp, so stamping happens in software, 1 ms plus an exponential 5 ms after the
packet), collects readings in 1 s windows aligned to whole seconds of its clock (as
ESPresense nodes report in NTP-aligned slots), and sends one message per window — empty
windows included — 2–20 ms after the window ends. The clock is off by N(0, 50 ms) plus a
drift of N(0, 20 ppm). A message arrives at the broker 5 ms plus a log-normal network
delay (median 20 ms, σ 0.5) later; arrival times are on the true clock.

Payloads are written exactly as :func:`mingle_wire.encode_readings` writes them (same keys,
order and rounding), with every time quantised to the millisecond.

Scanning badges' neighbour reports (:mod:`.proximity`) ride on their advertisements: a
gateway publishes a report's contacts once, on the first copy it hears at ``RELAY_MIN_DBM``
or better (the badge repeats it until its next report; only the gateways near the badge
relay it, not every one in range), in a ``contacts/<gateway>`` message per window that has any —
stamped and sent as readings are, with a generator of their own, so the readings are the
same with and without them.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from mingle_wire import PROTOCOL_VERSION, Topics
from pipeline.venue import Gateway

__all__ = ["SimMessage", "Uplink", "network_delay"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_CLOCK_OFFSET_S: Final = 0.05
_CLOCK_DRIFT: Final = 20e-6
_STAMP_MIN_S: Final = 0.001
_STAMP_MEAN_S: Final = 0.005
_SEND_S: Final = (0.002, 0.020)
_NET_MIN_S: Final = 0.005
_NET_MEDIAN_S: Final = 0.020
_NET_SIGMA: Final = 0.5


@dataclass(frozen=True, slots=True)
class SimMessage:
    """A message as the broker receives it: ``topic``, arrival ``t`` (Unix s) and ``body``.

    ``body`` is the payload exactly as published: the compact JSON that
    :func:`mingle_wire.dumps` gives for :attr:`payload` (built as text directly, which
    is several times faster than building dicts for millions of readings).
    """

    topic: str
    body: bytes
    t: float

    @property
    def payload(self) -> dict[str, Any]:
        """The parsed payload (as ``json.loads(encode_readings(...))`` would give)."""
        obj: dict[str, Any] = json.loads(self.body)
        return obj

    def line(self) -> bytes:
        """This message as a recording line (what ``RecordingWriter.write`` writes for it)."""
        return b"".join((b'{"topic":', json.dumps(self.topic).encode(), b',"t":', repr(round(self.t, 3)).encode(),
                         b',"payload":', self.body, b"}\n"))  # fmt: skip


def network_delay(rng: np.random.Generator) -> float:
    """Seconds from sending to the broker: 5 ms + log-normal (median 20 ms)."""
    return _NET_MIN_S + _NET_MEDIAN_S * math.exp(_NET_SIGMA * float(rng.standard_normal()))


def ms(t: FloatArray) -> FloatArray:
    """Times quantised to the millisecond (so ``round(t, 3)`` leaves them unchanged)."""
    out: FloatArray = np.rint(t * 1000.0) / 1000.0
    return out


_Chunk = tuple[IntArray, IntArray, FloatArray, IntArray]
_NO_REPORT = -1
#: A gateway relays the neighbour report of an advertisement it heard at least this strongly.
RELAY_MIN_DBM: Final = -80


class Uplink:
    """Batches what ``gateways`` heard into per-window messages on ``topics``.

    ``badge_ids`` names the badge indices used in :meth:`receive`; ``tx_dbm`` is the
    measured power at 1 m every badge advertises (the ``tx`` field). ``start`` (Unix s)
    is when the clocks' drift is zero.
    """

    def __init__(
        self,
        topics: Topics,
        gateways: Sequence[Gateway],
        badge_ids: Sequence[str],
        tx_dbm: int,
        rng: np.random.Generator,
        start: float,
        contact_rng: np.random.Generator | None = None,
    ) -> None:
        self.topics = topics
        self.ids = tuple(g.id for g in gateways)
        self.badge_ids = tuple(badge_ids)
        self.tx_dbm = tx_dbm
        self._rng = rng
        self.start = start
        self.offset: FloatArray = rng.normal(0.0, _CLOCK_OFFSET_S, len(gateways))
        self.drift: FloatArray = rng.normal(0.0, _CLOCK_DRIFT, len(gateways))
        self._next: IntArray = np.floor(start + self.skew(start)).astype(np.int64)
        self._pending: list[dict[int, list[_Chunk]]] = [{} for _ in gateways]
        self.readings = 0
        self._contact_rng = contact_rng
        self._contacts: list[dict[int, list[tuple[float, int, tuple[str, ...]]]]] = [{} for _ in gateways]
        self._published = np.full((len(gateways), len(self.badge_ids)), _NO_REPORT, dtype=np.int64)
        self._relayed = np.full(len(self.badge_ids), _NO_REPORT, dtype=np.int64)
        self.contacts = 0
        self.reports_relayed = 0  # distinct reports some gateway relayed

    def skew(self, t: float) -> FloatArray:
        """Each gateway clock minus true time at true time ``t`` (seconds)."""
        out: FloatArray = self.offset + self.drift * (t - self.start)
        return out

    def receive(self, when: FloatArray, badge: IntArray, seq: IntArray, heard: BoolArray, rssi: IntArray) -> None:
        """Buffer what was heard: ``when`` true send time per badge row, ``heard``/``rssi`` ``(n, G)``."""
        rows, cols = np.nonzero(heard)
        if rows.size == 0:
            return
        delay = _STAMP_MIN_S + self._rng.exponential(_STAMP_MEAN_S, rows.size)
        true_t = when[rows] + delay
        ts = ms(true_t + self.offset[cols] + self.drift[cols] * (true_t - self.start))
        window = np.maximum(np.floor(ts).astype(np.int64), self._next[cols])
        order = np.lexsort((window, cols))
        b, r, t, s = badge[rows][order], rssi[rows, cols][order], ts[order], seq[rows][order]
        cols, window = cols[order], window[order]
        cut = np.flatnonzero((np.diff(cols) != 0) | (np.diff(window) != 0)) + 1
        for lo, hi in zip(np.r_[0, cut].tolist(), np.r_[cut, cols.size].tolist(), strict=True):
            chunks = self._pending[int(cols[lo])].setdefault(int(window[lo]), [])
            chunks.append((b[lo:hi], r[lo:hi], t[lo:hi], s[lo:hi]))

    def receive_reports(
        self,
        when: FloatArray,
        badge: IntArray,
        heard: BoolArray,
        rssi: IntArray,
        seq: IntArray,
        items: list[tuple[str, ...]],
    ) -> None:
        """Buffer neighbour reports carried by one round of advertisements (``heard``/``rssi``
        ``(n, G)`` as for :meth:`receive`): ``seq`` per badge row the report's id (-1: none),
        ``items`` per row its contacts, each the start of a JSON object
        (``{"badge":..,"near":..,"rssi":..``; ``ts`` and ``seq`` are added here)."""
        rng = self._contact_rng
        if rng is None:
            raise RuntimeError("this uplink was made without a generator for contacts")
        rows, cols = np.nonzero(heard & (rssi >= RELAY_MIN_DBM) & (seq >= 0)[:, None])
        fresh = self._published[cols, badge[rows]] != seq[rows]
        rows, cols = rows[fresh], cols[fresh]
        if rows.size == 0:
            return
        self._published[cols, badge[rows]] = seq[rows]
        first = (self._relayed[badge[rows]] != seq[rows]) & np.array([bool(items[r]) for r in rows.tolist()])
        self.reports_relayed += int(np.unique(badge[rows][first]).shape[0])
        self._relayed[badge[rows]] = seq[rows]
        true_t = when[rows] + _STAMP_MIN_S + rng.exponential(_STAMP_MEAN_S, rows.size)
        ts = ms(true_t + self.offset[cols] + self.drift[cols] * (true_t - self.start))
        window = np.maximum(np.floor(ts).astype(np.int64), self._next[cols])
        for r, j, t, k in zip(rows.tolist(), cols.tolist(), ts.tolist(), window.tolist(), strict=True):
            if items[r]:
                self._contacts[j].setdefault(k, []).append((t, int(seq[r]), items[r]))

    def _contact_message(self, j: int, k: int) -> SimMessage | None:
        got = self._contacts[j].pop(k, None)
        if not got:
            return None
        rng = self._contact_rng
        assert rng is not None
        sent = float(ms(np.array(k + 1 + rng.uniform(*_SEND_S)))[()])
        arrival = sent - float(self.skew(k + 1)[j]) + network_delay(rng)
        got.sort(key=lambda c: c[:2])
        parts = [f'{head},"ts":{t!r},"seq":{seq}}}' for t, seq, heads in got for head in heads]
        self.contacts += len(parts)
        head = f'{{"v":{PROTOCOL_VERSION},"gateway":"{self.ids[j]}","sent":{round(sent, 3)!r},"contacts":['
        body = head + ",".join(parts) + "]}"
        return SimMessage(self.topics.contacts(self.ids[j]), body.encode(), round(arrival, 3))

    def _window(self, j: int, k: int) -> list[SimMessage]:
        """The messages of gateway ``j``'s window ``k``: its readings, and its contacts if any."""
        out = [self._message(j, k)]
        contacts = self._contact_message(j, k) if self._contacts[j] else None
        if contacts is not None:
            out.append(contacts)
        return out

    def _message(self, j: int, k: int) -> SimMessage:
        chunks = self._pending[j].pop(k, [])
        sent = float(ms(np.array(k + 1 + self._rng.uniform(*_SEND_S)))[()])
        arrival = sent - float(self.skew(k + 1)[j]) + network_delay(self._rng)
        items = ""
        if chunks:
            b = np.concatenate([c[0] for c in chunks])
            r = np.concatenate([c[1] for c in chunks])
            t = np.concatenate([c[2] for c in chunks])
            s = np.concatenate([c[3] for c in chunks])
            order = np.lexsort((b, t))
            ids, tx = self.badge_ids, self.tx_dbm
            # Ids match ID_PATTERN (nothing to escape); ts is already on the millisecond, so
            # repr(ts) is what encode_readings writes for round(ts, 3).
            items = ",".join(
                [
                    f'{{"badge":"{ids[bi]}","rssi":{ri},"ts":{ti!r},"tx":{tx},"seq":{si}}}'
                    for bi, ri, ti, si in zip(
                        b[order].tolist(), r[order].tolist(), t[order].tolist(), s[order].tolist(), strict=True
                    )
                ]
            )
            self.readings += int(b.size)
        body = f'{{"v":{PROTOCOL_VERSION},"gateway":"{self.ids[j]}","sent":{round(sent, 3)!r},"readings":[{items}]}}'
        return SimMessage(self.topics.readings(self.ids[j]), body.encode(), round(arrival, 3))

    def close(self, t_end: float) -> list[SimMessage]:
        """Messages of every window that has ended by true time ``t_end``, by arrival then gateway."""
        last = np.floor(t_end + self.skew(t_end) - 1.0).astype(np.int64)
        out: list[SimMessage] = []
        for j in range(len(self.ids)):
            for k in range(int(self._next[j]), int(last[j]) + 1):
                out += self._window(j, k)
            self._next[j] = max(int(self._next[j]), int(last[j]) + 1)
        out.sort(key=lambda m: (m.t, m.topic))
        return out

    def drain(self) -> list[SimMessage]:
        """Close every window that holds readings (the end of a finite run)."""
        out: list[SimMessage] = []
        for j in range(len(self.ids)):
            if self._pending[j] or self._contacts[j]:
                last = max((*self._pending[j], *self._contacts[j]))
                for k in range(int(self._next[j]), last + 1):
                    out += self._window(j, k)
                self._next[j] = last + 1
        out.sort(key=lambda m: (m.t, m.topic))
        return out
