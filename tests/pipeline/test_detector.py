"""Detector settings validate themselves."""

from __future__ import annotations

from dataclasses import replace

import pytest

from pipeline.detector import BASELINE, MINGLE, Detector
from pipeline.roster import Attendee, Roster
from pipeline.step import PipelineState
from pipeline.venue import Floor, Gateway, Venue


@pytest.mark.parametrize("name", ["grace_s", "shrunk_grace_s", "zone_margin_m", "lead_s"])
def test_a_negative_time_or_margin_is_refused_by_name(name: str) -> None:
    with pytest.raises(ValueError, match=name):
        Detector(name="x", **{name: -1.0})


@pytest.mark.parametrize("seconds", [0, 128, 3.0])
def test_a_co_fluctuation_box_outside_its_range_or_not_whole_seconds_is_refused(seconds: float) -> None:
    with pytest.raises(ValueError, match="covary_smooth_s"):
        replace(MINGLE, covary_smooth_s=seconds)


def test_the_pipeline_policy_takes_the_detectors_graces() -> None:
    venue = Venue("expo", "Expo", Floor(10.0, 10.0), (Gateway("gw-1", 1.0, 1.0),))
    roster = Roster([Attendee("b-1", "Acme")])
    for detector in (MINGLE, BASELINE, replace(MINGLE, grace_s=7.0, shrunk_grace_s=2.0)):
        policy = PipelineState(venue, roster, detector).policy
        assert (policy.grace_s, policy.shrunk_grace_s) == (detector.grace_s, detector.shrunk_grace_s)
