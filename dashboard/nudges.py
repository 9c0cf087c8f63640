"""The attendees' own pages: the nudges each was sent, and their pauses.

:class:`NudgeRecord` is one nudge as a phone shows it; :class:`NudgeInbox` keeps each
attendee's last few, drops a QoS 1 redelivery by its alert id, and remembers each attendee's
pause for their page. The attendee view holds that attendee's own nudges only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from mingle_wire import finite_number, valid_id

__all__ = ["NUDGE_IDS_KEPT", "NudgeInbox", "NudgeRecord"]

#: Per badge, the alert ids of this many latest nudges are remembered to drop copies (a QoS 1
#: redelivery); nudges to one badge come a cooldown apart, so copies come long before.
NUDGE_IDS_KEPT = 64


@dataclass(frozen=True, slots=True)
class NudgeRecord:
    """One nudge as an attendee's phone shows it: the alert id, when, and the words."""

    alert: str
    ts: float
    text: str

    def __post_init__(self) -> None:
        if not valid_id(self.alert):
            raise ValueError(f"alert must be an id, got {self.alert!r}")
        if finite_number(self.ts) is None:
            raise TypeError(f"ts must be a finite number, got {self.ts!r}")
        if not isinstance(self.text, str) or not self.text or len(self.text) > 1000:
            raise ValueError(f"text must be 1–1000 characters, got {str(self.text)[:40]!r}")


class NudgeInbox:
    """Per badge, its last ``per_badge`` nudges and its pause.

    Badges are not checked here: :class:`~dashboard.state.DashboardState` passes roster badges
    only, so a flood of made-up badge ids cannot grow memory.
    """

    def __init__(self, *, per_badge: int) -> None:
        self.per_badge = per_badge
        self._nudges: dict[str, deque[NudgeRecord]] = {}
        # Per badge, the alert ids of its last NUDGE_IDS_KEPT nudges (a QoS 1 copy is no new nudge).
        self.ids: dict[str, deque[str]] = {}
        self._paused: dict[str, float] = {}

    def add(self, badge: str, record: NudgeRecord) -> bool:
        """Keep a nudge for ``badge``'s phone; False for a copy of one already kept."""
        seen = self.ids.setdefault(badge, deque(maxlen=NUDGE_IDS_KEPT))
        if record.alert in seen:
            return False
        seen.append(record.alert)
        self._nudges.setdefault(badge, deque(maxlen=self.per_badge)).append(record)
        return True

    def pause(self, badge: str, until: float) -> None:
        """Remember an attendee's pause (the pipeline is told over MQTT; this is for their page)."""
        self._paused[badge] = until

    def attendee_view(self, badge: str, now: float) -> dict[str, Any]:
        """One attendee's own nudges, newest first, and their pause; nothing about anyone else."""
        until = self._paused.get(badge)
        return {
            "nudges": [{"id": n.alert, "ts": n.ts, "text": n.text} for n in reversed(self._nudges.get(badge, ()))],
            "paused_until": until if until is not None and until > now else None,
            "now": now,
        }
