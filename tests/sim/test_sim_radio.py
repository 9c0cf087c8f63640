"""The propagation model: distance, body and crowd shadowing, sensitivity, loss, correlated fields."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pipeline.sim import RadioModel, RadioParams, ScenarioConfig, simulate
from pipeline.sim.fields import FieldGrid
from pipeline.venue import Floor, Gateway

FLOOR = Floor(60.0, 60.0)
GATEWAY = Gateway("gw-01", 30.0, 30.0, 2.75)


def ring(radius: float, count: int = 24) -> np.ndarray:
    ang = np.arange(count) * 2 * math.pi / count
    return np.column_stack((30.0 + radius * np.cos(ang), 30.0 + radius * np.sin(ang)))


def facing_gateway(xy: np.ndarray, away: bool = False) -> np.ndarray:
    h = np.arctan2(30.0 - xy[:, 1], 30.0 - xy[:, 0])
    return h + math.pi if away else h


def listen(model: RadioModel, xy: np.ndarray, facing: np.ndarray, rounds: int, t0: float = 1.8e9) -> np.ndarray:
    """Mean RSSI per badge over ``rounds`` seconds (audible packets only)."""
    n = xy.shape[0]
    total = np.zeros(n)
    count = np.zeros(n)
    for k in range(rounds):
        heard = model.hear(t0 + k, np.arange(n), xy, np.full(n, 1.3), facing, np.zeros((0, 2)), np.zeros(n, bool))
        total += np.where(heard.audible[:, 0], heard.rssi[:, 0], 0)
        count += heard.audible[:, 0]
    return total / np.maximum(count, 1)


def test_mean_rssi_falls_with_distance() -> None:
    radii = (1.5, 4.0, 8.0, 16.0)
    xy = np.vstack([ring(r) for r in radii])
    model = RadioModel([GATEWAY], FLOOR, xy.shape[0], np.random.default_rng(0))
    mean = listen(model, xy, facing_gateway(xy), rounds=60).reshape(len(radii), -1).mean(axis=1)
    assert all(np.diff(mean) < -3.0), mean
    # log-distance: about -59 - 23 log10(d) near the gateway (3-D distance ~2.0 m at 1.5 m)
    assert -72 < mean[0] < -60


def test_facing_away_is_weaker() -> None:
    xy = ring(5.0)
    model = RadioModel([GATEWAY], FLOOR, xy.shape[0], np.random.default_rng(1))
    toward = listen(model, xy, facing_gateway(xy), rounds=40)
    away = listen(model, xy, facing_gateway(xy, away=True), rounds=40, t0=1.8e9 + 100)
    gap = float(np.mean(toward - away))
    assert 5.0 < gap < 9.0  # body_db 8 dB, times cos(elevation)
    unworn = listen(model, xy, np.full(xy.shape[0], np.nan), rounds=40, t0=1.8e9 + 200)
    assert np.mean(unworn) > np.mean(toward) - 1.0


def test_crowd_between_badge_and_gateway_attenuates() -> None:
    model = RadioModel([GATEWAY], FLOOR, 1, np.random.default_rng(2))
    badge = np.array([[20.0, 30.0]])
    z = np.array([1.3])
    alone = model.crowd_db(badge, z, badge, np.array([True]))
    assert alone[0, 0] == pytest.approx(0.0)  # the wearer does not block themself
    wall = np.array([[21.0 + 0.5 * k, 30.0 + dy] for k in range(5) for dy in (-0.1, 0.1)])
    blocked = model.crowd_db(badge, z, np.vstack([badge, wall]), np.array([True]))
    assert 6.0 <= blocked[0, 0] <= model.params.crowd_cap_db
    behind = np.array([[18.0 - 0.5 * k, 30.0] for k in range(5)])
    assert model.crowd_db(badge, z, np.vstack([badge, behind]), np.array([True]))[0, 0] == pytest.approx(0.0)


def test_nothing_below_sensitivity_and_far_badges_mostly_unheard() -> None:
    xy = np.vstack([ring(3.0), ring(28.0)])
    facing = np.concatenate([facing_gateway(xy[:24]), facing_gateway(xy[24:], away=True)])
    model = RadioModel([GATEWAY], FLOOR, xy.shape[0], np.random.default_rng(3))
    heard_far = audible_near = 0
    for k in range(30):
        h = model.hear(1.8e9 + k, np.arange(48), xy, np.full(48, 1.3), facing, xy, np.ones(48, bool))
        assert np.all(h.rssi[h.audible] >= -95)
        assert not np.any(h.heard & ~h.audible)
        audible_near += int(h.audible[:24].sum())
        heard_far += int(h.heard[24:].sum())
    assert audible_near == 30 * 24
    assert heard_far < 0.35 * 30 * 24  # 28 m, back to the gateway: about -100 dBm mean, sigma ~6 dB


def test_loss_rises_with_the_number_of_badges() -> None:
    def loss(n: int) -> float:
        rng = np.random.default_rng(4)
        xy = 30.0 + rng.uniform(-6, 6, (n, 2))
        model = RadioModel([GATEWAY], FLOOR, n, rng)
        for k in range(10):
            model.hear(
                1.8e9 + k, np.arange(n), xy, np.full(n, 1.3), np.full(n, np.nan), np.zeros((0, 2)), np.zeros(n, bool)
            )
        return 1.0 - model.heard_total / model.audible_total

    few, many = loss(40), loss(1000)
    assert 0.18 < few < 0.3
    assert many > few + 0.2  # ALOHA collisions: ~1000 badges lose 20-50 % more (DOMAIN.md)


def test_noise_zero_removes_randomness_from_rssi() -> None:
    xy = ring(4.0)
    model = RadioModel([GATEWAY], FLOOR, 24, np.random.default_rng(5), noise=0.0)
    args = (np.arange(24), xy, np.full(24, 1.3), facing_gateway(xy), np.zeros((0, 2)), np.zeros(24, bool))
    a = model.hear(1.8e9, *args).rssi
    b = model.hear(1.8e9 + 30, *args).rssi
    assert np.array_equal(a, b)


def test_time_must_not_go_back() -> None:
    model = RadioModel([GATEWAY], FLOOR, 1, np.random.default_rng(6))
    args = (np.arange(1), np.array([[1.0, 1.0]]), np.ones(1), np.zeros(1), np.zeros((0, 2)), np.zeros(1, bool))
    model.hear(1.8e9 + 5, *args)
    with pytest.raises(ValueError, match="went back"):
        model.hear(1.8e9, *args)


def test_shadowing_fields_are_unit_variance_and_gudmundson_correlated() -> None:
    grid = FieldGrid(40, 40.0, 30.0, decorrelation_m=3.0)
    fields = grid.draw(np.random.default_rng(7)).astype(np.float64)
    assert 0.9 < fields.std() < 1.1
    for lag in (1, 3, 6):
        r = np.corrcoef(fields[:, :, :-lag].ravel(), fields[:, :, lag:].ravel())[0, 1]
        assert abs(r - math.exp(-lag / 3.0)) < 0.1, (lag, r)
    near = grid.sample(fields, np.array([[10.0, 10.0], [10.4, 10.0]]))
    assert np.corrcoef(near[:, 0], near[:, 1])[0, 1] > 0.8  # people standing together share shadowing


@pytest.mark.parametrize(("name", "value"), [("path_loss_exponent", 0.0), ("scanner_miss", 1.5), ("fading_db", -1.0)])
def test_radio_params_validate(name: str, value: float) -> None:
    with pytest.raises(ValueError, match=name):
        RadioParams(**{name: value})


def test_simulated_packet_loss_is_20_to_40_percent(tmp_path: Path) -> None:
    summary = simulate(ScenarioConfig(attendees=40, minutes=1, booths=2), tmp_path)
    assert 0.2 <= summary.loss_rate <= 0.4
    # every packet that got through is in the recording, exactly once
    assert abs(1.0 - summary.readings / summary.audible - summary.loss_rate) < 1e-3
