"""Per-second RSSI series centred and smoothed, as :mod:`.covary` compares them, in compiled loops.

:func:`centre_rows` is the plain formulation of the centring (a row minus its mean,
box-smoothed, centred again; tests/pipeline/core/test_centring.py), operation for operation
and bit for bit, including numpy's own way of summing a row (:func:`pairwise_sum`). The loops
that call each other are kept in this one module: numba's on-disk cache checks only a
kernel's own module for changes.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from .jit import compiled, in_parts

__all__ = ["centre_rows", "pairwise_sum"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def centre_rows(
    values: npt.NDArray[np.float32],
    rows: IntArray,
    smooth_s: int,
    out: npt.NDArray[np.float32],
    sumsq: FloatArray,
) -> None:
    """``out[k]``: row ``rows[k]`` of ``values`` (per-second levels, NaN = none) minus its
    mean, box-smoothed over ``smooth_s`` seconds and centred again, 0 where nothing was heard;
    ``sumsq[k]``: its sum of squares in float64, second by second.

    The arithmetic is the plain formulation's (tests/pipeline/core/test_centring.py), operation
    for operation: the means are float64 sums of the float32 row as numpy adds them
    (:func:`pairwise_sum`) over the seconds heard, rounded to float32; the
    box sums are differences of running float32 sums over the row padded with zeros; a box
    with nothing heard is 0.
    """
    in_parts(_centre_range, rows.shape[0], _CENTRE_PART, values, rows, smooth_s, out, sumsq)


_CENTRE_PART = 5_000  # series at least per part of the centring run at once (about 1 ms)


@compiled
def _centre_range(
    lo: int,
    hi: int,
    values: npt.NDArray[np.float32],
    rows: IntArray,
    smooth_s: int,
    out: npt.NDArray[np.float32],
    sumsq: FloatArray,
) -> None:
    """:func:`centre_rows` for ``rows[lo:hi]``."""
    seconds = values.shape[1]
    lead = smooth_s // 2 + 1
    filled = np.empty(seconds, dtype=np.float32)
    heard = np.empty(seconds, dtype=np.bool_)
    csum = np.zeros(seconds + smooth_s + 1, dtype=np.float32)
    hcum = np.zeros(seconds + 1, dtype=np.int64)  # seconds heard before each second
    seen = np.empty(seconds, dtype=np.float32)
    back = smooth_s // 2
    for k in range(lo, hi):
        i = rows[k]
        n = 0
        for j in range(seconds):
            v = values[i, j]
            heard[j] = v == v
            filled[j] = v if v == v else np.float32(0.0)
            n += heard[j]
        mean = np.float32(pairwise_sum(filled) / max(n, 1))
        for j in range(seconds):
            filled[j] = filled[j] - mean if heard[j] else np.float32(0.0)
        if smooth_s > 1:
            for j in range(seconds + smooth_s - lead):  # running sums over the padded row
                csum[lead + j] = csum[lead + j - 1] + (filled[j] if j < seconds else np.float32(0.0))
            for j in range(seconds):
                hcum[j + 1] = hcum[j] + heard[j]
            n = 0
            for j in range(seconds):  # the seconds heard in each box (clipped to the row)
                seen[j] = hcum[min(j - back + smooth_s, seconds)] - hcum[max(j - back, 0)]
                if seen[j] > 0:
                    filled[j] = (csum[j + smooth_s] - csum[j]) / seen[j]
                    n += 1
                else:
                    filled[j] = np.float32(0.0)
            mean = np.float32(pairwise_sum(filled) / max(n, 1))
            for j in range(seconds):
                filled[j] = filled[j] - mean if seen[j] > 0 else np.float32(0.0)
        total = 0.0
        for j in range(seconds):
            out[k, j] = filled[j]
            total += np.float64(filled[j]) * np.float64(filled[j])
        sumsq[k] = total


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
