"""The RSSI windows' compiled loops that write the store: a batch of readings put into the
per-second cells, and seconds leaving it cleared.

:class:`~pipeline.core.windows.RssiWindows` keeps, per (badge, gateway) slot and whole second,
the mean level of the readings stamped in that second and how many there were. A batch of
readings, put in cell order (pair key, then ring column; :func:`cell_order`), is binned here:
each run of readings of one cell is added to it (the cell's mean is the mean over its old and
new readings, rounded to the store's 0.01 dB steps), and the counters the summaries read are
kept up to date. As whole arrays this was a dozen numpy passes with temporaries as long as
the batch; the arithmetic is the same, operation for operation, so the cells hold the same
values (tested). One difference: a cell's new readings are added as a running sum, where
numpy's ``reduceat`` added them in its own order (and the unstable sort before it put them in
any order): for whole-dBm readings, which is what BLE radios report, that changes nothing;
three or more fractional readings in one cell in one batch could round its 0.01 dB mean the
other way at a tie. What reads the store is in :mod:`.windowreads`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .jit import check_indices, compiled

__all__ = ["bin_cells", "cell_order", "clear_column", "find_ascending", "leave_recent"]

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
    check_indices(pair_slot, level.shape[0], f"slots outside the store's {level.shape[0]}")
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
