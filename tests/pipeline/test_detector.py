"""Detector settings validate themselves."""

from __future__ import annotations

import pytest

from pipeline.detector import BASELINE, MINGLE, Detector


@pytest.mark.parametrize("name", ["grace_s", "shrunk_grace_s", "zone_margin_m", "lead_s"])
def test_a_negative_time_or_margin_is_refused_by_name(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Detector(name="x", **{name: -1.0})


def test_the_baseline_rides_out_no_lapse_and_mingle_resets_a_shrunk_group_sooner_than_a_mixed_one() -> None:
    assert BASELINE.grace_s == BASELINE.shrunk_grace_s == 0.0
    assert 0.0 < MINGLE.shrunk_grace_s < MINGLE.grace_s
