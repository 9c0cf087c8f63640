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
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import numba
import numpy as np
import numpy.typing as npt

__all__ = ["check_pairs", "compiled"]

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


def check_pairs(row: npt.NDArray[np.int64], col: npt.NDArray[np.int64], n: int, of: str) -> None:
    """Pairs as two aligned 1-D arrays of rows in ``0 .. n - 1`` (of ``n`` ``of``), or
    ``ValueError`` / ``IndexError``: what a compiled loop over pairs is given is checked
    before, since it checks no bounds itself (a pair past its arrays would read any memory)."""
    if row.ndim != 1 or row.shape != col.shape:
        raise ValueError(f"pairs must be two aligned 1-D arrays, got shapes {row.shape} and {col.shape}")
    if row.shape[0] and (min(int(row.min()), int(col.min())) < 0 or max(int(row.max()), int(col.max())) >= n):
        raise IndexError(f"pairs name badges outside the {n} {of}")
