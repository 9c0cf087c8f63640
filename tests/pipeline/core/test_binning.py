"""The compiled loops that write the RSSI windows' store, against the whole-array formulation."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.binning import bin_cells, find_ascending
from pipeline.core.runs import runs

BITS = 5
SCALE, MAX_COUNT = 100.0, 255


def _store(slots: int, rng: np.random.Generator) -> tuple[np.ndarray, ...]:
    """A store part-filled: some cells already hold readings."""
    count = np.where(rng.random((slots, 1 << BITS)) < 0.3, rng.integers(1, 4, (slots, 1 << BITS)), 0).astype(np.uint8)
    level = np.where(count > 0, rng.integers(-9000, -4000, count.shape), np.iinfo(np.int16).max).astype(np.int16)
    last_ts = rng.uniform(990.0, 1000.0, slots)
    last_k = np.ceil(last_ts).astype(np.int64)
    heard = (count > 0).sum(axis=1).astype(np.int32)
    heard_recent = (count[:, :10] > 0).sum(axis=1).astype(np.int32)
    col_cells = (count > 0).sum(axis=0).astype(np.int64)
    return level, count, last_ts, last_k, heard, heard_recent, col_cells


def _numpy_bin(cell, rssi, ts, k, pair_slots, first_recent, store) -> None:  # type: ignore[no-untyped-def]
    """The store's earlier whole-array binning (the definition)."""
    level2, count2, last_ts, last_k, heard, heard_recent, col_cells = store
    mask = (1 << BITS) - 1
    starts, added = runs(cell)
    total = np.add.reduceat(rssi, starts)
    cell_key, cell_col = cell[starts] >> BITS, cell[starts] & mask
    pair_starts, cells_per_pair = runs(cell_key)
    reading_pair_starts = starts[pair_starts]
    np.maximum.at(last_ts, pair_slots, np.maximum.reduceat(ts, reading_pair_starts))
    np.maximum.at(last_k, pair_slots, np.maximum.reduceat(k, reading_pair_starts))
    slot = np.repeat(pair_slots, cells_per_pair)
    flat = (slot << BITS) | cell_col
    level, count = level2.reshape(-1), count2.reshape(-1)
    before = count[flat].astype(np.float64)
    fresh = before == 0
    heard += np.bincount(slot[fresh], minlength=heard.shape[0]).astype(np.int32)
    col_cells += np.bincount(cell_col[fresh], minlength=col_cells.shape[0])
    recent = fresh & (k[starts] >= first_recent)
    heard_recent += np.bincount(slot[recent], minlength=heard.shape[0]).astype(np.int32)
    prior = np.where(before > 0, level[flat] / SCALE, 0.0)
    after = before + added
    level[flat] = np.rint((prior * before + total) / after * SCALE).astype(np.int16)
    count[flat] = np.minimum(after, MAX_COUNT).astype(np.uint8)


@pytest.mark.parametrize("seed", range(5))
def test_binning_fills_the_cells_exactly_as_the_whole_array_formulation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    slots, n = 40, 600
    key = rng.integers(0, 25, n)  # 25 pairs: many readings per pair, and per cell
    ts = rng.uniform(990.0, 1002.0, n)
    k = np.ceil(ts).astype(np.int64)
    rssi = np.where(rng.random(n) < 0.5, np.round(rng.normal(-70, 8, n)), rng.normal(-70, 8, n))
    cell = (key << BITS) | (k & ((1 << BITS) - 1))
    order = np.argsort(cell, kind="stable")
    cell, ts, k, rssi = cell[order], ts[order], k[order], rssi[order]
    pair_slots = rng.permutation(slots)[: np.unique(key).shape[0]]
    mine, want = _store(slots, np.random.default_rng(seed)), _store(slots, np.random.default_rng(seed))
    bin_cells(cell, rssi, ts, k, BITS, pair_slots, SCALE, MAX_COUNT, 995, mine)
    _numpy_bin(cell, rssi, ts, k, pair_slots, 995, want)
    for got, expected in zip(mine, want, strict=True):
        assert got.tobytes() == expected.tobytes()
    assert not np.array_equal(mine[0], _store(slots, np.random.default_rng(seed))[0])  # (it did bin)


def test_binning_refuses_what_its_loop_would_read_past() -> None:
    store = _store(4, np.random.default_rng(0))
    cell = np.array([1 << BITS, 2 << BITS], dtype=np.int64)
    one = np.zeros(2)
    k = np.zeros(2, dtype=np.int64)
    with pytest.raises(IndexError, match="slots outside"):
        bin_cells(cell, one, one, k, BITS, np.array([0, 4]), SCALE, MAX_COUNT, 0, store)
    with pytest.raises(ValueError, match="2 slots for 1 pairs"):
        bin_cells(cell[:1].repeat(2), one, one, k, BITS, np.array([0, 1]), SCALE, MAX_COUNT, 0, store)
    with pytest.raises(ValueError, match="sorted"):
        bin_cells(cell[::-1].copy(), one, one, k, BITS, np.array([0, 1]), SCALE, MAX_COUNT, 0, store)
    with pytest.raises(ValueError, match="misaligned"):
        bin_cells(cell, one[:1], one, k, BITS, np.array([0, 1]), SCALE, MAX_COUNT, 0, store)
    with pytest.raises(ValueError, match="ring"):
        bin_cells(cell, one, one, k, BITS + 1, np.array([0, 1]), SCALE, MAX_COUNT, 0, store)


@pytest.mark.parametrize("seed", range(3))
def test_find_ascending_is_searchsorted(seed: int) -> None:
    rng = np.random.default_rng(seed)
    keys = np.unique(rng.integers(0, 500, 200))
    want = np.unique(rng.integers(-5, 510, 150))
    pos, found = find_ascending(keys, want)
    assert pos.tolist() == np.searchsorted(keys, want).tolist()
    assert found.tolist() == np.isin(want, keys).tolist()
    assert find_ascending(np.empty(0, dtype=np.int64), want)[0].tolist() == [0] * want.shape[0]
    with pytest.raises(ValueError, match="sorted"):
        find_ascending(keys, want[::-1].copy())


@pytest.mark.parametrize("seed", range(3))
def test_cell_order_is_a_stable_sort(seed: int) -> None:
    from pipeline.core.binning import cell_order

    rng = np.random.default_rng(seed)
    shift = 17
    badge = rng.integers(0, 300, 5000)
    cell = (badge << shift) | rng.integers(0, 40, 5000)  # many equal keys: their order is kept
    assert cell_order(cell, shift).tolist() == np.argsort(cell, kind="stable").tolist()
    assert cell_order(cell[:0], shift).tolist() == []
    with pytest.raises(ValueError, match="non-negative"):
        cell_order(np.array([3, -1]), shift)


def test_a_column_leaving_is_cleared_as_the_whole_array_formulation_cleared_it() -> None:
    from pipeline.core.binning import clear_column, leave_recent

    for col, used in ((5, 40), (0, 33), (31, 0)):
        mine, want = _store(40, np.random.default_rng(col)), _store(40, np.random.default_rng(col))
        level, count, _, _, heard, heard_recent, _ = mine
        leave_recent(count, heard_recent, col, used)
        dropped = clear_column(level, count, heard, col, used, np.iinfo(np.int16).max)
        w_level, w_count, _, _, w_heard, w_recent, _ = want
        cells = w_count[:used, col]
        w_recent[:used] -= cells > 0
        assert dropped == int(cells.sum(dtype=np.int64))
        w_heard[:used] -= cells > 0
        cells[:] = 0
        w_level[:used, col] = np.iinfo(np.int16).max
        for got, expected in zip(mine, want, strict=True):
            assert got.tobytes() == expected.tobytes()
    level, count, _, _, heard, _, _ = _store(4, np.random.default_rng(2))
    with pytest.raises(IndexError, match="column"):
        clear_column(level, count, heard, 1 << BITS, 4, 0)
    with pytest.raises(IndexError, match="slots"):
        clear_column(level, count, heard, 0, 5, 0)
