"""warm_up: a built PipelineState has compiled every loop its ticks run, with their types.

Each case runs in a fresh interpreter: numba keeps what it compiled for the whole process,
so in the test session's own process a loop some earlier test compiled would look warmed up.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent

CASE = """
import importlib, json, pkgutil, sys
sys.path.append({here!r})  # (the sibling test module with the noise-free readings)
from numba.core.registry import CPUDispatcher
import pipeline.core
import pipeline.step
from pipeline.detector import BASELINE, MINGLE
from pipeline.roster import load_roster
from pipeline.venue import Floor, Gateway, Venue, load_venue
from test_step_replay import T0, ideal_messages

if {warm!r} == "off":
    pipeline.step.warm_up = lambda state: None  # (the test's own check: it must then fail)
venue = load_venue({venue!r})
if {floor!r} == "whole metres, two gateways":
    venue = Venue(venue.site, venue.name, Floor(20, 14), (Gateway("gw-01", 2, 2), Gateway("gw-02", 18, 12)),
                  venue.references, venue.zones, venue.policy)
state = pipeline.step.PipelineState(venue, load_roster({roster!r}), {detector})

def compiled():
    mods = [importlib.import_module(m.name) for m in pkgutil.iter_modules(pipeline.core.__path__, "pipeline.core.")]
    return {{f"{{m.__name__}}.{{k}}": len(f.signatures) for m in mods for k, f in vars(m).items()
             if isinstance(f, CPUDispatcher)}}

ready = compiled()
msgs = ideal_messages(venue, 40)
for s in range(40):  # long enough for profiles, co-fluctuations and colleague scores
    batch = [(t, p) for t, p, arrival in msgs if T0 + s <= arrival < T0 + s + 1]
    pipeline.step.step(state, batch, T0 + s + 1)
print(json.dumps({{"ready": ready, "after": compiled()}}))
"""


def run_case(venue_file: Path, roster_file: Path, detector: str, floor: str, warm: str = "on") -> dict[str, dict]:
    code = CASE.format(
        here=str(HERE), venue=str(venue_file), roster=str(roster_file), detector=detector, floor=floor, warm=warm
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    ("detector", "floor"),
    [("MINGLE", "as loaded"), ("BASELINE", "as loaded"), ("MINGLE", "whole metres, two gateways")],
)
def test_a_built_pipeline_has_compiled_every_loop_its_ticks_run(
    venue_file: Path, roster_file: Path, detector: str, floor: str
) -> None:
    got = run_case(venue_file, roster_file, detector, floor)
    # No loop met a type it had not been compiled for, and the ticks did run compiled loops.
    assert got["after"] == got["ready"]
    called = {name.rsplit(".", 1)[1] for name, n in got["ready"].items() if n}
    assert {
        "_fill_symmetric",
        "_bin",
        "_walk",
        "_network_quartiles",
        "_lists",
        "_cell_order",
        "_fill",  # (nearpairs: both its one-pass and its count-first paths)
        "_count_live",
        "_fill_live",
        "_clear_column",
        "_leave_recent",
    } <= called
    if detector == "MINGLE":
        assert {"_correlate", "_centre_range", "_pair_sums", "_fit", "_pick_strongest", "_series"} <= called


def test_without_the_warm_up_the_ticks_compile_loops_of_their_own(venue_file: Path, roster_file: Path) -> None:
    got = run_case(venue_file, roster_file, "MINGLE", "as loaded", warm="off")
    assert got["after"] != got["ready"]  # (what makes the test above able to fail)
