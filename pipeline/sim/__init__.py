"""The ground-truth simulator: a synthetic networking event with known groups and huddles.

:class:`ScenarioConfig` holds the knobs; :class:`Simulation` is stepped once per second
(the live demo plays it in real time); :func:`simulate` runs one to the end and writes
``venue.yaml``, ``roster.csv``, ``recording.jsonl.gz``, ``truth.jsonl`` and
``scenario.json``. The model and its sources are in ``docs/simulator.md``.
"""

from .config import INPUTS, ScenarioConfig
from .radio import RadioModel, RadioParams
from .scenario import Scenario, build_scenario
from .simulation import SimTick, Simulation, TruthGroup
from .uplink import SimMessage
from .writer import FILES, SimulationSummary, simulate

__all__ = [
    "FILES",
    "INPUTS",
    "RadioModel",
    "RadioParams",
    "Scenario",
    "ScenarioConfig",
    "SimMessage",
    "SimTick",
    "Simulation",
    "SimulationSummary",
    "TruthGroup",
    "build_scenario",
    "simulate",
]
