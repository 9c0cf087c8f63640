"""runs, ranks and find_sorted against their plain formulations."""

from __future__ import annotations

import numpy as np
import pytest


def test_runs_and_ranks_of_a_sorted_key() -> None:
    from pipeline.core.runs import ranks, runs

    starts, counts = runs(np.array([3, 3, 5, 7, 7, 7]))
    assert starts.tolist() == [0, 2, 3] and counts.tolist() == [2, 1, 3]
    assert ranks(counts).tolist() == [0, 1, 0, 0, 1, 2]
    assert ranks(np.array([0, 2, 0, 1])).tolist() == [0, 1, 0]
    assert [a.tolist() for a in runs(np.empty(0))] == [[], []]


@pytest.mark.parametrize("seed", range(3))
def test_runs_are_the_plain_formulation_on_random_keys(seed: int) -> None:
    from pipeline.core.runs import runs

    rng = np.random.default_rng(seed)
    for _ in range(50):
        keys = np.sort(rng.integers(0, int(rng.integers(1, 30)), int(rng.integers(1, 200))))
        if rng.random() < 0.3:
            keys = keys.astype(np.float32)
        plain_starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]).astype(np.int64)
        plain_counts = np.diff(np.r_[plain_starts, keys.shape[0]]).astype(np.int64)
        starts, counts = runs(keys)
        assert starts.dtype == counts.dtype == np.int64
        assert starts.tobytes() == plain_starts.tobytes() and counts.tobytes() == plain_counts.tobytes()


def test_find_sorted_gives_valid_positions_and_what_is_there() -> None:
    from pipeline.core.runs import find_sorted

    keys = np.array([2, 5, 9], dtype=np.int64)
    pos, found = find_sorted(keys, np.array([5, 1, 9, 12, 2], dtype=np.int64))
    assert pos.tolist() == [1, 0, 2, 2, 0] and found.tolist() == [True, False, True, False, True]
    pos, found = find_sorted(np.empty(0, dtype=np.int64), np.array([3], dtype=np.int64))
    assert pos.tolist() == [0] and found.tolist() == [False]
