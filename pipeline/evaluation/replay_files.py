"""Reading a replay's ``frames.jsonl`` and ``alerts.jsonl`` (wire format, one per line)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

from mingle_wire import Alert, Frame, WireError, alert_from_dict, frame_from_dict, open_text

from .errors import InputError

__all__ = ["load_alerts", "load_frames"]

T = TypeVar("T")


def _parse(line: str, build: Callable[[Mapping[str, Any]], T]) -> T:
    try:
        obj = json.loads(line)
    except ValueError as exc:
        raise ValueError(f"not JSON: {exc}") from exc
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    return build(obj)


def _load(path: str | Path, build: Callable[[Mapping[str, Any]], T]) -> list[T]:
    name = str(path)
    out: list[T] = []
    try:
        with open_text(path, "r") as fh:
            for lineno, line in enumerate(fh, start=1):
                if not line.strip():
                    continue
                try:
                    out.append(_parse(line, build))
                except (ValueError, WireError) as exc:
                    raise InputError(name, lineno, str(exc)) from exc
    except (OSError, EOFError) as exc:
        raise InputError(name, None, f"cannot read file: {exc}") from exc
    return out


def load_frames(path: str | Path) -> list[Frame]:
    """Every frame of ``frames.jsonl`` (or ``.gz``), in file order."""
    return _load(path, frame_from_dict)


def load_alerts(path: str | Path) -> list[Alert]:
    """Every alert of ``alerts.jsonl`` (or ``.gz``), in file order."""
    return _load(path, alert_from_dict)
