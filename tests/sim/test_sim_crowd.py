"""Truth invariants of the crowd model: F-formations, no overlaps, arrivals and departures."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pipeline.sim import ScenarioConfig, SimTick, Simulation
from pipeline.sim.formation import CLEARANCE_M

# Positions only: the crowd is the same as with the radio (own seed stream), and faster.
CONFIG = ScenarioConfig(attendees=60, minutes=4, booths=2, input="positions", seed=3)


@pytest.fixture(scope="module")
def run() -> tuple[Simulation, list[SimTick]]:
    sim = Simulation(CONFIG)
    return sim, [sim.step(CONFIG.start + k) for k in range(CONFIG.duration_s)]


@pytest.fixture(scope="module")
def ticks(run: tuple[Simulation, list[SimTick]]) -> list[SimTick]:
    return run[1]


def test_one_tick_per_second_people_sorted_and_on_the_floor(ticks: list[SimTick]) -> None:
    assert [t.t for t in ticks] == [CONFIG.start + k for k in range(CONFIG.duration_s)]
    width, height = CONFIG.floor_m
    for tick in ticks:
        assert list(tick.badges) == sorted(tick.badges)
        assert len(set(tick.badges)) == len(tick.badges)
        assert np.all((tick.xy > -0.5) & (tick.xy < np.array([width, height]) + 0.5))
        assert np.all(np.abs(tick.heading) <= math.pi)
        assert not any(b.startswith("ref-") for b in tick.badges)


def test_groups_are_two_to_seven_present_and_disjoint(ticks: list[SimTick]) -> None:
    total = 0
    for tick in ticks:
        present = set(tick.badges)
        seen: set[str] = set()
        for g in tick.groups:
            assert 2 <= len(g.members) <= 7
            assert list(g.members) == sorted(g.members)
            assert set(g.members) <= present
            assert not set(g.members) & seen, f"{g.id} shares members with another group"
            seen |= set(g.members)
            total += 1
        assert len({g.id for g in tick.groups}) == len(tick.groups)
    assert total > 1000  # groups actually happen


def test_members_stand_close_and_face_the_centre(ticks: list[SimTick]) -> None:
    errors: list[float] = []
    for tick in ticks:
        where = {b: i for i, b in enumerate(tick.badges)}
        for g in tick.groups:
            rows = [where[m] for m in g.members]
            xy = tick.xy[rows]
            spread = np.max(np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1)))
            assert spread <= 2.3, f"{g.id} members {spread:.2f} m apart at {tick.t}"
            centre = xy.mean(axis=0)
            want = np.arctan2(centre[1] - xy[:, 1], centre[0] - xy[:, 0])
            err = np.abs((tick.heading[rows] - want + math.pi) % (2 * math.pi) - math.pi)
            errors.extend(err.tolist())
    e = np.array(errors)
    assert np.percentile(e, 95) < 0.4
    assert e.max() < 1.3


def test_group_centres_keep_apart(ticks: list[SimTick]) -> None:
    closest = math.inf
    for tick in ticks[::5]:
        where = {b: i for i, b in enumerate(tick.badges)}
        centres = np.array([tick.xy[[where[m] for m in g.members]].mean(axis=0) for g in tick.groups])
        if len(centres) > 1:
            d = np.hypot(*(centres[:, None, :] - centres[None, :, :]).transpose(2, 0, 1))
            closest = min(closest, float(d[np.triu_indices(len(centres), 1)].min()))
    # Slot centres keep CLEARANCE_M; member means wobble a little while people shuffle.
    assert CLEARANCE_M - 0.6 < closest < 4.0  # adjacent groups exist and do not overlap


def test_group_ids_are_stable_and_groups_last_minutes(ticks: list[SimTick]) -> None:
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for tick in ticks:
        for g in tick.groups:
            first.setdefault(g.id, tick.t)
            last[g.id] = tick.t
    spans = np.array([last[g] - first[g] for g in first])
    assert np.median(spans) >= 60
    # an id that disappears never comes back
    alive: set[str] = set()
    gone: set[str] = set()
    for tick in ticks:
        now = {g.id for g in tick.groups}
        assert not now & gone
        gone |= alive - now
        alive = now


def test_people_walk_at_about_one_metre_per_second(ticks: list[SimTick]) -> None:
    speeds: list[float] = []
    for a, b in itertools.pairwise(ticks):
        common = sorted(set(a.badges) & set(b.badges))
        ia = {x: i for i, x in enumerate(a.badges)}
        ib = {x: i for i, x in enumerate(b.badges)}
        d = np.hypot(*(b.xy[[ib[c] for c in common]] - a.xy[[ia[c] for c in common]]).T)
        speeds.extend(d.tolist())
    s = np.array(speeds)
    assert s.max() < 1.7  # nobody teleports (1.4 m/s plus sway)
    walking = s[s > 0.5]
    assert walking.size > 100 and 0.8 < np.median(walking) < 1.2


def test_booth_staff_stay_in_their_booth_and_people_visit(run: tuple[Simulation, list[SimTick]]) -> None:
    sim, ticks = run
    cast = sim.scenario.cast
    zone_of = {b: booth.zone for booth, pair in zip(sim.scenario.booths, cast.booth_staff, strict=True) for b in pair}
    visitors: set[str] = set()
    for tick in ticks:
        where = {b: i for i, b in enumerate(tick.badges)}
        for badge, zone in zone_of.items():
            x, y = tick.xy[where[badge]]
            assert zone.contains(float(x), float(y)), f"{badge} left {zone.name} at {tick.t}"
        for g in tick.groups:
            if set(g.members) & set(zone_of):
                visitors |= set(g.members) - set(zone_of)
    assert visitors  # attendees stop by the booths


def test_arrivals_over_the_first_third() -> None:
    config = ScenarioConfig(attendees=60, minutes=6, booths=2, input="positions", seed=4)
    sim = Simulation(config)
    counts = [len(sim.step(config.start + k).badges) for k in range(config.duration_s)]
    assert counts[0] < 63 * 0.9  # most, not all, at the start
    assert max(counts[: config.duration_s // 3 + 10]) >= counts[0] + 5
    assert counts[-1] < max(counts)  # some leave in the last third


@pytest.mark.parametrize("clinginess", [0.0, 1.0])
def test_clinginess_drives_same_company_groups(clinginess: float) -> None:
    config = ScenarioConfig(attendees=120, minutes=3, booths=2, clinginess=clinginess, input="positions")
    sim = Simulation(config)
    same = total = 0
    for k in range(config.duration_s):
        for g in sim.step(config.start + k).groups:
            companies = {sim.roster.company(m) for m in g.members}
            total += len(g.members)
            same += len(g.members) if len(companies) == 1 and None not in companies else 0
    share = same / total
    if clinginess == 0.0:
        assert share < 0.05  # only booth staff standing together
    else:
        assert share > 0.2
