"""TickPositions: this tick's positions by badge id, as a dict of them would give them."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.tickpositions import TickPositions


def test_positions_are_looked_up_as_a_dict_of_them_would_give_them() -> None:
    index = {"b-1": 0, "b-2": 1, "b-3": 2, "b-4": 3}  # b-3 is known but not placed this tick
    row = np.array([1, 0, -1, 2], dtype=np.int64)
    names, xs, ys = ["b-2", "b-1", "b-4"], [2.0, 1.0, 4.0], [20.0, 10.0, 40.0]
    got = TickPositions(index, row, names, xs, ys)
    want = {"b-1": (1.0, 10.0), "b-2": (2.0, 20.0), "b-4": (4.0, 40.0)}
    assert dict(got.items()) == want and len(got) == 3 and list(got) == names
    assert got["b-4"] == (4.0, 40.0) and "b-1" in got
    for missing in ("b-3", "nobody"):
        assert missing not in got and got.get(missing) is None
        with pytest.raises(KeyError):
            got[missing]
    with pytest.raises(KeyError):  # an index beyond the rows (a badge first seen after them)
        TickPositions({"late": 9}, row, names, xs, ys)["late"]
    with pytest.raises(ValueError, match="3 names"):
        TickPositions(index, row, names, xs[:2], ys)
