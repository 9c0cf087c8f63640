"""Keep freed memory in the heap for the pipeline's processes (glibc only).

A tick allocates and frees the same few megabytes of numpy temporaries over and over.
With glibc's defaults, blocks above its (dynamic) mmap threshold are mapped afresh and
returned on every free, so each tick pays for fresh zeroed pages: about 1,500 page faults a
tick at 500 badges. Raising the mmap threshold to 64 MB and the trim threshold to 256 MB
(``mallopt``, the same as ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` in the
environment) keeps those blocks in the heap for reuse; the maths and its outputs are
untouched (docs/benchmarks.md has the measurements). Called once at the edge of a pipeline
process (replay, evaluate, the live service and demo, the benches), never on a gateway. On
a C library without ``mallopt`` it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util

__all__ = ["keep_freed_memory"]

M_TRIM_THRESHOLD = -1  # glibc malloc.h
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 64 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 256 * 1024 * 1024


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds for this process; ``True`` if both took."""
    name = ctypes.util.find_library("c")
    if name is None:
        return False
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    return bool(mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES)
    )
