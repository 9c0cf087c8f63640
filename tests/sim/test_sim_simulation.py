"""The step API the live demo drives: one call per second, for as long as it likes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from mingle_wire import RecordingWriter
from pipeline.sim import ScenarioConfig, SimTick, Simulation, TruthGroup

SMALL = ScenarioConfig(attendees=30, minutes=1, booths=1, input="both", seed=11)


def test_step_wants_consecutive_seconds() -> None:
    sim = Simulation(SMALL)
    assert sim.next_time == SMALL.start
    with pytest.raises(ValueError, match=r"expects now=1764140000\.0"):
        sim.step(SMALL.start + 1)
    sim.step(SMALL.start)
    assert sim.next_time == SMALL.start + 1
    with pytest.raises(ValueError, match="one call per second"):
        sim.step(SMALL.start)


def test_tick_messages_arrive_after_their_second_in_order() -> None:
    sim = Simulation(SMALL)
    for k in range(20):
        tick = sim.step(SMALL.start + k)
        keys = [(m.t, m.topic) for m in tick.messages]
        assert keys == sorted(keys)
        assert all(tick.t < m.t < tick.t + 1.5 for m in tick.messages)
        topics = [m.topic for m in tick.messages]
        assert topics.count("mingle/expo/positions/rtls-1") == 1
        if k >= 2:  # every gateway closes one window per second once the clocks are under way
            assert sum("/readings/" in t for t in topics) == len(sim.venue.gateways)


def test_arrivals_up_to_t_plus_one_are_final_after_tick_t() -> None:
    """What lets simulate() (and the live demo) publish in arrival order with a one-second buffer."""
    sim = Simulation(SMALL)
    ticks = [sim.step(SMALL.start + k) for k in range(40)]
    for k, tick in enumerate(ticks):
        later = [m.t for t in ticks[k + 1 :] for m in t.messages]
        assert not later or min(later) > tick.t + 1.0


def test_message_line_is_what_recording_writer_writes(tmp_path: Path) -> None:
    sim = Simulation(SMALL)
    messages = [m for k in range(3) for m in sim.step(SMALL.start + k).messages]
    path = tmp_path / "rec.jsonl"
    with RecordingWriter(path) as writer:
        for m in messages:
            assert m.payload == json.loads(m.body)
            writer.write(m.topic, m.payload, m.t)
    assert path.read_bytes() == b"".join(m.line() for m in messages)


def test_runs_open_ended_past_the_configured_length() -> None:
    sim = Simulation(ScenarioConfig(attendees=30, minutes=1, booths=1, input="positions", seed=12))
    counts = []
    for k in range(300):  # five sessions of one minute
        tick = sim.step(SMALL.start + k)
        counts.append(len(tick.badges))
    assert min(counts[200:]) > 10  # people keep coming back, session after session
    assert tick.groups and all(isinstance(g, TruthGroup) for g in tick.groups)


def test_noise_changes_the_radio_not_the_crowd() -> None:
    quiet = Simulation(ScenarioConfig(attendees=30, minutes=1, booths=1, noise=0.5))
    loud = Simulation(ScenarioConfig(attendees=30, minutes=1, booths=1, noise=2.0))
    differ = False
    for k in range(15):
        a, b = quiet.step(SMALL.start + k), loud.step(SMALL.start + k)
        assert a.truth() == b.truth()
        differ |= [m.body for m in a.messages] != [m.body for m in b.messages]
    assert differ


def test_truth_dict_rounds_and_orders() -> None:
    tick = SimTick(
        1764140000.0,
        ("b-0001", "b-0002"),
        np.array([[1.234, 2.0], [3.0, 4.5678]]),
        np.array([0.12345, -3.0]),
        (TruthGroup("g-3", ("b-0001", "b-0002")),),
        (),
    )
    assert tick.truth() == {
        "t": 1764140000,
        "people": [
            {"badge": "b-0001", "x": 1.23, "y": 2.0, "heading": 0.123},
            {"badge": "b-0002", "x": 3.0, "y": 4.57, "heading": -3.0},
        ],
        "groups": [{"id": "g-3", "members": ["b-0001", "b-0002"]}],
    }
    with pytest.raises(ValueError, match="xy must be"):
        SimTick(1.0, ("b-0001",), np.zeros((2, 2)), np.zeros(1), (), ())
