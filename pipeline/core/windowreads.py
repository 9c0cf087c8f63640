"""The RSSI windows' compiled loops that read the store: series, live pairs and summaries.

:func:`gather_series` copies the per-second levels of the slots asked for, heard often
enough, into a series table in one pass; :func:`live_pairs` picks the pairs a summary
covers. A summary sorts each live slot's levels and reads its median and IQR off them
(:func:`slot_quartiles`): a block of slots at a time, through a sorting network run across
the block, where numpy sorted each short row on its own (its cost was the call per row).
What writes the store is in :mod:`.binning`.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from .jit import check_indices, compiled, in_parts

__all__ = ["gather_series", "live_pairs", "slot_quartiles"]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def gather_series(
    level: npt.NDArray[np.int16],
    slots: IntArray,
    cols: IntArray,
    offset: int,
    min_heard: int,
    empty: int,
    dbm: npt.NDArray[np.float32],
    values: npt.NDArray[np.float32],
    heard: npt.NDArray[np.bool_],
) -> int:
    """The slots (rows of ``level``) heard in at least ``min_heard`` of the ring columns
    ``cols`` (in time order; ``empty``: none in that second), packed in order into the rows of ``values`` from column
    ``offset``, each level converted by the table ``dbm`` (indexed by its bit pattern as
    uint16: NaN for none); ``heard[k]`` whether slot ``k`` was kept. Returns how many were."""
    m = slots.shape[0]
    if heard.shape[0] != m or values.shape[0] < m or offset < 0 or offset + cols.shape[0] > values.shape[1]:
        raise ValueError(
            f"{m} slots, {heard.shape[0]} flags, values {values.shape}, {cols.shape[0]} columns at {offset}"
        )
    check_indices(slots, level.shape[0], f"slots outside the store's {level.shape[0]}")
    check_indices(cols, level.shape[1], f"columns outside the ring's {level.shape[1]}")
    if dbm.shape[0] != 1 << 16:
        raise ValueError("the level table must cover every int16")
    return int(_series(level, slots, cols, offset, min_heard, np.int16(empty), dbm, values, heard))


@compiled
def _series(
    level: npt.NDArray[np.int16],
    slots: IntArray,
    cols: IntArray,
    offset: int,
    min_heard: int,
    empty: np.int16,
    dbm: npt.NDArray[np.float32],
    values: npt.NDArray[np.float32],
    heard: npt.NDArray[np.bool_],
) -> int:
    kept = 0
    for k in range(slots.shape[0]):
        row = slots[k]
        n = 0
        for c in range(cols.shape[0]):
            n += level[row, cols[c]] != empty
        heard[k] = n >= min_heard
        if n >= min_heard:
            for c in range(cols.shape[0]):
                values[kept, offset + c] = dbm[np.uint16(level[row, cols[c]])]
            kept += 1
    return kept


def live_pairs(
    keys: IntArray,
    slot_of: IntArray,
    heard: npt.NDArray[np.int32],
    least: int,
    last_ts: FloatArray,
    gateway_bits: int,
) -> tuple[IntArray, IntArray, IntArray, FloatArray, IntArray]:
    """The pairs (sorted ``keys``, badge << ``gateway_bits`` | gateway, held in ``slot_of``)
    heard in at least ``least`` seconds (``heard[slot]``), in key order: their badges,
    gateways, seconds heard, newest readings' times (``last_ts[slot]``) and slots."""
    if keys.shape[0] != slot_of.shape[0]:
        raise ValueError(f"{keys.shape[0]} keys for {slot_of.shape[0]} slots")
    rows = min(heard.shape[0], last_ts.shape[0])
    check_indices(slot_of, rows, f"slots outside the store's {rows}")
    m = int(_count_live(slot_of, heard, least))
    badge, gateway, count = (np.empty(m, dtype=np.int64) for _ in range(3))
    last, slots = np.empty(m), np.empty(m, dtype=np.int64)
    _fill_live(keys, slot_of, heard, least, last_ts, gateway_bits, badge, gateway, count, last, slots)
    return badge, gateway, count, last, slots


@compiled
def _count_live(slot_of: IntArray, heard: npt.NDArray[np.int32], least: int) -> int:
    m = 0
    for k in range(slot_of.shape[0]):
        m += heard[slot_of[k]] >= least
    return m


@compiled
def _fill_live(
    keys: IntArray,
    slot_of: IntArray,
    heard: npt.NDArray[np.int32],
    least: int,
    last_ts: FloatArray,
    bits: int,
    badge: IntArray,
    gateway: IntArray,
    count: IntArray,
    last: FloatArray,
    slots: IntArray,
) -> None:
    mask = (1 << bits) - 1
    m = 0
    for k in range(slot_of.shape[0]):
        s = slot_of[k]
        if heard[s] >= least:
            badge[m] = keys[k] >> bits
            gateway[m] = keys[k] & mask
            count[m] = heard[s]
            last[m] = last_ts[s]
            slots[m] = s
            m += 1


@functools.cache
def _network(size: int) -> tuple[IntArray, IntArray]:
    """Batcher's odd-even merge sort for ``size`` (a power of two) values, as its
    compare-exchange pairs (lower place, higher place) in order."""
    lower, higher = [], []
    p = 1
    while p < size:
        k = p
        while k >= 1:
            for j in range(k % p, size - k, 2 * k):
                for i in range(min(k, size - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        lower.append(i + j)
                        higher.append(i + j + k)
            k //= 2
        p *= 2
    return np.array(lower, dtype=np.int64), np.array(higher, dtype=np.int64)


def slot_quartiles(
    level: npt.NDArray[np.int16],
    slots: IntArray,
    cols: IntArray,
    count: IntArray,
    empty: int,
    scale: float,
    median: FloatArray,
    iqr: FloatArray,
) -> None:
    """Per slot (rows of ``level``): its levels in the ring columns ``cols`` sorted (``empty``
    last), and the median and IQR of the first ``count`` of them (its heard seconds) read off,
    by linear interpolation between order statistics (numpy's default quantile): the quartile
    num / 4 at num * (count - 1) / 4, taken in integers (floor and remainder) as the store's
    whole-array formulation took it. Into ``median`` and ``iqr``.

    The slots are sorted a block at a time, laid out column-wise so that each step of a
    sorting network (Batcher's odd-even merge sort, padded with ``empty`` to a power of two)
    is one vectorised min/max along the block: numpy sorts each short row on its own, and the
    cost of that is the call per row, not the comparisons."""
    m = slots.shape[0]
    width = cols.shape[0]
    if not count.shape[0] == median.shape[0] == iqr.shape[0] == m:
        raise ValueError(f"{m} slots, {count.shape[0]} counts, {median.shape[0]} and {iqr.shape[0]} outputs")
    check_indices(slots, level.shape[0], f"slots outside the store's {level.shape[0]}")
    check_indices(cols, level.shape[1], f"columns outside the ring's {level.shape[1]}")
    if m and (int(count.min()) < 0 or int(count.max()) > width):
        raise ValueError(f"counts outside 0..{width}")
    if m == 0:
        return
    size = 1 << max(width - 1, 0).bit_length()
    lower, higher = _network(size)
    args = (level, slots, cols, size, lower, higher, count, np.int16(empty), scale, median, iqr)
    in_parts(_network_quartiles, m, _QUARTILE_PART, *args)


_BLOCK_SLOTS = 256  # slots sorted together: a block of 32 columns is 16 kB, in the fastest cache


_QUARTILE_PART = 32 * _BLOCK_SLOTS  # slots at least per part of the summaries run at once (about 1 ms)


@compiled
def _network_quartiles(
    start: int,
    stop: int,
    level: npt.NDArray[np.int16],
    slots: IntArray,
    cols: IntArray,
    size: int,
    lower: IntArray,
    higher: IntArray,
    count: IntArray,
    empty: np.int16,
    scale: float,
    median: FloatArray,
    iqr: FloatArray,
) -> None:
    width = cols.shape[0]
    block = np.empty((size, _BLOCK_SLOTS), dtype=np.int16)
    q = np.empty(3)
    for lo in range(start, stop, _BLOCK_SLOTS):
        nb = min(_BLOCK_SLOTS, stop - lo)
        for r in range(nb):
            row = slots[lo + r]
            for c in range(width):
                block[c, r] = level[row, cols[c]]
        block[width:, :nb] = empty
        for p in range(lower.shape[0]):
            a = block[lower[p]]
            b = block[higher[p]]
            for r in range(nb):
                x, y = a[r], b[r]
                a[r] = min(x, y)
                b[r] = max(x, y)
        for r in range(nb):
            last = max(count[lo + r] - 1, 0)
            for num in range(1, 4):
                pos = num * last
                at = pos >> 2
                u = block[at, r] / scale
                v = block[min(at + 1, last), r] / scale
                q[num - 1] = u + (v - u) * ((pos & 3) / 4.0)
            median[lo + r] = q[1]
            iqr[lo + r] = q[2] - q[0]
