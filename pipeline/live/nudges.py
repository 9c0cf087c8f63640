"""Nudges: one message per nudged badge, in plain words for a phone.

``nudges/<badge>`` carries ``{"v":1,"badge","alert","ts","via","text","suggestion"}``;
``via`` is the gateway that heard the badge best recently (strongest median RSSI in the
current window), so a gateway can buzz the badge; ``null`` when no gateway heard it
(a badge placed only by a positions feed).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from mingle_wire import Alert, Suggestion, alert_to_dict, dumps
from pipeline.distances import how_far
from pipeline.step import PipelineState

__all__ = ["best_gateways", "nudge_payload", "nudge_text"]


def _and(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def nudge_text(company: str, suggestion: Suggestion | None) -> str:
    """The words on the phone, e.g. 'Your Acme colleagues will keep. There is a group with …'."""
    head = f"Your {company} colleagues will keep."
    if suggestion is None:
        return f"{head} This is a good moment to meet someone new."
    where = how_far(suggestion.distance_m)
    if suggestion.kind == "group":
        who = _and(list(suggestion.companies))
        group = f"a group with {who}" if who else "a mixed group"
        return f"{head} There is {group} {where} — go say hello."
    company_of = suggestion.companies[0] if suggestion.companies else "another company"
    likes = f" who is also into {_and(list(suggestion.shared_interests))}" if suggestion.shared_interests else ""
    return f"{head} Someone from {company_of}{likes} is {where} — go say hello."


def best_gateways(state: PipelineState, badges: list[str], now: float) -> dict[str, str]:
    """For each badge heard in the current window, the gateway with the strongest median RSSI."""
    idx = {state.badges.find(b): b for b in badges}
    idx.pop(None, None)
    if not idx:
        return {}
    gw = state.venue.gateways
    summary = state.windows.summarize(now, len(gw))
    out: dict[str, str] = {}
    best: dict[str, float] = {}
    for row in np.flatnonzero(np.isin(summary.badge, np.array(list(idx), dtype=np.int64))).tolist():
        badge = idx[int(summary.badge[row])]
        median = float(summary.median[row])
        if median > best.get(badge, -np.inf):
            best[badge] = median
            out[badge] = gw[int(summary.gateway[row])].id
    return out


def nudge_payload(alert: Alert, badge: str, via: str | None) -> bytes:
    suggestion: dict[str, Any] | None = alert_to_dict(alert)["suggestion"]
    return dumps(
        {
            "v": 1,
            "badge": badge,
            "alert": alert.id,
            "ts": alert.ts,
            "via": via,
            "text": nudge_text(alert.company, alert.suggestion),
            "suggestion": suggestion,
        }
    )
