import numpy as np
import pytest

from pipeline.core.jit import pairwise_sum


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


def test_a_kernel_that_cannot_be_cached_is_compiled_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    import numba

    from pipeline.core import jit

    real = numba.njit

    def no_cache_dir(**options: object) -> object:
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'twice': no locator available for file '/ro/x.py'")
        return real(**options)

    monkeypatch.setattr(jit.numba, "njit", no_cache_dir)

    def twice(x: float) -> float:
        return 2.0 * x

    assert jit.compiled(twice)(1.5) == 3.0
