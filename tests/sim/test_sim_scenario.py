"""The generated venue and roster: realistic shape, and they load back through the real loaders."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from pipeline.roster import dump_roster, load_roster
from pipeline.sim import Scenario, ScenarioConfig, build_scenario
from pipeline.sim.population import INTERESTS, ORGANIZERS, company_sizes
from pipeline.venue import Policy, dump_venue, load_venue


@pytest.fixture(scope="module")
def default_scenario() -> Scenario:
    return build_scenario(ScenarioConfig())


def test_company_sizes_are_heavy_tailed(default_scenario: Scenario) -> None:
    roster = default_scenario.roster
    sizes = sorted(Counter(a.company for a in roster.values()).values(), reverse=True)
    assert sum(sizes) == 300
    assert 2 <= sum(1 for s in sizes if s >= 10) <= 8  # a few big delegations
    assert max(sizes) <= 27  # delegations of 10-25, plus 2 booth staff at most
    small = sum(1 for s in sizes if s <= 3)
    assert small / len(sizes) > 0.6  # many companies of one to three
    assert sizes.count(1) > 20  # singletons


def test_company_sizes_sum_exactly() -> None:
    rng = np.random.default_rng(0)
    for people in (1, 7, 35, 285, 800):
        assert sum(company_sizes(people, rng)) == people


def test_roles_staff_and_opt_out(default_scenario: Scenario) -> None:
    cast = default_scenario.cast
    roster = cast.roster
    roles = Counter(a.role for a in roster.values())
    assert roles["staff"] == 12 and roles["organizer"] == 3 and roles["speaker"] == 6
    assert roles["attendee"] == 300 - 21
    assert len(cast.booth_staff) == 6 == len(set(cast.booth_company))
    for company, pair in zip(cast.booth_company, cast.booth_staff, strict=True):
        assert all(roster[b].role == "staff" and roster[b].company == company for b in pair)
    assert all(a.company == ORGANIZERS for a in roster.values() if a.role == "organizer")
    assert sum(a.opt_out for a in roster.values()) == 15  # 5 % of 300
    assert all(a.interests and set(a.interests) <= set(INTERESTS) for a in roster.values())
    assert all(a.name and " " in a.name for a in roster.values())


def test_badges_are_shuffled_and_unknown_badges_are_not_on_the_roster(default_scenario: Scenario) -> None:
    cast = default_scenario.cast
    assert len(cast.unknown) == 3 and not set(cast.unknown) & set(cast.roster)
    ids = sorted([*cast.roster, *cast.unknown])
    assert ids == [f"b-{i:04d}" for i in range(1, 304)]
    first = [cast.roster[b].company for b in list(cast.roster)[:20]]
    assert len(set(first)) > 5  # colleagues do not get consecutive badges


def test_venue_layout(default_scenario: Scenario) -> None:
    venue = default_scenario.venue
    assert (venue.floor.width, venue.floor.height) == (40.0, 30.0)
    assert len(venue.gateways) == 24  # 6 x 4 at about 7 m
    assert all(2.5 <= g.z <= 3.0 for g in venue.gateways)
    xs = sorted({g.x for g in venue.gateways})
    assert np.allclose(np.diff(xs), 40.0 / 6, atol=0.02)
    assert len(venue.references) == 4
    assert len(venue.zones) == 6 and not any(z.nudges for z in venue.zones)
    for r in venue.references:
        assert venue.zone_at(r.x, r.y) is None
    for booth in default_scenario.booths:
        assert booth.zone.contains(*booth.centre)
    assert venue.policy == Policy()


def test_files_load_back(tmp_path: Path, default_scenario: Scenario) -> None:
    (tmp_path / "venue.yaml").write_text(dump_venue(default_scenario.venue), encoding="utf-8")
    dump_roster(default_scenario.roster, tmp_path / "roster.csv")
    assert load_venue(tmp_path / "venue.yaml") == default_scenario.venue
    loaded = load_roster(tmp_path / "roster.csv")
    assert dict(loaded) == dict(default_scenario.roster)


def test_same_seed_same_scenario_other_seed_other() -> None:
    a, b = build_scenario(ScenarioConfig(seed=5)), build_scenario(ScenarioConfig(seed=5))
    assert a.venue == b.venue and dict(a.roster) == dict(b.roster)
    c = build_scenario(ScenarioConfig(seed=6))
    assert dict(a.roster) != dict(c.roster)


def test_noise_does_not_change_who_comes() -> None:
    a, b = build_scenario(ScenarioConfig(noise=0.5)), build_scenario(ScenarioConfig(noise=2.0))
    assert dict(a.roster) == dict(b.roster) and a.venue == b.venue
