"""Hand-made tick results for store tests: two companies, one acme huddle that gets alerted."""

from __future__ import annotations

from pathlib import Path

from mingle_wire import Alert, Frame, FrameBadge, FrameCluster
from pipeline.step import TickResult
from pipeline.store import StoreSink

T0 = 1_700_000_000.0
COMPANY = {"a-1": "acme", "a-2": "acme", "a-3": "acme", "b-1": "beta", "b-2": "beta"}


def tick(s: int) -> TickResult:
    badges = tuple(FrameBadge(b, float(k), 1.0, 0.5) for k, b in enumerate(sorted(COMPANY)))
    if s < 60:
        clusters = (FrameCluster("c-1", ("a-1", "a-2", "a-3"), 1.0, 1.0, "acme", 1.0, T0),)
    else:  # the huddle broke up: a-1 joined the beta pair
        clusters = (FrameCluster("c-2", ("a-1", "b-1", "b-2"), 4.0, 2.0, "beta", 2 / 3, T0 + 60),)
    alerts = ()
    if s == 30:
        alerts = (Alert("al-1", "expo", T0 + s, "c-1", "acme", ("a-1", "a-2", "a-3"), T0, nudge=("a-1",)),)
    if s == 40:
        alerts = (Alert("al-2", "expo", T0 + s, "c-1", "acme", ("a-1", "a-2", "a-3"), T0, held_out=True),)
    return TickResult(Frame("expo", T0 + s, badges, clusters), alerts)


def fill(path: Path, seconds: int = 120, **kw: object) -> None:
    sink = StoreSink(path, company_of=COMPANY, meta={"site": "expo", "floor_width": "20", "floor_height": "14"}, **kw)  # type: ignore[arg-type]
    for s in range(seconds):
        sink.on_tick(tick(s))
    sink.close()
