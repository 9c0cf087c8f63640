"""The simulator's composition point: one :class:`Simulation`, stepped once per second.

``step(now)`` moves the crowd to ``now``, lets every badge advertise once in
``[now, now + 1)`` (1 Hz with BLE's random 0–10 ms advDelay, so phases drift), runs the
radio model, and returns the truth at ``now`` plus the messages the broker receives as a
result: gateway windows that closed by ``now + 1`` and the positions feed's report. The
offline writer (:func:`~.writer.simulate`) and the live demo both call it; neither reads
the wall clock, and it runs for as long as it is stepped (the schedule repeats in
sessions of ``config.minutes``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from mingle_wire import Topics
from pipeline.roster import Roster
from pipeline.venue import Venue

from .config import ScenarioConfig
from .crowd import Crowd
from .proximity import ProximityModel
from .radio import RadioModel
from .rtls import PositionFeed
from .scenario import Scenario, build_scenario, seed_streams
from .states import ABSENT
from .uplink import SimMessage, Uplink

__all__ = ["TX_DBM", "SimTick", "Simulation", "TruthGroup"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

#: The measured power at 1 m every badge advertises (its ``tx`` field), dBm.
TX_DBM: Final = -59
_ADV_DELAY_S: Final = 0.010
_SEQ_MOD: Final = 2**32


@dataclass(frozen=True, slots=True)
class TruthGroup:
    """A true conversational group at one second: stable ``id``, sorted member badges."""

    id: str
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True, eq=False)
class SimTick:
    """The truth at second ``t`` and the messages it produced (sorted by arrival, then topic).

    ``badges`` are the people on the floor in id order (reference badges excluded), ``xy``
    their positions ``(n, 2)`` in metres and ``heading`` the way they face (radians
    counter-clockwise from +x, in (-π, π]).
    """

    t: float
    badges: tuple[str, ...]
    xy: FloatArray
    heading: FloatArray
    groups: tuple[TruthGroup, ...]
    messages: tuple[SimMessage, ...]

    def __post_init__(self) -> None:
        n = len(self.badges)
        if self.xy.shape != (n, 2) or self.heading.shape != (n,):
            raise ValueError(f"xy must be ({n}, 2) and heading ({n},), got {self.xy.shape} and {self.heading.shape}")

    def truth(self) -> dict[str, Any]:
        """This second as a ``truth.jsonl`` object (x, y to 0.01 m, heading to 0.001 rad)."""
        t = self.t
        return {
            "t": int(t) if t == int(t) else round(t, 3),
            "people": [
                {"badge": b, "x": round(x, 2), "y": round(y, 2), "heading": round(h, 3)}
                for b, (x, y), h in zip(self.badges, self.xy.tolist(), self.heading.tolist(), strict=True)
            ],
            "groups": [{"id": g.id, "members": list(g.members)} for g in self.groups],
        }


class Simulation:
    """A simulated event for ``config``; call :meth:`step` with ``config.start``, then +1 s each time."""

    def __init__(self, config: ScenarioConfig) -> None:
        self.config = config
        self.scenario: Scenario = build_scenario(config)
        rng = seed_streams(config.seed)
        venue = self.scenario.venue
        self._crowd = Crowd(self.scenario, rng["crowd"])
        people = len(self._crowd.badges)
        refs = venue.references
        self.badge_ids: tuple[str, ...] = (*self._crowd.badges, *(r.id for r in refs))
        self._people = people
        self._radio = RadioModel(venue.gateways, venue.floor, len(self.badge_ids), rng["radio"], noise=config.noise)
        self._z: FloatArray = np.concatenate(
            (np.clip(rng["radio"].normal(1.3, 0.05, people), 1.1, 1.5), np.array([r.z for r in refs]))
        )
        self._ref_xy: FloatArray = np.array([(r.x, r.y) for r in refs], dtype=np.float64).reshape(-1, 2)
        self._adv_next: FloatArray = config.start + rng["uplink"].uniform(0.0, 1.0, len(self.badge_ids))
        self._seq = rng["uplink"].integers(0, 2**16, len(self.badge_ids))
        self._adv_rng = rng["uplink"]
        topics = Topics(config.site)
        contact_rng = rng["contacts"] if config.contacts else None
        self._uplink = Uplink(topics, venue.gateways, self.badge_ids, TX_DBM, rng["uplink"], config.start, contact_rng)
        self._proximity: ProximityModel | None = None
        if contact_rng is not None:
            self._proximity = ProximityModel(self._radio, len(self.badge_ids), contact_rng, config.start)
        self._report_seq = np.full(len(self.badge_ids), -1, dtype=np.int64)  # the current report's id (-1: none)
        self._report_new = np.zeros(len(self.badge_ids), dtype=np.bool_)  # made, not yet advertised
        self._report_items: list[tuple[str, ...]] = [()] * len(self.badge_ids)
        self.reports_made = 0  # reports naming anyone, advertised at least once
        self._feed = PositionFeed(topics, rng["positions"], config.position_noise_m)
        self._next = config.start

    @property
    def venue(self) -> Venue:
        return self.scenario.venue

    @property
    def roster(self) -> Roster:
        return self.scenario.roster

    @property
    def next_time(self) -> float:
        """The ``now`` the next :meth:`step` expects (Unix s)."""
        return self._next

    @property
    def radio(self) -> RadioModel:
        return self._radio

    @property
    def uplink(self) -> Uplink:
        return self._uplink

    @property
    def feed(self) -> PositionFeed:
        return self._feed

    def step(self, now: float) -> SimTick:
        """Advance to ``now`` (must equal :attr:`next_time`) and return that second's tick."""
        if abs(now - self._next) > 1e-6:
            raise ValueError(f"step expects now={self._next!r} (one call per second, in order), got {now!r}")
        now = self._next
        crowd = self._crowd
        if now > self.config.start:
            crowd.advance(now)
        idx, xy, heading = crowd.positions()
        badges = tuple(crowd.badges[i] for i in idx.tolist())
        groups = tuple(TruthGroup(gid, members) for gid, members in crowd.formed())
        messages: list[SimMessage] = []
        if self.config.input in ("rssi", "both"):
            self._advertise(now, xy)
            messages += self._uplink.close(now + 1.0)
        if self.config.input in ("positions", "both"):
            messages.append(self._feed.publish(now, badges, xy, heading))
        messages.sort(key=lambda m: (m.t, m.topic))
        self._next = now + 1.0
        return SimTick(now, badges, xy, heading, groups, tuple(messages))

    def _advertise(self, now: float, crowd_xy: FloatArray) -> None:
        crowd = self._crowd
        events = np.flatnonzero(self._adv_next < now + 1.0)
        when = self._adv_next[events].copy()
        seq = self._seq[events].copy()
        self._adv_next[events] += 1.0 + self._adv_rng.uniform(0.0, _ADV_DELAY_S, events.size)
        self._seq[events] = (seq + 1) % _SEQ_MOD
        people = self._people
        on_floor = np.concatenate((crowd.state != ABSENT, np.ones(self._ref_xy.shape[0], dtype=np.bool_)))
        keep = on_floor[events]
        badge = events[keep]
        person = badge < people
        xy = np.empty((badge.size, 2))
        facing = np.full(badge.size, np.nan)
        pi = badge[person]
        xy[person] = crowd.pos[pi] + crowd.sway[pi]
        facing[person] = crowd.heading[pi] + crowd.sway_h[pi]
        xy[~person] = self._ref_xy[badge[~person] - people]
        heard = self._radio.hear(now, badge, xy, self._z[badge], facing, crowd_xy, person)
        self._uplink.receive(when[keep], badge, seq[keep], heard.heard, heard.rssi)
        if self._proximity is not None:
            self._report(now, when[keep], badge, seq[keep], heard.heard, heard.rssi)
            self._proximity.listen(when[keep][person], badge[person], xy[person], facing[person], crowd_xy)

    def _report(
        self, now: float, when: FloatArray, badge: IntArray, seq: IntArray, heard: BoolArray, rssi: IntArray
    ) -> None:
        """Neighbour reports: the ones due now replace the badges' last, and every advertisement
        of this round carries its badge's (the first one to carry a report gives it its id)."""
        assert self._proximity is not None
        ids = self.badge_ids
        for b, report in self._proximity.reports(now).items():
            self._report_new[b] = True
            self._report_items[b] = tuple(
                f'{{"badge":"{ids[b]}","near":"{ids[n]}","rssi":{r}'
                for n, r in zip(report.near, report.rssi, strict=True)
            )
        new = self._report_new[badge]
        self._report_seq[badge[new]] = seq[new]
        self._report_new[badge[new]] = False
        items = [self._report_items[b] for b in badge.tolist()]
        self._uplink.receive_reports(when, badge, heard, rssi, self._report_seq[badge], items)
        self.reports_made += int(np.count_nonzero(new & np.array([bool(i) for i in items])))

    def drain(self) -> tuple[SimMessage, ...]:
        """Messages of the windows still open (call once, at the end of a finite run)."""
        return tuple(self._uplink.drain())
