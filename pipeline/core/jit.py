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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["compiled", "pairwise_sum"]

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


_BLOCK = 128  # numpy's PW_BLOCKSIZE
_BUFFER = 8192  # numpy's default buffer size, in values


@compiled
def _block(a: npt.NDArray[np.float32], lo: int, n: int) -> float:
    """numpy's sum of up to ``_BLOCK`` values: eight running sums, added pairwise, then the rest."""
    if n < 8:
        res = 0.0
        for i in range(lo, lo + n):
            res += np.float64(a[i])
        return res
    r0, r1, r2, r3 = np.float64(a[lo]), np.float64(a[lo + 1]), np.float64(a[lo + 2]), np.float64(a[lo + 3])
    r4, r5, r6, r7 = np.float64(a[lo + 4]), np.float64(a[lo + 5]), np.float64(a[lo + 6]), np.float64(a[lo + 7])
    i = 8
    while i < n - n % 8:
        r0 += a[lo + i]
        r1 += a[lo + i + 1]
        r2 += a[lo + i + 2]
        r3 += a[lo + i + 3]
        r4 += a[lo + i + 4]
        r5 += a[lo + i + 5]
        r6 += a[lo + i + 6]
        r7 += a[lo + i + 7]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[lo + i]
        i += 1
    return res


@compiled
def _pairwise(a: npt.NDArray[np.float32], lo: int, n: int) -> float:
    """numpy's pairwise sum of ``a[lo : lo + n]``: blocks of up to 128 by :func:`_block`,
    longer runs halved at a multiple of 8 and the halves added. The halving is walked with a
    stack of its own, not by recursion (numba's on-disk cache does not reload recursive
    functions safely)."""
    if n <= _BLOCK:
        return _block(a, lo, n)
    todo = np.empty((128, 3), dtype=np.int64)  # (lo, n, halves added yet?) to walk
    sums = np.empty(128)  # sums of the halves walked, awaiting their sibling
    todo[0, 0], todo[0, 1], todo[0, 2] = lo, n, 0
    depth, held = 1, 0
    while depth:
        depth -= 1
        start, m, joined = todo[depth, 0], todo[depth, 1], todo[depth, 2]
        if m <= _BLOCK:
            sums[held] = _block(a, start, m)
            held += 1
        elif joined:
            held -= 1
            sums[held - 1] = sums[held - 1] + sums[held]  # the left half plus the right
        else:
            half = m // 2
            half -= half % 8
            todo[depth, 2] = 1  # after both halves: add them
            todo[depth + 1, 0], todo[depth + 1, 1], todo[depth + 1, 2] = start + half, m - half, 0
            todo[depth + 2, 0], todo[depth + 2, 1], todo[depth + 2, 2] = start, half, 0
            depth += 3
    return float(sums[0])


@compiled
def pairwise_sum(a: npt.NDArray[np.float32]) -> float:
    """The float64 sum of a float32 row as ``a.sum(dtype=np.float64)`` gives it, bit for bit:
    a running sum from 0.0 of numpy's pairwise sums of each buffer of 8,192 values (numpy
    converts float32 to float64 a buffer at a time)."""
    total = 0.0
    for lo in range(0, a.shape[0], _BUFFER):
        total += _pairwise(a, lo, min(_BUFFER, a.shape[0] - lo))
    return total
