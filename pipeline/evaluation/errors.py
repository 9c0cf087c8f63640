"""Errors of the evaluator's inputs.

Exception tree::

    MingleError                 (pipeline.errors)
    └── InputError              a truth, frames or alerts file is wrong; the message names
                                the file, the line and the problem
"""

from __future__ import annotations

from pipeline.errors import MingleError

__all__ = ["InputError"]


class InputError(MingleError):
    """An evaluation input file is invalid: ``file:line: problem``."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        self.path = path
        self.line = line
        self.problem = problem
        where = f"{path}:{line}" if line is not None else path
        super().__init__(f"{where}: {problem}")
