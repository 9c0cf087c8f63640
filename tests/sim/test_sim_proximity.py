"""Badges hearing each other: the neighbour-report model and the contacts it puts on the wire."""

from __future__ import annotations

import gzip
import json
import math
from pathlib import Path

import numpy as np
import pytest

from mingle_wire import ContactBatch, decode_contacts
from pipeline.sim import RadioModel, ScenarioConfig, simulate
from pipeline.sim.proximity import ProximityModel, ProximityParams
from pipeline.venue import Floor, Gateway

FLOOR = Floor(40.0, 40.0)
GATEWAYS = [Gateway("gw-01", 20.0, 20.0, 2.75)]
T0 = 1.8e9


def model(n: int, *, duty: float = 1.0, seed: int = 0) -> ProximityModel:
    radio = RadioModel(GATEWAYS, FLOOR, n, np.random.default_rng(seed), noise=0.0)  # no fading: exact levels
    return ProximityModel(radio, n, np.random.default_rng(seed + 1), T0, ProximityParams(duty=duty))


def run(m: ProximityModel, xy: np.ndarray, facing: np.ndarray, seconds: int, crowd: np.ndarray | None = None) -> list:
    """Badge 0's reports over ``seconds`` of this layout, a round of advertisements a second
    and reports asked for each second, as the simulation does."""
    n = xy.shape[0]
    crowd_xy = xy if crowd is None else np.vstack([xy, crowd])
    out = []
    for k in range(seconds):
        m.listen(np.full(n, T0 + k), np.arange(n), xy, facing, crowd_xy)
        report = m.reports(T0 + k + 1).get(0)
        if report is not None:
            out.append(report)
    return out


def level(m: ProximityModel, xy: np.ndarray, facing: np.ndarray, crowd: np.ndarray | None = None) -> int:
    """The level badge 0 reports of badge 1 (exact with noise 0: every report says the same)."""
    levels = {r.rssi[r.near.index(1)] for r in run(m, xy, facing, 20, crowd) if 1 in r.near}
    assert len(levels) == 1, levels
    return levels.pop()


def test_facing_each_other_is_heard_far_better_than_back_to_back() -> None:
    xy = np.array([[10.0, 10.0], [11.2, 10.0]])
    face = level(model(2), xy, np.array([0.0, math.pi]))
    side = level(model(2), xy, np.array([math.pi / 2, math.pi / 2]))
    backs = level(model(2), xy, np.array([math.pi, 0.0]))
    torso = ProximityParams().torso_db
    assert face - backs == pytest.approx(2 * torso, abs=1)  # each body, straight across the path
    assert face - side == pytest.approx(torso, abs=1)  # side by side: half of each
    # log-distance from 1 m: about -59 - 23 log10(1.2) = -61 dBm, plus the badge's TX offset
    assert -75 < face < -45


def test_a_third_body_between_them_costs_the_crowd_loss() -> None:
    xy = np.array([[10.0, 10.0], [12.0, 10.0]])
    facing = np.array([0.0, math.pi])
    clear = level(model(2), xy, facing)
    blocked = level(model(2), xy, facing, crowd=np.array([[11.0, 10.0]]))
    assert clear - blocked >= 3


def test_reports_name_the_strongest_four_once_each_and_never_the_reporter() -> None:
    # Badge 0 at the centre, facing +x; six others at 1..6 m along +x, facing it.
    xy = np.array([[10.0, 10.0]] + [[10.0 + k, 10.0] for k in range(1, 7)])
    facing = np.array([0.0] + [math.pi] * 6)
    reports = run(model(7), xy, facing, 20)
    assert len(reports) >= 4  # one every 4 s
    for report in reports[1:]:  # (the first period may have begun before the first round)
        assert report.near == (1, 2, 3, 4)  # strongest first: the nearest, each once
        assert list(report.rssi) == sorted(report.rssi, reverse=True)
        assert 0 not in report.near
    # Nobody advertising: the next report is empty.
    m = model(2)
    assert all(r.near == () for r in run(m, np.array([[10.0, 10.0], [30.0, 30.0]]), np.zeros(2), 12))


def test_a_duty_cycle_catches_about_that_share_of_the_advertisements() -> None:
    xy = np.array([[10.0, 10.0], [11.0, 10.0]])
    m = model(2, duty=0.3, seed=5)
    for k in range(2000):
        m.listen(np.full(2, T0 + k), np.arange(2), xy, np.array([0.0, math.pi]), xy)
    share = m.caught_total / 4000
    # duty x (1 - the scanner's own miss rate of 18 %) = 0.246
    assert share == pytest.approx(0.3 * (1 - 0.18), abs=0.03)


def test_params_validate_themselves() -> None:
    with pytest.raises(ValueError, match="duty"):
        ProximityParams(duty=0.0)
    with pytest.raises(ValueError, match="max_neighbours"):
        ProximityParams(max_neighbours=5)
    with pytest.raises(TypeError):
        ProximityParams(torso_db=float("nan"))


def _lines(path: Path, kind: str) -> list[bytes]:
    return [line for line in gzip.open(path / "recording.jsonl.gz") if f"/{kind}/".encode() in line.split(b'"t"')[0]]


def test_a_recording_with_contacts_has_the_same_readings_plus_valid_contacts(tmp_path: Path) -> None:
    base = ScenarioConfig(attendees=40, minutes=1.5, seed=4, booths=2)
    simulate(base, tmp_path / "plain")
    summary = simulate(ScenarioConfig(**{**base.to_dict(), "contacts": True}), tmp_path / "contacts")
    assert _lines(tmp_path / "plain", "readings") == _lines(tmp_path / "contacts", "readings")
    assert _lines(tmp_path / "plain", "contacts") == []
    lines = _lines(tmp_path / "contacts", "contacts")
    assert summary.contacts > 0 and summary.contact_messages == len(lines)
    per_gateway: set[tuple[str, str, int, str]] = set()
    total = 0
    for line in lines:
        obj = json.loads(line)
        gateway = obj["topic"].rsplit("/", 1)[1]
        decoded = decode_contacts(obj["payload"], gateway)
        assert decoded.rejected == ()
        assert isinstance(decoded.batch, ContactBatch)
        for c in decoded.batch.contacts:
            key = (gateway, c.badge, c.seq, c.near)
            assert key not in per_gateway  # a gateway publishes each report once
            per_gateway.add(key)
            total += 1
    assert total == summary.contacts
    # Several gateways relay the same report: more items than distinct reports.
    assert len({k[1:] for k in per_gateway}) < total
