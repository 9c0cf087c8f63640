import pytest


def test_a_kernel_that_cannot_be_cached_is_compiled_afresh(monkeypatch: pytest.MonkeyPatch) -> None:
    import numba

    from pipeline.core import jit

    real = numba.njit

    def no_cache_dir(*args: object, **options: object) -> object:  # (numba calls njit itself too)
        if options.get("cache"):
            raise RuntimeError("cannot cache function 'twice': no locator available for file '/ro/x.py'")
        return real(*args, **options)

    monkeypatch.setattr(jit.numba, "njit", no_cache_dir)

    def twice(x: float) -> float:
        return 2.0 * x

    assert jit.compiled(twice)(1.5) == 3.0
