"""Pure batching of badges' neighbour reports into one :class:`ContactBatch` per window.

A badge repeats the same advertisement (same ``seq``) about once a second until its next
report, so the gateway hears every report several times. :class:`ContactBatcher` emits a
report's contacts only for the first copy of a (badge, seq): it remembers per badge the
last ``seq`` it emitted, for at most ``max_badges`` badges (the least recently reporting
one is forgotten first). Only a copy heard at ``relay_min_dbm`` or better counts: the gateways
near the badge relay its report, not every one in range (each relay is one more copy for
the broker and the pipeline to carry and drop); a weaker copy leaves the report to a nearer
gateway, or to a later, stronger copy. ``Contact.ts`` is the receive time of that first copy. Windows are
aligned exactly like the readings' (:class:`~edge.batcher.Batcher`), with the same
``BatcherConfig``: ``max_readings`` bounds the contacts per window too.
"""

from __future__ import annotations

from collections import Counter, OrderedDict

from mingle_wire import RSSI_MAX_DBM, RSSI_MIN_DBM, Contact, ContactBatch

from .advert import BadgeAdvert
from .batcher import NO_RSSI_DBM, BatcherConfig, WindowClock, clock_set

__all__ = ["RELAY_MIN_DBM", "ContactBatcher"]

#: Relay a report heard at least this strongly (the pipeline's simulator uses the same rule).
RELAY_MIN_DBM = -80.0


class ContactBatcher:
    """``add(advert, now)`` per decoded advertisement; ``flush(now)`` returns the window once it is over.

    Counters: :attr:`accepted` contacts batched, :attr:`repeats` copies of an already
    emitted report, :attr:`weak` copies heard below ``relay_min_dbm`` (None: relay every
    copy), and :attr:`dropped` by reason (``window_full``).
    """

    def __init__(
        self, config: BatcherConfig, *, max_badges: int = 5000, relay_min_dbm: float | None = RELAY_MIN_DBM
    ) -> None:
        if isinstance(max_badges, bool) or not isinstance(max_badges, int) or max_badges < 1:
            raise ValueError(f"max_badges must be a positive integer, got {max_badges!r}")
        if relay_min_dbm is not None and not RSSI_MIN_DBM <= relay_min_dbm <= RSSI_MAX_DBM:
            raise ValueError(
                f"relay_min_dbm must be within [{RSSI_MIN_DBM}, {RSSI_MAX_DBM}] dBm, got {relay_min_dbm!r}"
            )
        self.config = config
        self.max_badges = max_badges
        self.relay_min_dbm = relay_min_dbm
        self.accepted = 0
        self.repeats = 0
        self.weak = 0
        self.dropped: Counter[str] = Counter()
        self._contacts: list[Contact] = []
        self._clock = WindowClock(config.window_s)
        self._last_seq: OrderedDict[str, int] = OrderedDict()

    def add(self, advert: BadgeAdvert, now: float, rssi_dbm: float | None = None) -> int:
        """Batch the report ``advert`` carries, heard at ``now`` (Unix s) at ``rssi_dbm`` (None:
        unknown, relayed only without a ``relay_min_dbm``); the number of contacts added."""
        if not clock_set(now):  # (its readings are counted by the Batcher)
            return 0
        self._clock.begin(now)
        if not advert.near or advert.seq is None:
            return 0
        if self.relay_min_dbm is not None and (
            rssi_dbm is None or rssi_dbm == NO_RSSI_DBM or rssi_dbm < self.relay_min_dbm
        ):
            self.weak += 1
            return 0
        if self._last_seq.get(advert.badge) == advert.seq:
            self._last_seq.move_to_end(advert.badge)
            self.repeats += 1
            return 0
        self._last_seq[advert.badge] = advert.seq
        self._last_seq.move_to_end(advert.badge)
        if len(self._last_seq) > self.max_badges:
            self._last_seq.popitem(last=False)
        added = 0
        for near, rssi_dbm in advert.near:
            if len(self._contacts) >= self.config.max_readings:
                self.dropped["window_full"] += 1
                continue
            self._contacts.append(Contact(advert.badge, near, float(rssi_dbm), now, advert.seq))
            added += 1
        self.accepted += added
        return added

    def flush(self, now: float) -> ContactBatch | None:
        """The finished window's batch (possibly empty) once ``now`` reaches its end, else ``None``."""
        state = self._clock.tick(now)
        if state == "restarted" and self._contacts:  # the clock was set back
            self.dropped["clock_stepped_back"] += len(self._contacts)
            self._contacts = []
        if state != "over":
            return None
        batch = ContactBatch(self.config.gateway, now, tuple(self._contacts))
        self._contacts = []
        return batch

    @property
    def pending(self) -> int:
        return len(self._contacts)

    @property
    def badges_remembered(self) -> int:
        return len(self._last_seq)
