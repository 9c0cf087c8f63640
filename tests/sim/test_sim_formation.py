"""F-formation geometry and free-spot finding."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from pipeline.sim.formation import CLEARANCE_M, find_spot, formation_radius, slot_angles


def test_radius_grows_from_two_to_seven() -> None:
    radii = [formation_radius(n) for n in range(2, 8)]
    assert radii[0] == pytest.approx(0.6) and radii[-1] == pytest.approx(1.0)
    assert all(b > a for a, b in itertools.pairwise(radii))
    assert formation_radius(12) == pytest.approx(1.0)


def test_slots_are_even_and_keep_order() -> None:
    tau = 2 * math.pi
    start = [0.1, 2.0, 2.2, 4.0, -0.5]
    out = slot_angles(start)
    gaps = np.diff(sorted(a % tau for a in out))
    assert np.allclose(gaps, tau / 5)
    order = sorted(range(5), key=lambda i: start[i] % tau)
    around = [(out[i] - out[order[0]]) % tau for i in order]
    assert around == sorted(around)  # same circular order
    assert max(abs((o - a + math.pi) % tau - math.pi) for o, a in zip(out, start, strict=True)) < 1.0
    even = [0.0, math.pi]
    assert np.allclose(slot_angles(even), even)  # already even: nobody moves
    assert slot_angles([]) == []


def test_find_spot_keeps_clearance_walls_and_booths() -> None:
    rng = np.random.default_rng(0)
    centres = np.array([[10.0, 10.0], [13.0, 10.0]])
    booth = (0.0, 0.0, 4.0, 3.0)
    for _ in range(50):
        spot = find_spot((11.0, 10.0), centres, (30.0, 20.0), [booth], rng)
        assert spot is not None
        assert np.min(np.hypot(centres[:, 0] - spot[0], centres[:, 1] - spot[1])) >= CLEARANCE_M
        assert 1.6 <= spot[0] <= 28.4 and 1.6 <= spot[1] <= 18.4
    spot = find_spot((2.0, 2.0), np.zeros((0, 2)), (30.0, 20.0), [booth], rng)
    assert spot is not None and not (spot[0] < 5.0 and spot[1] < 4.0)


def test_find_spot_gives_up_on_a_full_floor() -> None:
    rng = np.random.default_rng(1)
    grid = np.array([(x, y) for x in np.arange(0.0, 8.1, 1.0) for y in np.arange(0.0, 6.1, 1.0)])
    assert find_spot((4.0, 3.0), grid, (8.0, 6.0), [], rng) is None
