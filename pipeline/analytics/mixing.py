"""Mixing analytics: who spent face-to-face time with whom, by company.

Pure functions over numpy arrays. A *contact* is a pair of people in contact during one
20 s window (the SocioPatterns convention); a pair's *weight* is its number of windows.
People and companies are integer codes (``0..n-1``); names live at the edges.

The mixing matrix ``e`` is Newman's (Phys. Rev. E 67, 026126, 2003): ``e[g, h]`` is the
fraction of contact weight between groups ``g`` and ``h``, symmetric, summing to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = [
    "SMALLER_COMPANIES",
    "Insularity",
    "assortativity",
    "companies_met",
    "insularity",
    "mixing_index_over_time",
    "mixing_matrix",
    "pair_weights",
    "within_share",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: The label under which delegations smaller than the threshold are pooled.
SMALLER_COMPANIES = "smaller companies"


def _ints(name: str, values: npt.ArrayLike) -> IntArray:
    arr = np.asarray(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        raise TypeError(f"{name} must hold integers, got dtype {arr.dtype}")
    return arr.astype(np.int64, copy=False)


def pair_weights(a: npt.ArrayLike, b: npt.ArrayLike) -> tuple[IntArray, IntArray, IntArray]:
    """Distinct unordered pairs ``(lo, hi)`` of the contacts ``a[k]``–``b[k]`` and their window counts.

    Self-contacts (``a == b``) are dropped. Pairs come out sorted by ``(lo, hi)``.
    """
    aa, bb = _ints("a", a), _ints("b", b)
    if aa.shape != bb.shape:
        raise ValueError(f"a and b must have the same length, got {aa.shape[0]} and {bb.shape[0]}")
    keep = aa != bb
    lo, hi = np.minimum(aa[keep], bb[keep]), np.maximum(aa[keep], bb[keep])
    if lo.size == 0:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty.copy(), empty.copy()
    pairs, counts = np.unique(np.column_stack([lo, hi]), axis=0, return_counts=True)
    return pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64), counts.astype(np.int64)


def mixing_matrix(ga: npt.ArrayLike, gb: npt.ArrayLike, weight: npt.ArrayLike, n_groups: int) -> FloatArray:
    """Newman's symmetric mixing matrix over ``n_groups`` groups.

    ``ga[k]`` and ``gb[k]`` are the groups of the two ends of pair ``k`` and ``weight[k]``
    its contact weight (windows for the weighted version, 1 per distinct pair for the
    unweighted one). Half of each weight goes to ``e[ga, gb]`` and half to ``e[gb, ga]``.
    All zeros when there is no weight at all.
    """
    g1, g2 = _ints("ga", ga), _ints("gb", gb)
    w = np.asarray(weight, dtype=np.float64)
    if not g1.shape == g2.shape == w.shape:
        raise ValueError(f"ga, gb and weight must have the same length, got {g1.shape}, {g2.shape}, {w.shape}")
    if n_groups < 1:
        raise ValueError(f"n_groups must be >= 1, got {n_groups!r}")
    if g1.size and (min(g1.min(), g2.min()) < 0 or max(g1.max(), g2.max()) >= n_groups):
        raise ValueError(
            f"group codes must lie in [0, {n_groups}), got [{min(g1.min(), g2.min())}, {max(g1.max(), g2.max())}]"
        )
    if np.any(w < 0) or not np.all(np.isfinite(w)):
        raise ValueError("weights must be finite and >= 0")
    e = np.zeros((n_groups, n_groups), dtype=np.float64)
    np.add.at(e, (g1, g2), w / 2)
    np.add.at(e, (g2, g1), w / 2)
    total = e.sum()
    return e / total if total > 0 else e


def assortativity(e: npt.ArrayLike) -> float:
    """Newman's attribute assortativity ``r = (Tr e − ‖e²‖) / (1 − ‖e²‖)``; ‖·‖ sums all entries.

    1 when everyone meets only their own group, 0 for random mixing, negative when groups
    avoid themselves. NaN when undefined (no contact, or everyone in one group).
    """
    m = np.asarray(e, dtype=np.float64)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"e must be a square matrix, got shape {m.shape}")
    if m.sum() <= 0:
        return float("nan")
    m = m / m.sum()
    sq = float((m @ m).sum())
    if np.isclose(sq, 1.0):
        return float("nan")
    return (float(np.trace(m)) - sq) / (1.0 - sq)


def within_share(e: npt.ArrayLike) -> float:
    """Share of contact weight within a group (``Tr e``); NaN without contact."""
    m = np.asarray(e, dtype=np.float64)
    total = m.sum()
    return float(np.trace(m) / total) if total > 0 else float("nan")


@dataclass(frozen=True, slots=True)
class Insularity:
    """One delegation's share of contact time spent with colleagues (in [0, 1]).

    ``size`` is the number of people; for the pooled :data:`SMALLER_COMPANIES` row,
    ``companies`` counts the delegations pooled.
    """

    company: str
    size: int
    share: float
    contact_weight: float
    companies: int = 1


def insularity(e: npt.ArrayLike, names: list[str], sizes: npt.ArrayLike, *, min_size: int = 5) -> list[Insularity]:
    """Per-company insularity ``e[c, c] / Σ_h e[c, h]``, most insular first.

    Delegations with fewer than ``min_size`` people (exclusive bound: a company of exactly
    ``min_size`` is shown by name) are pooled into one :data:`SMALLER_COMPANIES` row, last,
    so nobody is singled out; a pool of one delegation, or of fewer than ``min_size`` people,
    is left out too. Companies without any contact are left out.
    """
    m = np.asarray(e, dtype=np.float64)
    size = _ints("sizes", sizes)
    if m.shape != (len(names), len(names)) or size.shape != (len(names),):
        raise ValueError(f"e must be {len(names)}x{len(names)} and sizes of length {len(names)}")
    if min_size < 1:
        raise ValueError(f"min_size must be >= 1, got {min_size!r}")
    row = m.sum(axis=1)
    diag = np.diag(m)
    named = [
        Insularity(names[c], int(size[c]), float(diag[c] / row[c]), float(row[c]))
        for c in range(len(names))
        if size[c] >= min_size and row[c] > 0
    ]
    named.sort(key=lambda x: (-x.share, x.company))
    small = [c for c in range(len(names)) if size[c] < min_size and row[c] > 0]
    # The pool stands for several small delegations; one alone, or fewer people than a named
    # company needs, would be that delegation by another name: left out.
    if len(small) >= 2 and int(size[small].sum()) >= min_size:
        w = float(row[small].sum())
        named.append(Insularity(SMALLER_COMPANIES, int(size[small].sum()), float(diag[small].sum()) / w, w, len(small)))
    return named


def mixing_index_over_time(
    t: npt.ArrayLike, ga: npt.ArrayLike, gb: npt.ArrayLike, *, bin_s: float, start: float | None = None
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Share of contact windows spent with another company, per time bin of ``bin_s`` seconds.

    ``t`` are contact window starts (seconds), ``ga``/``gb`` the companies of the two people.
    Returns bin starts, the mixing index per bin (NaN for a bin without contact) and the
    number of contacts per bin. Bins start at ``start`` (default: the first contact).
    """
    tt = np.asarray(t, dtype=np.float64)
    g1, g2 = _ints("ga", ga), _ints("gb", gb)
    if not bin_s > 0:
        raise ValueError(f"bin_s must be > 0 seconds, got {bin_s!r}")
    if tt.size == 0:
        return np.empty(0), np.empty(0), np.empty(0, dtype=np.int64)
    t0 = float(tt.min()) if start is None else float(start)
    k = np.floor((tt - t0) / bin_s).astype(np.int64)
    if k.min() < 0:
        raise ValueError(f"start {t0!r} is after the first contact at {float(tt.min())!r}")
    n_bins = int(k.max()) + 1
    n = np.bincount(k, minlength=n_bins)
    cross = np.bincount(k, weights=(g1 != g2).astype(np.float64), minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        index = np.where(n > 0, cross / np.maximum(n, 1), np.nan)
    return t0 + bin_s * np.arange(n_bins, dtype=np.float64), index, n.astype(np.int64)


def companies_met(a: npt.ArrayLike, b: npt.ArrayLike, company: npt.ArrayLike) -> IntArray:
    """For each person (index into ``company``), how many other companies they had contact with."""
    aa, bb, comp = _ints("a", a), _ints("b", b), _ints("company", company)
    met = np.zeros(comp.shape[0], dtype=np.int64)
    if aa.size == 0:
        return met
    who = np.r_[aa, bb]
    other = np.r_[comp[bb], comp[aa]]
    keep = other != comp[who]
    pairs = np.unique(np.column_stack([who[keep], other[keep]]), axis=0)
    np.add.at(met, pairs[:, 0], 1)
    return met
