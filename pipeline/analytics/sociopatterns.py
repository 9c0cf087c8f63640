"""SocioPatterns contact files: ``t i j`` lines and ``i group`` metadata (CC0 data).

A group (a department) plays the role of a company. Both LF and CRLF line ends are read.
Errors name the file, the line and the bad text (:class:`pipeline.errors.ConfigError`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..errors import ConfigError
from ..store.writer import StoreWriter

__all__ = ["import_sociopatterns", "read_metadata", "read_tij"]


def _lines(path: Path) -> list[tuple[int, list[str]]]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(str(path), None, "", f"cannot read file: {exc}") from exc
    return [(n, line.split()) for n, line in enumerate(text.splitlines(), start=1) if line.strip()]


def read_tij(path: str | Path) -> tuple[npt.NDArray[np.int64], list[tuple[str, str]]]:
    """Window starts (s) and badge pairs of a ``tij`` file, in file order."""
    p = Path(path)
    t: list[int] = []
    pairs: list[tuple[str, str]] = []
    for n, parts in _lines(p):
        if len(parts) != 3 or not parts[0].lstrip("-").isdigit():
            raise ConfigError(str(p), n, "", f"expected 't i j' with an integer t, got {' '.join(parts)!r}")
        t.append(int(parts[0]))
        pairs.append((parts[1], parts[2]))
    return np.array(t, dtype=np.int64), pairs


def read_metadata(path: str | Path) -> dict[str, str]:
    """Badge -> group from an ``i group`` metadata file."""
    p = Path(path)
    out: dict[str, str] = {}
    for n, parts in _lines(p):
        if len(parts) != 2:
            raise ConfigError(str(p), n, "", f"expected 'i group', got {' '.join(parts)!r}")
        if parts[0] in out and out[parts[0]] != parts[1]:
            raise ConfigError(str(p), n, "", f"badge {parts[0]!r} listed in {out[parts[0]]!r} and {parts[1]!r}")
        out[parts[0]] = parts[1]
    return out


def import_sociopatterns(tij: str | Path, metadata: str | Path, store: str | Path) -> tuple[int, int]:
    """Load a SocioPatterns pair into ``store``; returns (contacts, people).

    Badge ids are prefixed ``sp-`` so they are valid Mingle ids; a contact of a badge
    without metadata is kept, its group is ``unknown``.
    """
    t, pairs = read_tij(tij)
    groups = read_metadata(metadata)
    company_of = {f"sp-{b}": g for b, g in groups.items()}
    for i, j in pairs:
        for b in (i, j):
            company_of.setdefault(f"sp-{b}", "unknown")
    with StoreWriter(store, max_rows=100_000) as writer:
        writer.set_meta({"source": "sociopatterns", "tij": Path(tij).name, "metadata": Path(metadata).name})
        writer.people(company_of)
        for tt, (i, j) in zip(t.tolist(), pairs, strict=True):
            a, b = sorted((f"sp-{i}", f"sp-{j}"))
            writer.contact((int(tt), a, b))
    return len(pairs), len(company_of)
