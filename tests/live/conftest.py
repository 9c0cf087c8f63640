"""Fixtures for the live tests: one small simulated event, shared by the session."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.sim import ScenarioConfig, simulate


@pytest.fixture(scope="session")
def small_event(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """40 attendees for 3 minutes (seed 3: two alerts with nudges)."""
    out = tmp_path_factory.mktemp("event")
    simulate(ScenarioConfig(attendees=40, minutes=3, seed=3, booths=2, clinginess=0.9), out)
    return out
