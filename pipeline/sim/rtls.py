"""A positioning feed (an RTLS such as Quuppa or Pozyx) publishing ``positions/<source>``.

Once a second it reports every badge on the floor at the true position plus Gaussian
noise of ``noise_m`` per axis, the true heading plus N(0, 0.1 rad), and ``err = noise_m``.
Its clock is NTP-true; it sends 200–250 ms after the sampled second, and the message
reaches the broker after the same network delay as the gateways'. Payloads are written
exactly as :func:`mingle_wire.encode_positions` writes them (keys, order, rounding).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from mingle_wire import PROTOCOL_VERSION, Topics

from .uplink import SimMessage, network_delay

__all__ = ["PositionFeed"]

FloatArray = npt.NDArray[np.float64]

_HEADING_NOISE_RAD: Final = 0.1
_COMPUTE_S: Final = (0.200, 0.250)


class PositionFeed:
    """Noisy positions of the badges on the floor, from ``source`` (``noise_m`` >= 0 metres)."""

    def __init__(self, topics: Topics, rng: np.random.Generator, noise_m: float, source: str = "rtls-1") -> None:
        if not noise_m >= 0:
            raise ValueError(f"noise_m must be >= 0 metres, got {noise_m!r}")
        self.topic = topics.positions(source)
        self.source = source
        self.noise_m = noise_m
        self._rng = rng
        self.positions = 0

    def publish(self, now: float, badges: Sequence[str], xy: FloatArray, heading: FloatArray) -> SimMessage:
        """The feed's message for the true state at ``now`` (Unix s): ``xy`` ``(n, 2)`` m, ``heading`` rad."""
        n = len(badges)
        noisy = xy + self._rng.normal(0.0, self.noise_m, (n, 2))
        h = heading + self._rng.normal(0.0, _HEADING_NOISE_RAD, n)
        h = np.arctan2(np.sin(h), np.cos(h))
        sent = round(now + self._rng.uniform(*_COMPUTE_S), 3)
        arrival = round(sent + network_delay(self._rng), 3)
        ts = round(now, 3)
        err = round(self.noise_m, 3)
        items = ",".join(
            [
                f'{{"badge":"{b}","x":{round(x, 3)!r},"y":{round(y, 3)!r},"ts":{ts!r},'
                f'"heading":{round(hh, 3)!r},"err":{err!r}}}'
                for b, (x, y), hh in zip(badges, noisy.tolist(), h.tolist(), strict=True)
            ]
        )
        self.positions += n
        body = f'{{"v":{PROTOCOL_VERSION},"source":"{self.source}","sent":{sent!r},"positions":[{items}]}}'
        return SimMessage(self.topic, body.encode(), arrival)
