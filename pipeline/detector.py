"""Named detector settings: Mingle's own, and the naive baseline it is measured against."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BASELINE", "DETECTORS", "MINGLE", "Detector"]


@dataclass(frozen=True, slots=True)
class Detector:
    """How ``step()`` turns readings into groups.

    ``positioner``: ``multilateration`` or ``centroid``; ``smoothing``: Kalman over time;
    ``window_s``: RSSI window (s); ``eps_m``/``min_samples``: DBSCAN; ``profile_weight``:
    share of the RSSI-profile distance in the blended distance (0–1); ``ospace_m``:
    o-space projection with headings (m); ``track_min_jaccard``/``track_max_miss_s``:
    tracking; ``grace_s``: how long the huddle condition may lapse without resetting its
    clock (s); ``feed_max_age_s``: positions from a feed older than this are dropped.
    """

    name: str
    positioner: str = "multilateration"
    smoothing: bool = True
    window_s: float = 10.0
    eps_m: float = 1.5
    min_samples: int = 2
    profile_weight: float = 0.0
    profile_m_per_db: float = 0.5
    ospace_m: float = 0.6
    track_min_jaccard: float = 0.3
    track_max_miss_s: float = 10.0
    grace_s: float = 10.0
    feed_max_age_s: float = 5.0

    def __post_init__(self) -> None:
        if self.positioner not in ("multilateration", "centroid"):
            raise ValueError(f"positioner must be multilateration or centroid, got {self.positioner!r}")
        for name in ("window_s", "eps_m", "feed_max_age_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("track_max_miss_s", "grace_s", "ospace_m"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")


MINGLE = Detector(name="mingle")

#: The straightforward pipeline: weighted centroid of the 3 strongest gateways, DBSCAN on
#: those points, overlap tracking without hysteresis.
BASELINE = Detector(
    name="baseline",
    positioner="centroid",
    smoothing=False,
    window_s=5.0,
    eps_m=1.5,
    profile_weight=0.0,
    ospace_m=0.0,
    track_max_miss_s=0.0,
    grace_s=0.0,
)

DETECTORS = {d.name: d for d in (MINGLE, BASELINE)}
