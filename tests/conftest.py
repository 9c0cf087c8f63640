"""Shared fixtures: small hand-made venues and rosters."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _collector_as_it_was() -> Iterator[None]:
    """A command run in-process (``mingle replay``, ``evaluate``) sets the garbage collector
    up for a pipeline process (``allocator.collect_less``): undone after each test, so the
    rest of the session runs with the interpreter's own settings."""
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


VENUE_YAML = """\
site: expo
name: Test Hall
floor: {width: 20, height: 14}
gateways:
  - {id: gw-01, x: 2, y: 2, z: 2.5}
  - {id: gw-02, x: 10, y: 2, z: 2.5}
  - {id: gw-03, x: 18, y: 2, z: 2.5}
  - {id: gw-04, x: 2, y: 12, z: 2.5}
  - {id: gw-05, x: 10, y: 12, z: 2.5}
  - {id: gw-06, x: 18, y: 12, z: 2.5}
references:
  - {id: ref-01, x: 1, y: 7, z: 1.2}
zones:
  - name: booth-acme
    polygon: [[0, 0], [4, 0], [4, 3], [0, 3]]
    nudges: false
policy:
  dwell_s: 60
"""

ROSTER_CSV = """\
badge,company,name,role,opt_out,interests
b-01,Acme,Ann,attendee,no,robots;ml
b-02,Acme,Bob,attendee,no,ml
b-03,Acme,Cat,attendee,yes,robots
b-04,Acme,Dan,staff,no,
b-05,Globex,Eve,attendee,no,ml;bio
b-06,Initech,Fay,attendee,no,bio
"""


@pytest.fixture
def venue_file(tmp_path: Path) -> Path:
    path = tmp_path / "venue.yaml"
    path.write_text(VENUE_YAML, encoding="utf-8")
    return path


@pytest.fixture
def roster_file(tmp_path: Path) -> Path:
    path = tmp_path / "roster.csv"
    path.write_text(ROSTER_CSV, encoding="utf-8")
    return path
