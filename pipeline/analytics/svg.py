"""Tiny inline-SVG charts for the self-contained report (no scripts, no external resources)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

import numpy as np
import numpy.typing as npt

__all__ = ["bar_chart", "heat_map", "histogram", "line_chart"]

W, H, PAD = 640, 240, 40


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(label)}">' + "".join(body) + "</svg>"
    )


def _text(x: float, y: float, s: str, *, anchor: str = "middle", size: int = 11) -> str:
    return f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}">{escape(s)}</text>'


def line_chart(xs: Sequence[str], ys: npt.ArrayLike, *, label: str, y_max: float = 1.0) -> str:
    """A line over categorical x labels; NaN values leave a gap. ``y`` from 0 to ``y_max``."""
    y = np.asarray(ys, dtype=np.float64)
    n = max(len(xs), 1)
    step = (W - 2 * PAD) / max(n - 1, 1)
    body = [
        f'<line x1="{PAD}" y1="{H - PAD}" x2="{W - PAD}" y2="{H - PAD}" stroke="#999"/>',
        f'<line x1="{PAD}" y1="{PAD / 2}" x2="{PAD}" y2="{H - PAD}" stroke="#999"/>',
        _text(PAD - 4, H - PAD + 4, "0", anchor="end"),
        _text(PAD - 4, PAD / 2 + 4, f"{y_max:g}", anchor="end"),
    ]
    seg: list[str] = []
    for k, v in enumerate(y):
        px, py = PAD + k * step, H - PAD - (0 if math.isnan(v) else v / y_max) * (H - 1.5 * PAD)
        if math.isnan(v):
            if len(seg) > 1:
                body.append(f'<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="{" ".join(seg)}"/>')
            seg = []
            continue
        seg.append(f"{px:.1f},{py:.1f}")
        body.append(
            f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="#1f6feb"><title>{escape(xs[k])}: {v:.3f}</title></circle>'
        )
    if len(seg) > 1:
        body.append(f'<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="{" ".join(seg)}"/>')
    every = max(1, n // 8)
    body += [_text(PAD + k * step, H - PAD + 16, xs[k]) for k in range(0, len(xs), every)]
    return _svg(W, H, body, label)


def bar_chart(labels: Sequence[str], values: npt.ArrayLike, *, label: str, x_max: float = 1.0) -> str:
    """Horizontal bars, one per label, scaled to ``x_max``."""
    v = np.asarray(values, dtype=np.float64)
    left, row = 170, 20
    height = PAD + row * max(len(labels), 1)
    body = []
    for k, (name, val) in enumerate(zip(labels, v, strict=True)):
        y = 10 + k * row
        width = 0.0 if math.isnan(val) else (W - left - 60) * val / x_max
        body.append(_text(left - 6, y + 13, name, anchor="end"))
        body.append(f'<rect x="{left}" y="{y}" width="{width:.1f}" height="{row - 4}" fill="#d9822b"/>')
        body.append(_text(left + width + 4, y + 13, f"{val:.3f}", anchor="start"))
    return _svg(W, height, body, label)


def histogram(counts: npt.ArrayLike, *, label: str, x_label: str) -> str:
    """Vertical bars for counts at 0, 1, 2, ... (e.g. people by number of companies met)."""
    c = np.asarray(counts, dtype=np.float64)
    n = max(c.shape[0], 1)
    top = max(float(c.max()) if c.size else 0.0, 1.0)
    bw = (W - 2 * PAD) / n
    body = [_text(W / 2, H - 6, x_label)]
    for k, v in enumerate(c):
        h = (H - 2 * PAD) * v / top
        x = PAD + k * bw
        body.append(
            f'<rect x="{x:.1f}" y="{H - PAD - h:.1f}" width="{max(bw - 2, 1):.1f}" height="{h:.1f}" '
            f'fill="#2da44e"><title>{k}: {int(v)}</title></rect>'
        )
        if n <= 30 or k % max(1, n // 15) == 0:
            body.append(_text(x + bw / 2, H - PAD + 14, str(k)))
    return _svg(W, H, body, label)


def heat_map(m: npt.ArrayLike, rows: Sequence[str], cols: Sequence[str], *, label: str, cell: int = 28) -> str:
    """A matrix as coloured cells (white to dark red, scaled to the maximum), values in tooltips."""
    a = np.asarray(m, dtype=np.float64)
    top = float(np.nanmax(a)) if a.size and np.nanmax(a) > 0 else 1.0
    left, head = 110 if any(rows) else 10, 90 if any(cols) else 10
    body = []
    for j, name in enumerate(cols):
        x = left + j * cell + cell / 2
        body.append(
            f'<text x="{x:.1f}" y="{head - 4}" font-size="10" transform="rotate(-60 {x:.1f} {head - 4})">'
            f"{escape(name)}</text>"
        )
    for i, name in enumerate(rows):
        body.append(_text(left - 4, head + i * cell + cell * 0.65, name, anchor="end", size=10))
        for j in range(a.shape[1]):
            v = a[i, j]
            f = 0.0 if math.isnan(v) else v / top
            rgb = f"rgb(255,{int(255 * (1 - f))},{int(255 * (1 - f) ** 2)})"
            body.append(
                f'<rect x="{left + j * cell}" y="{head + i * cell}" width="{cell}" height="{cell}" '
                f'fill="{rgb}" stroke="#eee"><title>{v:.4f}</title></rect>'
            )
    return _svg(left + cell * a.shape[1] + 10, head + cell * a.shape[0] + 10, body, label)
