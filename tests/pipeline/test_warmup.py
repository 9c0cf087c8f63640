"""warm_up: after building a PipelineState, a tick compiles nothing more."""

from __future__ import annotations

from pathlib import Path

from numba.core.registry import CPUDispatcher
from test_step_replay import T0, ideal_messages  # (a sibling test module: tests are not a package)

import pipeline.core.covary
import pipeline.core.grouping
import pipeline.core.positioning
from pipeline.detector import MINGLE
from pipeline.roster import load_roster
from pipeline.step import PipelineState, step
from pipeline.venue import load_venue

MODULES = (pipeline.core.covary, pipeline.core.grouping, pipeline.core.positioning)


def _compiled() -> dict[str, int]:
    """Every compiled loop of the pipeline, and how many type signatures it has compiled."""
    return {
        f"{m.__name__}.{name}": len(f.signatures)
        for m in MODULES
        for name, f in vars(m).items()
        if isinstance(f, CPUDispatcher)
    }


def test_a_built_pipeline_has_compiled_every_loop_its_ticks_run(venue_file: Path, roster_file: Path) -> None:
    venue, roster = load_venue(venue_file), load_roster(roster_file)
    state = PipelineState(venue, roster, MINGLE)
    ready = _compiled()
    # Every loop a tick calls from Python is compiled (the loops they call inside compiled
    # code are compiled into them and have no signatures of their own).
    called = {name.rsplit(".", 1)[1] for name, signatures in ready.items() if signatures}
    assert called >= {"_correlate", "_centre_rows", "_pair_sums", "_fill_symmetric", "_fit", "_pick_strongest"}
    msgs = ideal_messages(venue, 40)
    for s in range(40):  # long enough for profiles, co-fluctuations and colleague scores
        batch = [(t, p) for t, p, arrival in msgs if T0 + s <= arrival < T0 + s + 1]
        result = step(state, batch, T0 + s + 1)
    assert len(result.frame.badges) == 5
    assert _compiled() == ready  # no loop met a type it had not been compiled for
