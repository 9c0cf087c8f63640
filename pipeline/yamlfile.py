"""Read YAML while keeping the line of every value, for errors that point at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .errors import ConfigError

__all__ = ["Located", "load_located"]


class Located:
    """A parsed YAML document plus the 1-based line of every key path in it."""

    def __init__(self, path: str, data: Any, lines: dict[str, int]) -> None:
        self.path = path
        self.data = data
        self._lines = lines

    def line(self, key: str) -> int | None:
        while key:
            if key in self._lines:
                return self._lines[key]
            key = key.rpartition(".")[0] if "." in key else ""
        return self._lines.get("")

    def error(self, key: str, problem: str) -> ConfigError:
        return ConfigError(self.path, self.line(key), key, problem)


def _walk(node: yaml.Node, key: str, lines: dict[str, int]) -> Any:
    lines[key] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for k_node, v_node in node.value:
            k = yaml.safe_load(yaml.serialize(k_node))
            child = f"{key}.{k}" if key else str(k)
            lines[child] = k_node.start_mark.line + 1
            out[k] = _walk(v_node, child, lines)
            lines[child] = k_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_walk(item, f"{key}[{i}]", lines) for i, item in enumerate(node.value)]
    return yaml.safe_load(yaml.serialize(node))


def load_located(path: str | Path) -> Located:
    """Parse ``path``; syntax errors become :class:`ConfigError` with the line."""
    name = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(name, None, "", f"cannot read file: {exc}") from exc
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise ConfigError(name, line, "", f"not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    lines: dict[str, int] = {}
    data = None if node is None else _walk(node, "", lines)
    return Located(name, data, lines)
