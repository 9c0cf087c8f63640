"""``LiveService``: inbox → ``step()`` → the messages to publish. Synchronous, no I/O.

The async runner owns the clock and the broker; this class owns what happens at a tick,
so tests (and the demo) drive it with any clock they like.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mingle_wire import DecodeError, Topics, dumps, encode_alert, encode_frame, finite_number, loads, valid_id
from pipeline.step import PipelineState, TickResult, step
from pipeline.store import StoreError

from .inbox import Inbox
from .nudges import best_gateways, nudge_payload
from .stats import LiveStats

__all__ = ["LiveService", "Outbound"]

log = logging.getLogger("mingle.live")

#: Nudge acknowledgements remembered to tell a broker's second delivery from a new ack (a few
#: minutes of a 2,000-person expo's nudges).
ACKS_REMEMBERED = 4096


class TickSink(Protocol):
    """What records the live event (``pipeline.store.StoreSink``)."""

    def on_tick(self, result: TickResult) -> None: ...

    def acknowledge(self, alert: str, badge: str, ts: float, gateway: str = "", sent: float | None = None) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Outbound:
    """One message to publish."""

    topic: str
    payload: bytes
    qos: int
    retain: bool = False


class LiveService:
    """One venue's live pipeline: call :meth:`receive` per message and :meth:`tick` per tick.

    ``status_every_s`` is in pipeline time (the ``now`` given to :meth:`tick`); ``clock``
    is the wall clock, used only to measure queueing lag.
    """

    def __init__(
        self,
        state: PipelineState,
        *,
        prefix: str = "mingle",
        inbox_max: int = 100_000,
        status_every_s: float = 10.0,
        clock: Callable[[], float] = time.time,
        sink: TickSink | None = None,
    ) -> None:
        self.state = state
        self.topics = Topics(state.venue.site, prefix)
        self._nudge_prefix = self.topics.nudge("")
        self.inbox = Inbox(inbox_max)
        self.status_every_s = status_every_s
        self.clock = clock
        self.stats: LiveStats | None = None
        self._next_status: float | None = None
        self.last: TickResult | None = None
        self.last_status: dict[str, object] | None = None
        self.published_alerts = 0
        self.published_nudges = 0
        self.tick_errors = 0
        self.store_errors = 0
        #: Extra fields for the status (the runner adds the broker link's counters).
        self.status_extra: Callable[[], dict[str, object]] | None = None
        #: Where ticks and nudge acknowledgements are recorded (the event store), if anywhere.
        self.sink = sink
        self.acks = 0
        self.failed_acks = 0
        self.bad_acks = 0
        self.ack_copies = 0
        # Acknowledgements lately counted, by (status, alert, badge, gateway, the gateway's ts): a
        # copy the broker delivers again (QoS 1: the gateway resends one whose receipt it lost) is
        # neither counted nor recorded twice.
        self._acks_seen: OrderedDict[tuple[str, str, str, str, float], None] = OrderedDict()

    @property
    def subscriptions(self) -> list[tuple[str, int]]:
        subs = [
            (self.topics.readings(), 1),
            (self.topics.positions(), 1),
            (self.topics.contacts(), 1),
            (self.topics.pause(), 1),
        ]
        if self.sink is not None:
            subs.append((self.topics.nudge() + "/ack", 1))
        return subs

    def receive(self, topic: str, payload: bytes, t: float) -> None:
        """Queue one message (any thread; the broker link puts into :attr:`inbox` directly)."""
        self.inbox.put(topic, payload, t)

    def _is_ack(self, topic: str) -> bool:
        return topic.endswith("/ack") and topic.startswith(self._nudge_prefix)

    def _ack(self, topic: str, payload: bytes, t: float) -> None:
        """Record a gateway's delivery acknowledgement of a nudge (``nudges/<badge>/ack``); a
        failed delivery is counted, a malformed acknowledgement rejected like any bad input
        (counted under its reason in the status, and logged)."""
        assert self.sink is not None
        reject = self.state.ingest.reject
        try:
            body = loads(payload)
        except DecodeError as exc:
            reject(exc.reason, exc.detail, topic)
            self.bad_acks += 1
            return
        badge = topic[len(self._nudge_prefix) : -len("/ack")]
        status = body.get("status") if isinstance(body, dict) else None
        if not isinstance(body, dict) or status not in ("delivered", "failed") or not valid_id(badge):
            reject("bad_ack", "not an object with status delivered or failed", topic)
            self.bad_acks += 1
            return
        if body.get("badge") != badge:  # a gateway answers for the badge of the nudge it relayed
            reject("topic_mismatch", f"badge {body.get('badge')!r} on the ack topic of {badge!r}", topic)
            self.bad_acks += 1
            return
        alert, gateway = body.get("alert"), body.get("gateway")
        alert = alert if isinstance(alert, str) else ""
        gateway = gateway if isinstance(gateway, str) else ""
        sent = finite_number(body.get("ts"))
        if sent is None:
            sent = t  # (no time of its own: it cannot be told from a copy)
        key = (status, alert, badge, gateway, sent)
        if key in self._acks_seen:
            self.ack_copies += 1
            return
        self._acks_seen[key] = None
        if len(self._acks_seen) > ACKS_REMEMBERED:
            self._acks_seen.popitem(last=False)
        if status == "failed":  # the gateway could not buzz it (out of range, BLE error)
            self.failed_acks += 1
            return
        try:
            self.sink.acknowledge(alert, badge, t, gateway, sent)
        except StoreError as exc:  # (the store's to recover from; the tick goes on)
            self._store_failed(exc)
        self.acks += 1

    def status_payload(self, state: str, stats: dict[str, object] | None = None, ts: float | None = None) -> bytes:
        """A ``pipeline/status`` body; ``ts`` (pipeline time) is when it was true: it is retained,
        so a dashboard that subscribes later can tell how old it is (the connect-time ``online``
        and the last will, made before they are sent, carry none)."""
        body: dict[str, object] = {"v": 1, "site": self.topics.site, "state": state}
        if ts is not None:
            body["ts"] = round(ts, 3)
        if stats is not None:
            body["stats"] = stats
        return dumps(body)

    def tick(self, now: float) -> list[Outbound]:
        """Run ``step`` at ``now`` over everything received since the last tick."""
        if self.stats is None:
            self.stats = LiveStats(self.state, started=now)
            self._next_status = now + self.status_every_s
        stats = self.stats
        batch = self.inbox.take()
        wall = self.clock()
        if self.sink is not None:  # nudge acknowledgements share the inbox (arrival order is kept)
            acks = [m for m in batch if self._is_ack(m.topic)]
            if acks:
                for m in acks:
                    self._ack(m.topic, m.payload, m.t)
                batch = [m for m in batch if not self._is_ack(m.topic)]
        for m in batch:
            stats.heard(m.topic, now)
        stats.lagged([wall - m.t for m in batch])
        result = step(self.state, [(m.topic, m.payload) for m in batch], now)
        self.last = result
        stats.badges_placed = len(result.frame.badges)
        out = [Outbound(self.topics.frames, encode_frame(result.frame), 0)]
        nudged = [b for a in result.alerts if not a.held_out for b in a.nudge]
        via = best_gateways(self.state, nudged, now) if nudged else {}
        for alert in result.alerts:
            out.append(Outbound(self.topics.alerts, encode_alert(alert), 1))
            self.published_alerts += 1
            if alert.held_out:
                continue
            for badge in alert.nudge:
                out.append(Outbound(self.topics.nudge(badge), nudge_payload(alert, badge, via.get(badge)), 1))
                self.published_nudges += 1
        if self.sink is not None:
            # After the messages are built: a store that fails (locked, disk full) must not cost
            # the venue its alerts and nudges. Its rows wait for the next flush (pipeline/store).
            try:
                self.sink.on_tick(result)
            except StoreError as exc:
                self._store_failed(exc)
        return out + self.status_due(now)

    def _store_failed(self, exc: StoreError) -> None:
        self.store_errors += 1
        if self.store_errors <= 5 or self.store_errors % 100 == 0:
            log.error("event store write failed (%d so far): %s", self.store_errors, exc)

    def status_due(self, now: float) -> list[Outbound]:
        """The status, when one is due at ``now`` (the runner also asks after a tick that failed,
        so ``tick_errors`` reaches the organizers while the failure lasts)."""
        if self._next_status is None or now < self._next_status:
            return []
        self._next_status = now + self.status_every_s
        return [self.status(now)]

    def status(self, now: float, **extra: object) -> Outbound:
        """The retained ``online`` status with the live statistics."""
        if self.stats is None:
            return Outbound(self.topics.pipeline_status, self.status_payload("online", ts=now), 1, True)
        inbox = self.inbox
        report = self.stats.report(
            now,
            queue_depth=len(inbox),
            queue_max=inbox.maxlen,
            dropped=inbox.dropped,
            alerts=self.published_alerts,
            nudges=self.published_nudges,
            tick_errors=self.tick_errors,
            store_errors=self.store_errors,
            **(
                {"acks": {"delivered": self.acks, "failed": self.failed_acks, "copies": self.ack_copies}}
                if self.sink is not None
                else {}
            ),
            **(self.status_extra() if self.status_extra is not None else {}),
            **extra,
        )
        self.last_status = report
        return Outbound(self.topics.pipeline_status, self.status_payload("online", report, now), 1, True)
