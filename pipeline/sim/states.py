"""Codes of what a simulated person is doing (``Crowd.state``) and why they walk (``Crowd.intent``)."""

from __future__ import annotations

from typing import Final

__all__ = ["ABSENT", "GO_EXIT", "GO_JOIN", "GO_WANDER", "IDLE", "MEMBER", "WALK"]

#: Not on the floor.
ABSENT: Final = 0
#: Walking towards ``Crowd.target``.
WALK: Final = 1
#: Standing in formation in a group.
MEMBER: Final = 2
#: Standing alone.
IDLE: Final = 3

#: Walking to join a group.
GO_JOIN: Final = 1
#: Strolling to a spot, then standing there.
GO_WANDER: Final = 2
#: Walking out through the entrance.
GO_EXIT: Final = 3
