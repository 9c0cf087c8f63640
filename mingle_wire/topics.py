"""MQTT topic names of wire contract v1.

Every topic is ``<prefix>/<site>/<kind>[/<key>...]``; the prefix defaults to
``mingle``. :class:`Topics` builds them for one site and :func:`parse_topic`
takes an inbound topic apart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

__all__ = ["DEFAULT_PREFIX", "ID_PATTERN", "ParsedTopic", "Topics", "parse_topic", "valid_id"]

DEFAULT_PREFIX: Final = "mingle"
#: Ids (site, gateway, badge, source) are 1–64 characters from this set: no MQTT
#: wildcards, no slashes, no spaces, no control characters.
ID_PATTERN: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")

INBOUND_KINDS: Final = frozenset({"readings", "positions", "contacts", "pauses"})


def valid_id(value: object) -> bool:
    """True when ``value`` is a string usable as a site, gateway, badge or source id."""
    return isinstance(value, str) and ID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True, slots=True)
class ParsedTopic:
    """An inbound topic taken apart: ``kind`` is ``readings``, ``positions``, ``contacts`` or ``pauses``."""

    site: str
    kind: str
    key: str


@dataclass(frozen=True, slots=True)
class Topics:
    """Topic names for one site."""

    site: str
    prefix: str = DEFAULT_PREFIX

    def __post_init__(self) -> None:
        if not valid_id(self.site):
            raise ValueError(f"site must match {ID_PATTERN.pattern}, got {self.site!r}")
        if not self.prefix or any(c in self.prefix for c in "+#") or self.prefix.endswith("/"):
            raise ValueError(f"prefix must be a non-empty topic path without wildcards, got {self.prefix!r}")

    @property
    def base(self) -> str:
        return f"{self.prefix}/{self.site}"

    def readings(self, gateway: str = "+") -> str:
        return f"{self.base}/readings/{gateway}"

    def contacts(self, gateway: str = "+") -> str:
        """Badges' proximity reports, as one gateway heard them (see ``Contact``)."""
        return f"{self.base}/contacts/{gateway}"

    def positions(self, source: str = "+") -> str:
        return f"{self.base}/positions/{source}"

    def gateway_status(self, gateway: str = "+") -> str:
        return f"{self.base}/gateways/{gateway}/status"

    @property
    def frames(self) -> str:
        return f"{self.base}/frames"

    @property
    def alerts(self) -> str:
        return f"{self.base}/alerts"

    def pause(self, badge: str = "+") -> str:
        """An attendee's "pause my nudges" (inbound, from the dashboard's phone page)."""
        return f"{self.base}/pauses/{badge}"

    def nudge(self, badge: str = "+") -> str:
        return f"{self.base}/nudges/{badge}"

    @property
    def pipeline_status(self) -> str:
        return f"{self.base}/pipeline/status"


def parse_topic(topic: str, prefix: str = DEFAULT_PREFIX) -> ParsedTopic | None:
    """Parse an inbound (``readings``/``positions``/``contacts``/``pauses``) topic; ``None`` for anything else."""
    parts = topic.split("/")
    head = prefix.split("/")
    if len(parts) != len(head) + 3 or parts[: len(head)] != head:
        return None
    site, kind, key = parts[len(head) :]
    if kind not in INBOUND_KINDS or not valid_id(site) or not valid_id(key):
        return None
    return ParsedTopic(site=site, kind=kind, key=key)
