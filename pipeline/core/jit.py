"""Compiled loops, for the few places where a tick's cost is numpy's bookkeeping, not its arithmetic.

Ragged per-pair work (each pair of badges compares the dozen gateways one of them hears) does
not fit whole-array numpy well: every step allocates and fills a temporary as long as all the
pairs' gateways together, and the arithmetic itself is a small part of the time. numba
compiles a plain loop over the pairs instead (LLVM; the wheel carries its own, no compiler is
needed on the machine).

Kernels are compiled on their first call and cached on disk (``cache=True``: the next process
loads them in milliseconds). ``fastmath`` stays off, so IEEE arithmetic is kept operation for
operation: a kernel that adds in the order its numpy formulation did gives the same bits, and
its tests compare them bit for bit. ``nogil`` lets another thread run while a kernel does.

A compiled function calls only compiled functions of its own module: numba's cache is kept
per module and checks only that module's source, so a kernel calling one from another
module would go on running the other's cached old version after it changed.

:func:`in_parts` runs a kernel whose rows are independent (each badge's fit, each pair's
sums) over parts of its rows on the machine's cores at once: the kernels release the GIL, so
plain threads run them in parallel. Each row's result is the same however the rows are split.
Threads, not numba's ``parallel=True``: its OpenMP layer is not safe across ``fork`` and its
default layer not across threads, and a tick's callers may do either.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["check_indices", "check_pairs", "compiled", "in_parts"]

F = TypeVar("F", bound=Callable[..., Any])


def compiled(fn: F) -> F:
    """``fn`` compiled by numba (no Python objects inside; cached on disk; IEEE order kept).

    Where no cache directory can be written (beside the source, or the user's cache, or
    ``NUMBA_CACHE_DIR``), each process compiles afresh rather than failing to import.
    """
    try:
        return cast(F, numba.njit(cache=True, nogil=True)(fn))
    except RuntimeError:  # numba: "cannot cache function ...: no locator available"
        return cast(F, numba.njit(nogil=True)(fn))


def check_indices(index: npt.NDArray[np.integer[Any]], n: int, message: str) -> None:
    """``IndexError(message)`` unless every one of ``index`` is in ``0 .. n - 1``: an index a
    compiled loop is given is checked before, since it checks no bounds itself."""
    if index.shape[0] and (int(index.min()) < 0 or int(index.max()) >= n):
        raise IndexError(message)


def check_pairs(row: npt.NDArray[np.int64], col: npt.NDArray[np.int64], n: int, of: str) -> None:
    """Pairs as two aligned 1-D arrays of rows in ``0 .. n - 1`` (of ``n`` ``of``), or
    ``ValueError`` / ``IndexError``: what a compiled loop over pairs is given is checked
    before, since it checks no bounds itself (a pair past its arrays would read any memory)."""
    if row.ndim != 1 or row.shape != col.shape:
        raise ValueError(f"pairs must be two aligned 1-D arrays, got shapes {row.shape} and {col.shape}")
    check_indices(row, n, f"pairs name badges outside the {n} {of}")
    check_indices(col, n, f"pairs name badges outside the {n} {of}")


# Threads for in_parts: one per core, up to 4 (a tick's kernels are short; more parts cost
# more to hand out than they save). Made on first use in each process (a forked child gets
# the parent's pool without its threads, so it makes its own).
_THREADS = max(1, min(os.cpu_count() or 1, 4))
_pool: tuple[int, ThreadPoolExecutor] | None = None


def _executor() -> ThreadPoolExecutor:
    global _pool
    if _pool is None or _pool[0] != os.getpid():
        _pool = (os.getpid(), ThreadPoolExecutor(max_workers=_THREADS - 1, thread_name_prefix="mingle-kernel"))
    return _pool[1]


def in_parts(kernel: Callable[..., None], n: int, least: int, *args: Any) -> None:
    """``kernel(lo, hi, *args)`` over rows ``[0, n)``: in one call below ``2 * least`` rows,
    else in up to one part per core (each at least ``least`` rows), the first in this thread
    and the rest on worker threads, all finished before it returns. ``kernel`` must release
    the GIL (``compiled`` kernels do) and write only its own rows' results."""
    parts = min(_THREADS, n // max(least, 1))
    if parts <= 1:
        kernel(0, n, *args)
        return
    bounds = [n * k // parts for k in range(parts + 1)]
    pool = _executor()
    rest = [pool.submit(kernel, bounds[k], bounds[k + 1], *args) for k in range(1, parts)]
    try:
        kernel(bounds[0], bounds[1], *args)
    finally:
        for f in rest:
            f.result()
