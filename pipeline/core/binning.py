"""The RSSI windows' compiled loops: a batch of readings put into the per-second cells, and
the quartiles read off sorted rows.

:class:`~pipeline.core.windows.RssiWindows` keeps, per (badge, gateway) slot and whole second,
the mean level of the readings stamped in that second and how many there were. A batch of
readings, sorted by cell (pair key, then ring column), is binned here: each run of readings of
one cell is added to it (the cell's mean is the mean over its old and new readings, rounded to
the store's 0.01 dB steps), and the counters the summaries read are kept up to date. As whole
arrays this was a dozen numpy passes with temporaries as long as the batch; the arithmetic
is the same, operation for operation, so the cells hold the same values (tested). One
difference: a cell's new readings are added as a running sum, where numpy's ``reduceat``
added them in its own order (and the unstable sort before it put them in any order): for
whole-dBm readings, which is what BLE radios report, that changes nothing; three or more
fractional readings in one cell in one batch could round its 0.01 dB mean the other way at
a tie.

:func:`gather_series` copies the per-second levels of the slots asked for, heard often
enough, into a series table in one pass.

A summary sorts each live slot's levels and reads its median and IQR off them
(:func:`slot_quartiles`): a block of slots at a time, through a sorting network run across
the block, where numpy sorted each short row on its own (its cost was the call per row).
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt

from .jit import compiled, in_parts

__all__ = [
    "bin_cells",
    "cell_order",
    "clear_column",
    "find_ascending",
    "gather_series",
    "leave_recent",
    "live_pairs",
    "slot_quartiles",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def bin_cells(
    cell: IntArray,
    rssi: FloatArray,
    ts: FloatArray,
    k: IntArray,
    bits: int,
    pair_slot: IntArray,
    scale: float,
    max_count: int,
    first_recent: int,
    store: tuple[
        npt.NDArray[np.int16],
        npt.NDArray[np.uint8],
        FloatArray,
        IntArray,
        npt.NDArray[np.int32],
        npt.NDArray[np.int32],
        IntArray,
    ],
) -> None:
    """Bin readings sorted by ``cell`` (pair key << ``bits`` | ring column; ``rssi``, ``ts``
    and second ``k`` aligned with it) into ``store``: the level and count tables [slot,
    column], and per slot the newest reading's time and second, the seconds heard in the
    ring and in the recent window (seconds ``k >= first_recent``), and per column the cells
    heard. ``pair_slot`` is the slot of each pair key, in the cells' order.

    The slots and columns are the store's own; they are checked here, once, since the loop
    checks no bounds.
    """
    level, count, last_ts, last_k, heard, heard_recent, col_cells = store
    n = cell.shape[0]
    if not rssi.shape[0] == ts.shape[0] == k.shape[0] == n:
        raise ValueError(f"readings misaligned: {n} cells, {rssi.shape[0]} levels, {ts.shape[0]} times")
    if n == 0:
        return
    if np.any(cell[1:] < cell[:-1]):
        raise ValueError("cells must come sorted")
    pairs = int(np.count_nonzero((cell[1:] >> bits) != (cell[:-1] >> bits))) + 1
    if pair_slot.shape[0] != pairs:
        raise ValueError(f"{pair_slot.shape[0]} slots for {pairs} pairs")
    if int(pair_slot.min()) < 0 or int(pair_slot.max()) >= level.shape[0]:
        raise IndexError(f"slots outside the store's {level.shape[0]}")
    if level.shape[1] != 1 << bits or count.shape != level.shape or col_cells.shape[0] != level.shape[1]:
        raise ValueError("the store's tables do not match its ring")
    if min(a.shape[0] for a in (last_ts, last_k, heard, heard_recent)) < level.shape[0]:
        raise ValueError("the store's per-slot arrays are shorter than its tables")
    _bin(cell, rssi, ts, k, bits, pair_slot, scale, max_count, first_recent, *store)


@compiled
def _bin(
    cell: IntArray,
    rssi: FloatArray,
    ts: FloatArray,
    k: IntArray,
    bits: int,
    pair_slot: IntArray,
    scale: float,
    max_count: int,
    first_recent: int,
    level: npt.NDArray[np.int16],
    count: npt.NDArray[np.uint8],
    last_ts: FloatArray,
    last_k: IntArray,
    heard: npt.NDArray[np.int32],
    heard_recent: npt.NDArray[np.int32],
    col_cells: IntArray,
) -> None:
    mask = (1 << bits) - 1
    n = cell.shape[0]
    p = -1
    key = -1
    slot = 0
    i = 0
    while i < n:
        c = cell[i]
        if c >> bits != key:  # the next pair
            key = c >> bits
            p += 1
            slot = pair_slot[p]
        col = c & mask
        total = 0.0
        j = i
        while j < n and cell[j] == c:
            total += rssi[j]
            if ts[j] > last_ts[slot]:
                last_ts[slot] = ts[j]
            if k[j] > last_k[slot]:
                last_k[slot] = k[j]
            j += 1
        before = np.float64(count[slot, col])
        if before == 0:  # a cell heard for the first time
            heard[slot] += 1
            col_cells[col] += 1
            if k[i] >= first_recent:
                heard_recent[slot] += 1
            prior = 0.0
        else:
            prior = level[slot, col] / scale
        after = before + (j - i)
        level[slot, col] = np.int16(np.rint((prior * before + total) / after * scale))
        count[slot, col] = np.uint8(min(after, max_count))
        i = j


def cell_order(cell: IntArray, shift: int) -> IntArray:
    """The order that sorts ``cell`` (non-negative keys whose bits from ``shift`` up are a
    badge index), equal keys in the order given (a stable sort): the readings a badge sent
    gathered by badge first (a counting sort), then each badge's dozen or so sorted in place."""
    n = cell.shape[0]
    if n == 0:
        return np.empty(0, dtype=np.int64)
    if int(cell.min()) < 0:
        raise ValueError("cells must be non-negative")
    counts = np.bincount(cell >> shift)
    starts = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    order = np.empty(n, dtype=np.int64)
    _cell_order(cell, shift, starts, order)
    return order


@compiled
def _cell_order(cell: IntArray, shift: int, starts: IntArray, order: IntArray) -> None:
    at = starts[:-1].copy()
    for i in range(cell.shape[0]):
        b = cell[i] >> shift
        order[at[b]] = i
        at[b] += 1
    for b in range(starts.shape[0] - 1):
        lo, hi = starts[b], starts[b + 1]
        for j in range(lo + 1, hi):  # insertion: after every entry with a key at most its own
            x = order[j]
            v = cell[x]
            k = j
            while k > lo and cell[order[k - 1]] > v:
                order[k] = order[k - 1]
                k -= 1
            order[k] = x


def clear_column(
    level: npt.NDArray[np.int16],
    count: npt.NDArray[np.uint8],
    heard: npt.NDArray[np.int32],
    col: int,
    used: int,
    empty: int,
) -> int:
    """Empty ring column ``col`` of slots ``[0, used)`` (a second leaving the store): each
    cell heard is emptied and its slot's ``heard`` count lowered. Returns how many readings
    the column held. (A cell never heard already holds ``empty``.)"""
    _check_column(level, count, heard, col, used)
    return int(_clear_column(level, count, heard, col, used, np.int16(empty)))


def leave_recent(count: npt.NDArray[np.uint8], heard_recent: npt.NDArray[np.int32], col: int, used: int) -> None:
    """Ring column ``col`` leaves the recent window: lower ``heard_recent`` of each slot in
    ``[0, used)`` heard in it."""
    _check_column(count, count, heard_recent, col, used)
    _leave_recent(count, heard_recent, col, used)


def _check_column(
    level: npt.NDArray[np.generic], count: npt.NDArray[np.uint8], heard: npt.NDArray[np.int32], col: int, used: int
) -> None:
    if not 0 <= col < min(level.shape[1], count.shape[1]):
        raise IndexError(f"column {col} outside the ring's {count.shape[1]}")
    if not 0 <= used <= min(level.shape[0], count.shape[0], heard.shape[0]):
        raise IndexError(f"{used} slots, beyond the store's {min(level.shape[0], count.shape[0], heard.shape[0])}")


@compiled
def _clear_column(
    level: npt.NDArray[np.int16],
    count: npt.NDArray[np.uint8],
    heard: npt.NDArray[np.int32],
    col: int,
    used: int,
    empty: np.int16,
) -> int:
    dropped = 0
    for s in range(used):
        c = count[s, col]
        if c:
            dropped += c
            heard[s] -= 1
            count[s, col] = 0
            level[s, col] = empty
    return dropped


@compiled
def _leave_recent(count: npt.NDArray[np.uint8], heard_recent: npt.NDArray[np.int32], col: int, used: int) -> None:
    for s in range(used):
        if count[s, col]:
            heard_recent[s] -= 1


def find_ascending(keys: IntArray, want: IntArray) -> tuple[IntArray, npt.NDArray[np.bool_]]:
    """Where each of ascending ``want`` is, or would go, in ascending ``keys`` (as
    ``np.searchsorted(keys, want)``), and whether it is there: one walk along both, not a
    binary search each."""
    if want.shape[0] > 1 and np.any(want[1:] < want[:-1]):
        raise ValueError("want must come sorted")
    pos = np.empty(want.shape[0], dtype=np.int64)
    found = np.empty(want.shape[0], dtype=np.bool_)
    _walk(keys, want, pos, found)
    return pos, found


@compiled
def _walk(keys: IntArray, want: IntArray, pos: IntArray, found: npt.NDArray[np.bool_]) -> None:
    j = 0
    m = keys.shape[0]
    for i in range(want.shape[0]):
        w = want[i]
        while j < m and keys[j] < w:
            j += 1
        pos[i] = j
        found[i] = j < m and keys[j] == w


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
    if m and (int(slots.min()) < 0 or int(slots.max()) >= level.shape[0]):
        raise IndexError(f"slots outside the store's {level.shape[0]}")
    if cols.shape[0] and (int(cols.min()) < 0 or int(cols.max()) >= level.shape[1]):
        raise IndexError(f"columns outside the ring's {level.shape[1]}")
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
    if slot_of.shape[0] and (int(slot_of.min()) < 0 or int(slot_of.max()) >= min(heard.shape[0], last_ts.shape[0])):
        raise IndexError(f"slots outside the store's {min(heard.shape[0], last_ts.shape[0])}")
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
    if m and (int(slots.min()) < 0 or int(slots.max()) >= level.shape[0]):
        raise IndexError(f"slots outside the store's {level.shape[0]}")
    if width and (int(cols.min()) < 0 or int(cols.max()) >= level.shape[1]):
        raise IndexError(f"columns outside the ring's {level.shape[1]}")
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
