"""The sink behind the real ``step``: a persistent Acme huddle ends up in the store."""

import json
import math
from pathlib import Path

from mingle_wire import Reading, ReadingBatch, Topics, encode_readings
from pipeline.roster import load_roster
from pipeline.step import PipelineState, step
from pipeline.store import EventStore, StoreSink
from pipeline.venue import load_venue

T0 = 1764140000.0
SPOTS = {"b-01": (9.5, 7.0), "b-02": (10.5, 7.0), "b-03": (10.0, 7.8), "b-05": (16.0, 9.0), "b-06": (5.0, 10.0)}


def test_sink_stores_what_step_emits(venue_file: Path, roster_file: Path, tmp_path: Path) -> None:
    venue, roster = load_venue(venue_file), load_roster(roster_file)
    state = PipelineState(venue, roster)
    topics = Topics(venue.site)
    sink = StoreSink.for_venue(tmp_path / "expo.db", venue, roster, flush_every=7)
    alerts = 0
    for s in range(90):
        batch = []
        for gw in venue.gateways:
            readings = tuple(
                Reading(
                    b,
                    round(-59.0 - 22.0 * math.log10(math.sqrt((x - gw.x) ** 2 + (y - gw.y) ** 2 + 1.69))),
                    T0 + s + 0.5,
                )
                for b, (x, y) in SPOTS.items()
            )
            batch.append(
                (topics.readings(gw.id), json.loads(encode_readings(ReadingBatch(gw.id, T0 + s + 1, readings))))
            )
        result = step(state, batch, T0 + s + 1)
        alerts += len(result.alerts)
        sink.on_tick(result)
    sink.close()
    with EventStore(tmp_path / "expo.db", readonly=True) as store:
        assert store.meta() == {"site": "expo", "floor_width": "20.0", "floor_height": "14.0", "runs": "1"}
        assert len(store.alerts()) == alerts == 1
        assert store.alerts()[0]["company"] == "Acme"
        pairs = {(a, b) for _, a, b in store.query("SELECT t, a, b FROM contacts")}
        assert ("b-01", "b-02") in pairs
        assert any(e["company"] == "Acme" for e in store.episodes())
        assert store.count("positions") == 5 * 18  # every 5 s over 90 s
