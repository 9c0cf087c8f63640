"""What each ceiling gateway hears of each badge's advertisement: the propagation model.

Received power, in dB, for badge i and gateway j (3-D distance d, floor distance L)::

    P1m + tx_i + gain_j - 10 n log10(max(d, 0.5 m))      log-distance path loss
        - body (worn badge, gateway behind the wearer)   (1 - cos φ)/2 · body_db · L/d
        - crowd (bodies across the low part of the path) min(cap, db_per_body · bodies)
        + σ_s S_j(x, y) + σ_d D_j(x, y, t)                 Gudmundson shadowing, static + moving
        + N(0, σ_f)                                        per-packet fast fading

rounded to whole dBm; below the gateway's sensitivity nothing is heard. An audible packet is
lost with probability ``1 - (1 - scanner_miss) exp(-2 N_j T_air) (1 - PER)``: the scanner
misses some packets outright, packets collide with the ``N_j`` other audible badges (pure
ALOHA per advertising channel at 1 Hz) and near sensitivity bits fail. Every number and its
source is in ``docs/simulator.md``; all of it is vectorised over badges x gateways.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from pipeline.venue import Floor, Gateway

from .fields import FieldGrid

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["Heard", "RadioModel", "RadioParams", "check_numbers"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

_CROWD_CELL_M = 0.5
_CROWD_SAMPLES = 8
#: Path samples start this far from the badge (the wearer's own body is ``body``'s job).
_CROWD_START_M = 0.35


def check_numbers(
    params: DataclassInstance, kind: str, *, signed: tuple[str, ...] = (), probability: tuple[str, ...] = ()
) -> None:
    """Every field of ``params`` a finite number (else ``TypeError``), and, unless ``signed``,
    >= 0 — at most 1 too for a ``probability`` (else ``ValueError``); messages name ``kind``."""
    limit = " (a probability <= 1)" if probability else ""
    for f in fields(params):
        value = getattr(params, f.name)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise TypeError(f"{kind} {f.name} must be a finite number, got {value!r}")
        if f.name not in signed and (value < 0 or (f.name in probability and value > 1)):
            raise ValueError(f"{kind} {f.name} must be >= 0{limit}, got {value!r}")


@dataclass(frozen=True, slots=True)
class RadioParams:
    """The propagation model's numbers (dB, dBm, metres, seconds); sources in docs/simulator.md.

    ``noise`` of :class:`RadioModel` multiplies ``shadow_static_db``, ``shadow_dynamic_db``
    and ``fading_db``. Probabilities are in [0, 1]; every other number must be >= 0
    except the two dBm levels.
    """

    measured_power_dbm: float = -59.0
    path_loss_exponent: float = 2.3
    shadow_static_db: float = 3.0
    shadow_dynamic_db: float = 4.0
    decorrelation_m: float = 3.0
    dynamic_tau_s: float = 10.0
    fading_db: float = 2.0
    body_db: float = 8.0
    crowd_db_per_body: float = 6.0
    crowd_cap_db: float = 20.0
    body_width_m: float = 0.5
    block_height_m: float = 1.7
    badge_offset_db: float = 2.5
    gateway_offset_db: float = 2.0
    sensitivity_dbm: float = -95.0
    scanner_miss: float = 0.18
    airtime_s: float = 376e-6
    per_at_sensitivity: float = 0.308
    per_scale_db: float = 2.0

    def __post_init__(self) -> None:
        check_numbers(
            self,
            "radio",
            signed=("measured_power_dbm", "sensitivity_dbm"),
            probability=("scanner_miss", "per_at_sensitivity"),
        )
        for name in ("path_loss_exponent", "decorrelation_m", "dynamic_tau_s", "per_scale_db"):
            if not getattr(self, name) > 0:
                raise ValueError(f"radio {name} must be > 0, got {getattr(self, name)!r}")


@dataclass(frozen=True, slots=True, eq=False)
class Heard:
    """One advertising round: per (badge row, gateway) the RSSI (whole dBm), whether it was
    above sensitivity (``audible``) and whether the packet got through (``heard``)."""

    rssi: IntArray
    audible: BoolArray
    heard: BoolArray


class RadioModel:
    """Propagation from ``badges`` badges to ``gateways`` over ``floor`` (see module docstring).

    Owns its generator: per-badge TX offsets and per-gateway gain offsets are drawn once,
    the moving shadowing evolves with ``now``. ``noise`` >= 0 scales the random sigmas.
    """

    def __init__(
        self,
        gateways: Sequence[Gateway],
        floor: Floor,
        badges: int,
        rng: np.random.Generator,
        *,
        noise: float = 1.0,
        params: RadioParams | None = None,
    ) -> None:
        if not gateways:
            raise ValueError("a radio model needs at least one gateway")
        if not noise >= 0:
            raise ValueError(f"noise must be >= 0, got {noise!r}")
        self.params = p = params if params is not None else RadioParams()
        self.noise = noise
        self._rng = rng
        self.gxy: FloatArray = np.array([(g.x, g.y) for g in gateways], dtype=np.float64)
        self.gz: FloatArray = np.array([g.z for g in gateways], dtype=np.float64)
        self.tx_offset: FloatArray = rng.normal(0.0, p.badge_offset_db, badges)
        self.gain: FloatArray = rng.normal(0.0, p.gateway_offset_db, len(gateways))
        self._grid = FieldGrid(len(gateways), floor.width, floor.height, decorrelation_m=p.decorrelation_m)
        self._static = self._grid.draw(rng)
        self._dynamic = self._grid.draw(rng)
        self._t: float | None = None
        self._cnx = math.ceil(floor.width / _CROWD_CELL_M) + 1
        self._cny = math.ceil(floor.height / _CROWD_CELL_M) + 1
        self.audible_total = 0
        self.heard_total = 0

    def _evolve(self, now: float) -> None:
        if self._t is not None:
            dt = now - self._t
            if dt < 0:
                raise ValueError(f"radio time went back from {self._t!r} to {now!r}")
            if dt > 0:
                keep = math.exp(-dt / self.params.dynamic_tau_s)
                self._dynamic = keep * self._dynamic + math.sqrt(1.0 - keep * keep) * self._grid.draw(self._rng)
        self._t = now

    cell_m = _CROWD_CELL_M  # the crowd grid's cell side (m)

    @property
    def cell_count(self) -> int:
        """Cells in the crowd grid (the length of a :meth:`cells` bincount)."""
        return self._cnx * self._cny

    def cells(self, x: FloatArray, y: FloatArray) -> IntArray:
        """Crowd-grid cells of points (clipped to the floor)."""
        ix = np.clip((x / _CROWD_CELL_M).astype(np.int64), 0, self._cnx - 1)
        iy = np.clip((y / _CROWD_CELL_M).astype(np.int64), 0, self._cny - 1)
        cells: IntArray = iy * self._cnx + ix
        return cells

    def crowd_db(self, xy: FloatArray, z: FloatArray, crowd_xy: FloatArray, wearer: BoolArray) -> FloatArray:
        """Attenuation (dB, ``(n, G)``) by bodies near the badge→gateway line.

        A body blocks where the line runs below ``block_height_m`` (near the badge: the
        gateways are above head height). Bodies are counted on a 0.5 m grid of ``crowd_xy``
        along that stretch, ``body_width_m`` wide; a ``wearer`` row does not count itself.
        """
        p = self.params
        counts = np.bincount(self.cells(crowd_xy[:, 0], crowd_xy[:, 1]), minlength=self._cnx * self._cny)
        dx = self.gxy[None, :, 0] - xy[:, None, 0]
        dy = self.gxy[None, :, 1] - xy[:, None, 1]
        flat = np.maximum(np.hypot(dx, dy), 1e-6)
        rise = self.gz[None, :] - z[:, None]
        low = np.where(rise > 0.05, np.clip((p.block_height_m - z[:, None]) / np.maximum(rise, 0.05), 0.0, 1.0), 1.0)
        span = np.clip(flat * low - _CROWD_START_M, 0.0, None)
        frac = (np.arange(_CROWD_SAMPLES) + 0.5) / _CROWD_SAMPLES
        s = (_CROWD_START_M + span[:, :, None] * frac) / flat[:, :, None]
        cells = self.cells(xy[:, None, None, 0] + dx[:, :, None] * s, xy[:, None, None, 1] + dy[:, :, None] * s)
        hits = counts[cells].astype(np.float64)
        own = self.cells(xy[:, 0], xy[:, 1])
        hits -= (cells == own[:, None, None]) & wearer[:, None, None]
        bodies = hits.sum(axis=2) * (p.body_width_m / _CROWD_CELL_M**2) * (span / _CROWD_SAMPLES)
        result: FloatArray = np.minimum(p.crowd_cap_db, p.crowd_db_per_body * bodies)
        return result

    def hear(
        self,
        now: float,
        badge: IntArray,
        xy: FloatArray,
        z: FloatArray,
        facing: FloatArray,
        crowd_xy: FloatArray,
        wearer: BoolArray,
    ) -> Heard:
        """One advertisement from each listed ``badge`` (indices, ``(n,)``) at ``now`` (s).

        ``xy`` metres ``(n, 2)``, ``z`` badge heights (m); ``facing`` the wearer's heading
        (radians, ``nan`` for a badge nobody wears); ``crowd_xy`` everyone on the floor
        (``(P, 2)``); ``wearer`` rows that are among ``crowd_xy``. Call with
        non-decreasing ``now``; the moving shadowing evolves with it.
        """
        p = self.params
        self._evolve(now)
        n, g = badge.shape[0], self.gxy.shape[0]
        if n == 0:
            empty = np.zeros((0, g), dtype=np.bool_)
            return Heard(np.zeros((0, g), dtype=np.int64), empty, empty.copy())
        dx = self.gxy[None, :, 0] - xy[:, None, 0]
        dy = self.gxy[None, :, 1] - xy[:, None, 1]
        flat = np.hypot(dx, dy)
        dist = np.sqrt(flat**2 + (self.gz[None, :] - z[:, None]) ** 2)
        power = (
            p.measured_power_dbm
            + self.tx_offset[badge][:, None]
            + self.gain[None, :]
            - 10.0 * p.path_loss_exponent * np.log10(np.maximum(dist, 0.5))
        )
        worn = np.isfinite(facing)
        cos_away = (np.cos(facing)[:, None] * dx + np.sin(facing)[:, None] * dy) / np.maximum(flat, 1e-6)
        body = np.where(worn[:, None], p.body_db * (1.0 - cos_away) / 2.0 * flat / np.maximum(dist, 1e-6), 0.0)
        shadow = (
            p.shadow_static_db * self._grid.sample(self._static, xy)
            + p.shadow_dynamic_db * self._grid.sample(self._dynamic, xy)
        ).T
        fading = self._rng.normal(0.0, p.fading_db * self.noise, (n, g))
        received = power - body - self.crowd_db(xy, z, crowd_xy, wearer) + self.noise * shadow + fading
        rssi = np.rint(received).astype(np.int64)
        audible = rssi >= p.sensitivity_dbm
        others = audible.sum(axis=0)
        through = (1.0 - p.scanner_miss) * np.exp(-2.0 * others * p.airtime_s)
        per = p.per_at_sensitivity * np.exp(-(rssi - p.sensitivity_dbm) / p.per_scale_db)
        heard = audible & (self._rng.random((n, g)) < through[None, :] * (1.0 - np.minimum(per, 1.0)))
        self.audible_total += int(audible.sum())
        self.heard_total += int(heard.sum())
        return Heard(rssi, audible, heard)
