"""Memory settings for the pipeline's processes: freed memory kept in the heap (glibc only),
and fewer garbage collections.

A tick allocates and frees the same few megabytes of numpy temporaries over and over.
With glibc's defaults, blocks above its (dynamic) mmap threshold are mapped afresh and
returned on every free, so each tick pays for fresh zeroed pages: about 1,500 page faults a
tick at 500 badges. Raising the mmap threshold to 64 MB and the trim threshold to 256 MB
(``mallopt``, the same as ``MALLOC_MMAP_THRESHOLD_`` / ``MALLOC_TRIM_THRESHOLD_`` in the
environment) keeps those blocks in the heap for reuse; the maths and its outputs are
untouched (docs/benchmarks.md has the measurements). Called once at the edge of a pipeline
process (replay, evaluate, the live service and demo, the benches), never on a gateway. On
a C library without ``mallopt`` it does nothing.

A tick also makes and drops tens of thousands of small Python objects (a 10,000-badge frame
alone is 10,000 badges), so with the interpreter's default thresholds (a collection every
700 allocations) the cyclic garbage collector runs hundreds of times a tick and, now and
then, walks every object the process holds, which shows as a slow tick (docs/benchmarks.md
has the measurements). :func:`collect_less` moves what the process holds at start-up out of
the collector's sight (``gc.freeze``: modules, and whatever is loaded by then) and collects
the youngest objects every 50,000 allocations instead; garbage in reference cycles is still
collected, only later.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc

__all__ = ["collect_less", "keep_freed_memory", "set_up_pipeline_process"]

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


YOUNG_THRESHOLD = 50_000  # allocations between collections of the youngest objects (default 700)


def collect_less() -> None:
    """Freeze what this process holds now and collect the youngest objects less often."""
    gc.collect()  # (garbage held now is not frozen with the rest)
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, middle, old)


def set_up_pipeline_process() -> None:
    """Both settings, as every pipeline process applies them at its edge: freed memory kept
    (:func:`keep_freed_memory`) and fewer collections (:func:`collect_less`)."""
    keep_freed_memory()
    collect_less()
