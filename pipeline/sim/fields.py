"""Spatially correlated Gaussian fields for log-normal shadowing (Gudmundson model).

Gudmundson (Electronics Letters, 1991) found shadowing correlated over distance as
``R(Δ) = exp(-|Δ| / d_c)``. A field with that correlation is white noise filtered in the
Fourier domain by the square root of the 2-D spectrum of the exponential,
``(1 + (2π d_c |k|)²)^(-3/4)``; the grid is padded by four decorrelation distances so the
periodic FFT does not wrap correlation across the floor. Fields have unit variance (scaled
by Parseval's theorem, not by the sample) and are read by bilinear interpolation. They
are single precision and use scipy's FFT, three times numpy's speed on these sizes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt
import scipy.fft

__all__ = ["FieldArray", "FieldGrid"]

FloatArray = npt.NDArray[np.float64]
#: Fields are single precision: shadowing needs no more, and the FFTs run twice as fast.
FieldArray = npt.NDArray[np.float32]


def _fft_size(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (fast FFT lengths)."""
    best = 1 << max(0, (n - 1).bit_length())
    for a in range(0, best.bit_length() + 1):
        for b in range(0, 12):
            for c in range(0, 8):
                size = (1 << a) * 3**b * 5**c
                if n <= size < best:
                    best = size
    return best


class FieldGrid:
    """A ``cell_m`` grid over a ``width`` x ``height`` m floor for ``count`` fields.

    ``decorrelation_m`` is Gudmundson's d_c (metres, > 0).
    """

    def __init__(self, count: int, width: float, height: float, *, decorrelation_m: float, cell_m: float = 1.0):
        if not decorrelation_m > 0:
            raise ValueError(f"decorrelation_m must be > 0 metres, got {decorrelation_m!r}")
        if not cell_m > 0:
            raise ValueError(f"cell_m must be > 0 metres, got {cell_m!r}")
        self.count = count
        self.cell_m = cell_m
        self.nx = math.ceil(width / cell_m) + 2
        self.ny = math.ceil(height / cell_m) + 2
        pad = math.ceil(4.0 * decorrelation_m / cell_m)
        self._px = _fft_size(self.nx + pad)
        self._py = _fft_size(self.ny + pad)
        kx = np.fft.rfftfreq(self._px, d=cell_m)
        ky = np.fft.fftfreq(self._py, d=cell_m)
        k2 = ky[:, None] ** 2 + kx[None, :] ** 2
        filt = (1.0 + (2.0 * math.pi * decorrelation_m) ** 2 * k2) ** -0.75
        kx_full = np.fft.fftfreq(self._px, d=cell_m)
        full = (1.0 + (2.0 * math.pi * decorrelation_m) ** 2 * (ky[:, None] ** 2 + kx_full[None, :] ** 2)) ** -0.75
        self._filter: FieldArray = (filt / math.sqrt(float(np.mean(full**2)))).astype(np.float32)

    def draw(self, rng: np.random.Generator) -> FieldArray:
        """``count`` independent unit-variance fields, ``(count, ny, nx)``."""
        white = rng.standard_normal((self.count, self._py, self._px), dtype=np.float32)
        spec = scipy.fft.rfft2(white) * self._filter
        field = scipy.fft.irfft2(spec, s=(self._py, self._px))
        return np.ascontiguousarray(field[:, : self.ny, : self.nx], dtype=np.float32)

    def sample(self, fields: npt.NDArray[np.floating[Any]], xy: FloatArray) -> FloatArray:
        """Bilinear values of ``fields`` (``(count, ny, nx)``) at points ``xy`` (``(n, 2)`` m): ``(count, n)``."""
        gx = np.clip(xy[:, 0] / self.cell_m, 0.0, self.nx - 1.000001)
        gy = np.clip(xy[:, 1] / self.cell_m, 0.0, self.ny - 1.000001)
        ix = gx.astype(np.int64)
        iy = gy.astype(np.int64)
        fx = gx - ix
        fy = gy - iy
        top = fields[:, iy, ix] * (1.0 - fx) + fields[:, iy, ix + 1] * fx
        bottom = fields[:, iy + 1, ix] * (1.0 - fx) + fields[:, iy + 1, ix + 1] * fx
        result: FloatArray = (top * (1.0 - fy) + bottom * fy).astype(np.float64)
        return result
