"""This tick's badge positions by badge id, looked up only when asked."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np
import numpy.typing as npt

__all__ = ["TickPositions"]


class TickPositions(Mapping[str, tuple[float, float]]):
    """Badge id -> (x, y) metres for the badges placed this tick.

    The policy reads a few of them (a huddle's members; the floor, only for a suggestion of
    someone to meet), so nothing is built per badge: ``index`` maps badge ids to badge
    indices, ``row[index]`` is a badge's row among this tick's fixes (-1: not placed), and
    ``xs``/``ys`` hold the rows' coordinates. Iteration goes through ``names`` (the placed
    badges' ids, in the order given).
    """

    __slots__ = ("_index", "_names", "_row", "_xs", "_ys")

    def __init__(
        self,
        index: Mapping[str, int],
        row: npt.NDArray[np.int64],
        names: list[str],
        xs: list[float],
        ys: list[float],
    ) -> None:
        if not len(xs) == len(ys) == len(names):
            raise ValueError(f"{len(names)} names, {len(xs)} x and {len(ys)} y")
        self._index = index
        self._row = row
        self._names = names
        self._xs = xs
        self._ys = ys

    def __getitem__(self, badge: str) -> tuple[float, float]:
        i = self._index.get(badge)
        r = int(self._row[i]) if i is not None and 0 <= i < self._row.shape[0] else -1
        if r < 0:
            raise KeyError(badge)
        return self._xs[r], self._ys[r]

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
