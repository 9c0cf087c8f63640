"""Group centres: all of a tick's at once, and each bit for bit numpy's own mean."""

import numpy as np
import pytest

from pipeline.core.centres import centres


def test_group_centres_are_bit_for_bit_numpys_means() -> None:
    """The tick's groups get their centres all at once; each must equal numpy's own mean of its
    members' coordinates exactly (frames and alerts of a replay must not move by a bit)."""
    rng = np.random.default_rng(7)
    for _ in range(400):
        n = int(rng.integers(2, 200))
        xy = rng.uniform(0, 1, (n, 2)) * rng.choice([0.01, 1.0, 80.0, 1e5])
        groups = [rng.choice(n, int(rng.integers(1, min(n, 20) + 1)), replace=False).tolist() for _ in range(9)]
        x, y = centres(groups, xy)
        # (bit for bit: == would take -0.0 for 0.0)
        assert np.array(x).tobytes() == np.array([xy[g, 0].mean() for g in groups]).tobytes()
        assert np.array(y).tobytes() == np.array([xy[g, 1].mean() for g in groups]).tobytes()
    signed = np.array([[-0.0, 0.0], [-0.0, -0.0], [0.0, -0.0]])
    groups = [[0], [0, 1], [1, 2], [0, 1, 2]]
    x, y = centres(groups, signed)
    assert (
        np.array(x + y).tobytes()
        == np.array([signed[g, 0].mean() for g in groups] + [signed[g, 1].mean() for g in groups]).tobytes()
    )
    with pytest.raises(ValueError, match="without members"):
        centres([[0], []], np.zeros((2, 2)))
