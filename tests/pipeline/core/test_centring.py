"""centre_rows and pairwise_sum: the compiled centring, bit for bit the plain formulation."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.centring import centre_rows, pairwise_sum


def _plain_centred(values: np.ndarray, smooth_s: int) -> np.ndarray:
    """The straightforward formulation `_centred` must reproduce bit for bit."""

    def box(a: np.ndarray) -> np.ndarray:
        pad = np.pad(a, ((0, 0), (smooth_s // 2 + 1, smooth_s - 1 - smooth_s // 2)))
        csum = np.cumsum(pad, axis=1, dtype=np.float32)
        return np.asarray(csum[:, smooth_s:] - csum[:, :-smooth_s], dtype=np.float32)

    present = ~np.isnan(values)
    filled = np.where(present, values, np.float32(0.0))
    filled -= (filled.sum(axis=1, dtype=np.float64) / np.maximum(present.sum(axis=1), 1)).astype(np.float32)[:, None]
    filled[~present] = 0.0
    if smooth_s > 1 and values.shape[0]:
        seen = box(present.astype(np.float32))
        total = box(filled)
        present = seen > 0
        filled = np.divide(total, seen, out=np.zeros_like(total), where=present)
        mean = filled.sum(axis=1, dtype=np.float64) / np.maximum(present.sum(axis=1), 1)
        filled -= mean.astype(np.float32)[:, None]
        filled[~present] = 0.0
    return np.asarray(filled, dtype=np.float32)


@pytest.mark.parametrize("seed", range(6))
def test_centring_is_bit_for_bit_the_plain_formulation(seed: int) -> None:
    rng = np.random.default_rng(seed)
    for _ in range(40):
        n, seconds, smooth_s = int(rng.integers(0, 60)), int(rng.integers(1, 35)), int(rng.integers(1, 7))
        values = (rng.normal(-70, 10, (n, seconds)) * 10.0 ** rng.integers(-6, 3)).astype(np.float32)
        values[rng.random((n, seconds)) < rng.random()] = np.nan
        values[rng.random((n, seconds)) < 0.05] = -0.0
        if n:
            values[0] = np.nan  # a row never heard
        rows = rng.permutation(n)[: int(rng.integers(0, n + 1))]  # some rows, in any order
        got, sumsq = np.empty((rows.shape[0], seconds), dtype=np.float32), np.empty(rows.shape[0])
        centre_rows(values, rows, smooth_s, got, sumsq)
        want = _plain_centred(values, smooth_s)[rows]
        assert got.tobytes() == want.tobytes()
        assert sumsq.tobytes() == _running_sum(want.astype(np.float64) ** 2).tobytes()


def _running_sum(a: np.ndarray) -> np.ndarray:
    """Per row, the float64 sum of ``a`` added left to right (``np.cumsum`` adds in order)."""
    return np.asarray(np.cumsum(a, axis=1)[:, -1] if a.shape[1] else np.zeros(a.shape[0]), dtype=np.float64)


@pytest.mark.parametrize("seed", range(3))
def test_pairwise_sum_is_bit_for_bit_numpys_float64_sum_of_a_float32_row(seed: int) -> None:
    rng = np.random.default_rng(seed)
    lengths = [*range(0, 140), 255, 256, 257, 1000, 1031, 8191, 8192, 8193, 20_000]
    for n in lengths:
        # Magnitudes over ten decades, so the order of the additions shows in the last bits.
        a = (rng.normal(0, 1, n) * 10.0 ** rng.integers(-5, 5, n)).astype(np.float32)
        a[rng.random(n) < 0.05] = -0.0
        assert np.float64(pairwise_sum(a)).tobytes() == a.sum(dtype=np.float64).tobytes(), n
    # A plain left-to-right sum differs somewhere: the test can tell the orders apart.
    a = (rng.normal(0, 1, 1000) * 10.0 ** rng.integers(-5, 5, 1000)).astype(np.float32)
    assert any(np.float64(pairwise_sum(a[:k])) != np.cumsum(a[:k], dtype=np.float64)[-1] for k in range(9, 1000, 7))
