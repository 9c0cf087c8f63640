"""Mixing analytics of one store: the numbers every report and test starts from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ..store.db import ContactRows
from .mixing import (
    Insularity,
    assortativity,
    companies_met,
    insularity,
    mixing_index_over_time,
    mixing_matrix,
    pair_weights,
    within_share,
)

__all__ = ["MixingSummary", "summarize_mixing"]

UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class MixingSummary:
    """Everything about mixing in a set of contacts; shares in [0, 1], times in seconds."""

    companies: tuple[str, ...]
    sizes: npt.NDArray[np.int64]
    e_weighted: npt.NDArray[np.float64]
    r_weighted: float
    r_unweighted: float
    within_weighted: float
    within_unweighted: float
    insularity: list[Insularity]
    bins: npt.NDArray[np.float64]
    mixing_index: npt.NDArray[np.float64]
    bin_contacts: npt.NDArray[np.int64]
    companies_met: npt.NDArray[np.int64]
    contacts: int
    pairs: int
    people: int


def summarize_mixing(
    contacts: ContactRows, company_of: Mapping[str, str], *, bin_s: float = 3600.0, min_size: int = 5
) -> MixingSummary:
    """Mixing summary; people absent from ``company_of`` count in an ``unknown`` company."""
    comp_names = [company_of.get(b, UNKNOWN) for b in contacts.badges]
    everyone = sorted(set(company_of) | set(contacts.badges))
    companies = tuple(sorted({company_of.get(b, UNKNOWN) for b in everyone}))
    code = {c: k for k, c in enumerate(companies)}
    comp = np.array([code[c] for c in comp_names], dtype=np.int64)
    sizes = np.bincount([code[company_of.get(b, UNKNOWN)] for b in everyone], minlength=len(companies))
    lo, hi, w = pair_weights(contacts.a, contacts.b)
    n = max(len(companies), 1)
    e_w = mixing_matrix(comp[lo], comp[hi], w, n)
    e_u = mixing_matrix(comp[lo], comp[hi], np.ones_like(w), n)
    bins, index, counts = mixing_index_over_time(contacts.t, comp[contacts.a], comp[contacts.b], bin_s=bin_s)
    return MixingSummary(
        companies=companies,
        sizes=sizes.astype(np.int64),
        e_weighted=e_w,
        r_weighted=assortativity(e_w),
        r_unweighted=assortativity(e_u),
        within_weighted=within_share(e_w),
        within_unweighted=within_share(e_u),
        insularity=insularity(e_w, list(companies), sizes, min_size=min_size) if companies else [],
        bins=bins,
        mixing_index=index,
        bin_contacts=counts,
        # Everyone known, not only those with contacts: an attendee who met nobody met no company.
        companies_met=np.r_[
            companies_met(contacts.a, contacts.b, comp), np.zeros(len(everyone) - len(contacts.badges), np.int64)
        ],
        contacts=int(contacts.t.shape[0]),
        pairs=int(lo.shape[0]),
        people=len(contacts.badges),
    )
