"""Post-event mixing analytics: assortativity, insularity, mixing over time, nudge efficacy, reports."""

from .mixing import (
    SMALLER_COMPANIES,
    Insularity,
    assortativity,
    companies_met,
    insularity,
    mixing_index_over_time,
    mixing_matrix,
    pair_weights,
    within_share,
)

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
