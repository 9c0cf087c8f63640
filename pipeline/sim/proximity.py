"""Badges hearing each other: the neighbour reports of scanning badges.

A badge that scans as well as advertises (hardware/badge/FORMAT.md) listens a ``duty``
share of the time and keeps, per neighbour, the strongest advertisement it caught in its
``report_s`` period; at the end of the period it advertises the strongest
``max_neighbours`` of them. Received power between two worn badges at distance d::

    P1m + tx_j - 10 n log10(max(d, 0.3 m))               log-distance, as to the gateways
        - torso · ((1 - cos φ_i) + (1 - cos φ_j)) / 2     each wearer's own body, when the
                                                          other badge is behind them
        - crowd (third bodies across the line)            as to the gateways, all of the path low
        + N(0, σ_f)                                       per-packet fading (both ends low and moving)

An advertisement is caught with probability ``duty · (1 - scanner_miss) · exp(-2 N T_air)``
when above sensitivity (``N`` the advertisements the scanner could hear). Numbers and sources
are in docs/simulator.md. The model owns its generator, so a recording with neighbour
reports holds the very same gateway readings as one without.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.spatial import cKDTree

from .radio import RadioModel, check_numbers

__all__ = ["ProximityModel", "ProximityParams", "Report"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

_CROWD_SAMPLES = 6
#: Third bodies are looked for on the line between the badges, this far from either end.
_CLEAR_M = 0.35


@dataclass(frozen=True, slots=True)
class ProximityParams:
    """``duty`` (0, 1] the scanning share of the time; ``report_s`` the report period (s);
    ``max_neighbours`` per report; ``range_m`` beyond which nothing is heard (well below
    sensitivity there); ``torso_db`` a wearer's body straight across the path; ``fading_db``
    per packet (scaled by the radio's ``noise``)."""

    duty: float = 0.3
    report_s: float = 4.0
    max_neighbours: int = 4
    range_m: float = 8.0
    torso_db: float = 12.0
    fading_db: float = 4.0

    def __post_init__(self) -> None:
        check_numbers(self, "proximity")
        if not 0 < self.duty <= 1:
            raise ValueError(f"proximity duty must be in (0, 1], got {self.duty!r}")
        if not (self.report_s > 0 and self.range_m > 0):
            raise ValueError("proximity report_s and range_m must be > 0")
        if not (isinstance(self.max_neighbours, int) and 1 <= self.max_neighbours <= 4):
            raise ValueError(
                f"proximity max_neighbours must be 1..4 (what a report holds), got {self.max_neighbours!r}"
            )


@dataclass(frozen=True, slots=True)
class Report:
    """A badge's neighbour report: neighbour badge rows and RSSI (whole dBm), strongest first."""

    near: tuple[int, ...]
    rssi: tuple[int, ...]


class ProximityModel:
    """Neighbour reports of ``badges`` badges (rows as the radio's), heard through ``radio``'s
    propagation numbers; first reports due within ``report_s`` of ``start``."""

    def __init__(
        self,
        radio: RadioModel,
        badges: int,
        rng: np.random.Generator,
        start: float,
        params: ProximityParams | None = None,
    ) -> None:
        self.params = p = params if params is not None else ProximityParams()
        self._radio = radio
        self._rng = rng
        self._next: FloatArray = start + rng.uniform(0.0, p.report_s, badges)
        self._caught: list[tuple[FloatArray, IntArray, IntArray, IntArray]] = []  # (t, scanner, heard, rssi)
        self.caught_total = 0

    def listen(
        self, when: FloatArray, badge: IntArray, xy: FloatArray, facing: FloatArray, crowd_xy: FloatArray
    ) -> None:
        """One round of advertisements (sent at ``when`` by the worn ``badge`` rows at ``xy``,
        facing ``facing``), as the other listed badges' scanners catch them."""
        p, radio = self.params, self._radio
        n = badge.shape[0]
        if n < 2:
            return
        pairs = cKDTree(xy).query_pairs(p.range_m, output_type="ndarray")
        if pairs.shape[0] == 0:
            return
        i = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)  # scanner (row of badge)
        j = np.concatenate([pairs[:, 1], pairs[:, 0]]).astype(np.int64)  # advertiser
        dx, dy = xy[i, 0] - xy[j, 0], xy[i, 1] - xy[j, 1]  # from the advertiser to the scanner
        d = np.maximum(np.hypot(dx, dy), 1e-6)
        rp = radio.params
        back_j = 1.0 - (np.cos(facing[j]) * dx + np.sin(facing[j]) * dy) / d  # 0 facing the scanner, 2 away
        back_i = 1.0 + (np.cos(facing[i]) * dx + np.sin(facing[i]) * dy) / d
        power = (
            rp.measured_power_dbm
            + radio.tx_offset[badge[j]]
            - 10.0 * rp.path_loss_exponent * np.log10(np.maximum(d, 0.3))
            - p.torso_db * (back_i + back_j) / 2.0
            - self._crowd_db(xy, i, j, d, crowd_xy)
            + self._rng.normal(0.0, p.fading_db * radio.noise, i.shape[0])
        )
        rssi = np.rint(power).astype(np.int64)
        audible = rssi >= rp.sensitivity_dbm
        others = np.bincount(i[audible], minlength=n)
        through = p.duty * (1.0 - rp.scanner_miss) * np.exp(-2.0 * others[i] * rp.airtime_s)
        caught = audible & (self._rng.random(i.shape[0]) < through)
        if caught.any():
            self._caught.append((when[j[caught]], badge[i[caught]], badge[j[caught]], rssi[caught]))
            self.caught_total += int(caught.sum())

    def _crowd_db(self, xy: FloatArray, i: IntArray, j: IntArray, d: FloatArray, crowd_xy: FloatArray) -> FloatArray:
        """Loss (dB) to the bodies of third people across each line (both ends' own excluded)."""
        radio, rp = self._radio, self._radio.params
        counts = np.bincount(radio.cells(crowd_xy[:, 0], crowd_xy[:, 1]), minlength=radio.cell_count)
        span = np.clip(d - 2.0 * _CLEAR_M, 0.0, None)
        frac = (_CLEAR_M + span[:, None] * ((np.arange(_CROWD_SAMPLES) + 0.5) / _CROWD_SAMPLES)) / d[:, None]
        sx = xy[j, 0][:, None] + (xy[i, 0] - xy[j, 0])[:, None] * frac
        sy = xy[j, 1][:, None] + (xy[i, 1] - xy[j, 1])[:, None] * frac
        hits = counts[radio.cells(sx, sy)].astype(np.float64).sum(axis=1)
        bodies = hits * (rp.body_width_m / radio.cell_m**2) * (span / _CROWD_SAMPLES)
        out: FloatArray = np.minimum(rp.crowd_cap_db, rp.crowd_db_per_body * bodies)
        return out

    def reports(self, now: float) -> dict[int, Report]:
        """The reports of the badges whose period ends by ``now`` (badge row -> report; empty
        when it heard nobody), each built from what it caught in its period."""
        p = self.params
        due = np.flatnonzero(self._next <= now)
        if due.shape[0] == 0:
            return {}
        # The period that ended last (periods with no call in them are skipped whole).
        ends = self._next[due] + np.floor((now - self._next[due]) / p.report_s) * p.report_s
        self._next[due] = ends + p.report_s
        out: dict[int, Report] = {int(b): Report((), ()) for b in due.tolist()}
        if self._caught:
            t = np.concatenate([c[0] for c in self._caught])
            scanner = np.concatenate([c[1] for c in self._caught])
            heard = np.concatenate([c[2] for c in self._caught])
            rssi = np.concatenate([c[3] for c in self._caught])
            end_of = np.full(self._next.shape[0], -np.inf)
            end_of[due] = ends
            mine = (t < end_of[scanner]) & (t >= end_of[scanner] - p.report_s)
            # Strongest first per scanner, one entry per neighbour (its best), ties by row.
            order = np.lexsort((heard[mine], -rssi[mine], scanner[mine]))
            s, h, r = scanner[mine][order], heard[mine][order], rssi[mine][order]
            seen: set[tuple[int, int]] = set()
            picks: dict[int, tuple[list[int], list[int]]] = {}
            for sb, hb, rv in zip(s.tolist(), h.tolist(), r.tolist(), strict=True):
                got = picks.setdefault(sb, ([], []))
                if (sb, hb) in seen or len(got[0]) >= p.max_neighbours:
                    continue
                seen.add((sb, hb))
                got[0].append(hb)
                got[1].append(rv)
            for sb, (near, level) in picks.items():
                out[sb] = Report(tuple(near), tuple(level))
            oldest = float(self._next.min()) - p.report_s
            self._caught = [c for c in self._caught if c[0].shape[0] and float(c[0].max()) >= oldest]
        return out
