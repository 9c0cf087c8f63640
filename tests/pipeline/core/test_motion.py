"""Motion: who is walking, from the last few seconds of positions."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.core.motion import Motion

T0 = 1764140000.0


def feed(motion: Motion, xy_at: list[np.ndarray], badges: np.ndarray) -> np.ndarray:
    """Record one fix per second for ``badges``; returns the last tick's walking mask."""
    for s, xy in enumerate(xy_at):
        motion.record(badges, xy[:, 0], xy[:, 1], T0 + s)
    return motion.walking(badges, T0 + len(xy_at) - 1)


def test_standers_with_feed_noise_are_not_walking_and_walkers_are() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    badges = np.arange(n)
    spot = rng.uniform(0, 40, (n, 2))
    # A third stand, a third walk east at the usual 1.0 m/s, a third at the slowest pace, 0.6 m/s.
    speed = np.array([0.0, 1.0, 0.6])[badges % 3]
    xy_at = [spot + np.column_stack([speed * s, np.zeros(n)]) + rng.normal(0, 0.3, (n, 2)) for s in range(8)]
    walking = feed(Motion(window_s=4.0, walk_m_s=0.45), xy_at, badges)
    # ±0.3 m per axis: a 5-fix slope is good to ~0.1 m/s.
    assert walking[badges % 3 == 0].mean() < 0.01
    assert walking[badges % 3 == 1].mean() > 0.99
    assert walking[badges % 3 == 2].mean() > 0.85


def test_the_speed_threshold_is_inclusive_and_only_the_window_counts() -> None:
    m = Motion(window_s=2.0, walk_m_s=0.5)
    badges = np.array([0, 1])
    # Badge 0 walked fast long ago and stands still now; badge 1 moves at exactly 0.5 m/s.
    for s, (x0, x1) in enumerate([(0.0, 0.0), (5.0, 0.5), (10.0, 1.0), (10.0, 1.5), (10.0, 2.0), (10.0, 2.5)]):
        m.record(badges, np.array([x0, x1]), np.zeros(2), T0 + s)
    assert m.walking(badges, T0 + 5).tolist() == [False, True]


def test_too_few_fixes_or_an_unknown_badge_is_not_walking() -> None:
    m = Motion(window_s=4.0, walk_m_s=0.45, min_fixes=3)
    m.record(np.array([0]), np.array([0.0]), np.array([0.0]), T0)
    m.record(np.array([0]), np.array([3.0]), np.array([0.0]), T0 + 1)
    assert m.walking(np.array([0, 7]), T0 + 1).tolist() == [False, False]  # 2 fixes < 3; 7 never seen
    m.record(np.array([0]), np.array([6.0]), np.array([0.0]), T0 + 2)
    assert m.walking(np.array([0, 7]), T0 + 2).tolist() == [True, False]
    assert m.walking(np.array([0]), T0 + 60).tolist() == [False]  # its fixes left the window


def test_a_badge_missing_some_seconds_is_fitted_on_the_fixes_it_has() -> None:
    m = Motion(window_s=6.0, walk_m_s=0.45)
    for s in range(7):
        present = np.array([0, 1]) if s % 2 == 0 else np.array([1])
        m.record(present, 1.0 * s * np.ones(present.shape[0]), np.zeros(present.shape[0]), T0 + s)
    assert m.walking(np.array([0, 1]), T0 + 6).tolist() == [True, True]
    assert m.walking(np.array([0, 1]), T0 + 6).dtype == np.bool_
    assert m.walking(np.array([], dtype=np.int64), T0 + 6).shape == (0,)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"window_s": 0.0}, "window_s must be > 0 seconds, got 0.0"),
        ({"walk_m_s": -1.0}, "walk_m_s must be > 0 m/s, got -1.0"),
        ({"min_fixes": 1}, "min_fixes must be an integer >= 2, got 1"),
    ],
)
def test_bad_parameters_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Motion(**kwargs)  # type: ignore[arg-type]
