"""``simulate()``: run a scenario to its end and write its files.

Writes into ``out_dir``: ``venue.yaml``, ``roster.csv``, ``recording.jsonl.gz`` (every
message in arrival order, ties broken by topic), ``truth.jsonl`` (one line per second) and
``scenario.json`` (the knobs and the summary counts). Same config, same bytes: no wall
clock anywhere, compact JSON, and the gzip header's mtime fixed at 0.
"""

from __future__ import annotations

import gzip
import heapq
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Protocol

from pipeline.roster import dump_roster
from pipeline.venue import dump_venue

from .census import HuddleCensus
from .config import ScenarioConfig
from .simulation import Simulation
from .uplink import SimMessage

__all__ = ["FILES", "SimulationSummary", "simulate"]

#: The files :func:`simulate` writes, by role.
FILES = {
    "venue": "venue.yaml",
    "roster": "roster.csv",
    "recording": "recording.jsonl.gz",
    "truth": "truth.jsonl",
    "scenario": "scenario.json",
}


@dataclass(frozen=True, slots=True)
class SimulationSummary:
    """Counts of a finished run (what ``scenario.json`` holds under ``summary``).

    ``people`` = roster entries + unknown badges; ``loss_rate`` = 1 - heard / audible
    (packets above sensitivity that no message carried).
    """

    seconds: int
    people: int
    attendees: int
    unknown_badges: int
    companies: int
    gateways: int
    references: int
    booths: int
    messages: int
    reading_messages: int
    position_messages: int
    readings: int
    positions: int
    contact_messages: int
    contacts: int
    audible: int
    loss_rate: float
    groups: int
    same_company_groups: int
    same_company_groups_in_booths: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...


class _Recorder:
    """A reorder buffer in front of the gzip file: writes messages in arrival order."""

    def __init__(self, fh: _Sink) -> None:
        self._fh = fh
        self._heap: list[tuple[float, str, int, SimMessage]] = []
        self._n = 0
        self.reading_messages = 0
        self.position_messages = 0
        self.contact_messages = 0

    def add(self, messages: tuple[SimMessage, ...]) -> None:
        for m in messages:
            heapq.heappush(self._heap, (m.t, m.topic, self._n, m))
            self._n += 1

    def flush(self, upto: float) -> None:
        """Write every buffered message that arrived by ``upto`` (later steps only add later ones)."""
        out: list[bytes] = []
        while self._heap and self._heap[0][0] <= upto:
            m = heapq.heappop(self._heap)[3]
            if "/readings/" in m.topic:
                self.reading_messages += 1
            elif "/contacts/" in m.topic:
                self.contact_messages += 1
            else:
                self.position_messages += 1
            out.append(m.line())
        self._fh.write(b"".join(out))


def simulate(config: ScenarioConfig, out_dir: str | Path, progress: bool = False) -> SimulationSummary:
    """Simulate ``config`` from ``config.start`` for ``config.minutes`` and write the files into ``out_dir``.

    ``progress`` shows a tqdm bar on stderr. Returns the summary also written to
    ``scenario.json``.
    """
    from tqdm import tqdm

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sim = Simulation(config)
    venue, roster = sim.venue, sim.roster
    (out / FILES["venue"]).write_text(dump_venue(venue), encoding="utf-8")
    dump_roster(roster, out / FILES["roster"])
    census = HuddleCensus(roster, venue, min_size=venue.policy.min_size, dwell_s=venue.policy.dwell_s)
    with (
        open(out / FILES["recording"], "wb") as raw,
        gzip.GzipFile(filename="recording.jsonl", mode="wb", fileobj=raw, compresslevel=6, mtime=0) as gz,
        open(out / FILES["truth"], "w", encoding="utf-8", newline="\n") as truth,
        tqdm(total=config.duration_s, unit="s", desc="simulate", disable=not progress) as bar,
    ):
        recorder = _Recorder(gz)
        for k in range(config.duration_s):
            tick = sim.step(config.start + k)
            truth.write(json.dumps(tick.truth(), separators=(",", ":"), ensure_ascii=False) + "\n")
            census.update(tick.t, [(g.id, g.members) for g in tick.groups], tick.badges, tick.xy)
            recorder.add(tick.messages)
            recorder.flush(tick.t + 1.0)
            bar.update(1)
        recorder.add(sim.drain())
        recorder.flush(float("inf"))
    radio = sim.radio
    summary = SimulationSummary(
        seconds=config.duration_s,
        people=len(roster) + len(sim.scenario.cast.unknown),
        attendees=len(roster),
        unknown_badges=len(sim.scenario.cast.unknown),
        companies=len({a.company for a in roster.values()}),
        gateways=len(venue.gateways),
        references=len(venue.references),
        booths=len(sim.scenario.booths),
        messages=recorder.reading_messages + recorder.position_messages + recorder.contact_messages,
        reading_messages=recorder.reading_messages,
        position_messages=recorder.position_messages,
        readings=sim.uplink.readings,
        positions=sim.feed.positions,
        contact_messages=recorder.contact_messages,
        contacts=sim.uplink.contacts,
        audible=radio.audible_total,
        loss_rate=round(1.0 - radio.heard_total / radio.audible_total, 4) if radio.audible_total else 0.0,
        groups=census.groups,
        same_company_groups=census.same_company,
        same_company_groups_in_booths=census.same_company_in_booths,
    )
    document = {"config": config.to_dict(), "summary": summary.to_dict()}
    (out / FILES["scenario"]).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    return summary
