import itertools

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


def _record_part(lo: int, hi: int, out: list[tuple[int, int, str]]) -> None:
    import threading

    out.append((lo, hi, threading.current_thread().name))


def test_in_parts_covers_every_row_once_and_spreads_big_jobs_over_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.core import jit

    monkeypatch.setattr(jit, "_THREADS", 3)
    monkeypatch.setattr(jit, "_pool", None)
    for n, least, parts in ((10, 100, 1), (250, 100, 2), (1000, 100, 3), (0, 5, 1)):
        got: list[tuple[int, int, str]] = []
        jit.in_parts(_record_part, n, least, got)
        spans = sorted((lo, hi) for lo, hi, _ in got)
        assert len(spans) == parts and spans[0][0] == 0 and spans[-1][1] == n
        assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # end to end, no gap
        threads = {name for *_, name in got}
        assert ("MainThread" in threads) and (len(threads) > 1) == (
            parts > 1
        )  # the first part here, the rest on workers

    def fails(lo: int, hi: int) -> None:
        if lo > 0:
            raise ValueError("a worker's part failed")

    with pytest.raises(ValueError, match="worker's part"):
        jit.in_parts(fails, 1000, 100)


def test_in_parts_works_in_a_forked_child_after_the_parent_made_its_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    import multiprocessing

    from pipeline.core import jit

    monkeypatch.setattr(jit, "_THREADS", 2)
    monkeypatch.setattr(jit, "_pool", None)
    jit.in_parts(_record_part, 100, 10, [])  # the parent's pool, with its thread
    child = multiprocessing.get_context("fork").Process(target=_child_in_parts)
    child.start()
    child.join(timeout=30)  # (a child reusing the parent's pool would wait for a thread it does not have)
    assert child.exitcode == 0


def _child_in_parts() -> None:
    import os

    from pipeline.core import jit

    got: list[tuple[int, int, str]] = []
    jit.in_parts(_record_part, 100, 10, got)
    os._exit(0 if len(got) == 2 and jit._pool is not None and jit._pool[0] == os.getpid() else 1)


def test_kernels_give_the_same_results_split_into_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    import numpy as np

    from pipeline.core import centring, jit, positioning, profiles, windowreads
    from pipeline.core.radio import PathLoss
    from pipeline.core.windows import PairSummary

    rng = np.random.default_rng(4)
    n, g = 300, 40
    prof = np.where(rng.random((n, g)) < 0.4, np.round(rng.normal(-80, 8, (n, g)), 2), np.nan)
    p = profiles.Profiles.from_dense(prof)
    row, col = np.sort(rng.integers(0, n, 3000)), rng.integers(0, n, 3000)
    values = np.where(rng.random((500, 30)) < 0.7, rng.normal(-75, 5, (500, 30)), np.nan).astype(np.float32)
    rows = rng.permutation(500)[:400]
    level = np.where(rng.random((600, 32)) < 0.6, rng.integers(-9000, -4000, (600, 32)), 32767).astype(np.int16)
    slots, cols = rng.permutation(600)[:500], np.arange(4, 17)
    count = (level[slots][:, cols] != 32767).sum(axis=1)
    gateways = np.c_[rng.uniform(0, 40, (g, 2)), np.full(g, 3.0)]
    badge = np.repeat(np.arange(n), 6)
    gw = np.concatenate([np.sort(rng.choice(g, 6, replace=False)) for _ in range(n)])
    summary = PairSummary(badge, gw, rng.normal(-70, 6, badge.shape[0]), np.zeros(badge.shape[0]),
                          np.full(badge.shape[0], 10), np.zeros(badge.shape[0]))  # fmt: skip
    fitter = positioning.Multilaterator(gateways, (40.0, 40.0))
    model = PathLoss(np.full(g, -59.0), np.full(g, 2.0))

    def everything() -> list[bytes]:
        out = [a.tobytes() for a in profiles.profile_sums(p, row, col)]
        centred, sumsq = np.empty((400, 30), dtype=np.float32), np.empty(400)
        centring.centre_rows(values, rows, 3, centred, sumsq)
        median, iqr = np.empty(500), np.empty(500)
        windowreads.slot_quartiles(level, slots, cols, count, 32767, 100.0, median, iqr)
        fixes = fitter.locate(summary, model)
        return [*out, centred.tobytes(), sumsq.tobytes(), median.tobytes(), iqr.tobytes(), fixes.x.tobytes(),
                fixes.y.tobytes(), fixes.err.tobytes()]  # fmt: skip

    whole = everything()
    monkeypatch.setattr(jit, "_THREADS", 3)
    monkeypatch.setattr(jit, "_pool", None)
    for module, name in ((profiles, "_PAIR_PART"), (centring, "_CENTRE_PART"), (positioning, "_FIT_PART")):
        monkeypatch.setattr(module, name, 7)
    monkeypatch.setattr(windowreads, "_QUARTILE_PART", 3)  # (parts of 3 slots: blocks cut short, too)
    calls: list[int] = []
    real = jit.in_parts

    def counting(kernel, n, least, *args):  # type: ignore[no-untyped-def]
        calls.append(min(jit._THREADS, n // least))
        real(kernel, n, least, *args)

    for module in (profiles, centring, positioning, windowreads):
        monkeypatch.setattr(module, "in_parts", counting)
    assert everything() == whole
    assert len(calls) == 4 and min(calls) == 3  # every kernel was split in three
