"""Venue files: valid ones load; every bad one names the file, line, key and value."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.venue import Policy, dump_venue, load_venue


def test_the_example_loads(venue_file: Path) -> None:
    v = load_venue(venue_file)
    assert v.site == "expo" and v.floor.width == 20 and len(v.gateways) == 6
    assert v.references[0].id == "ref-01"
    assert v.zone_at(1, 1) is not None and v.zone_at(1, 1).nudges is False  # type: ignore[union-attr]
    assert v.zone_at(10, 10) is None
    assert v.policy.dwell_s == 60 and v.policy.min_size == 3


def test_dump_round_trips(venue_file: Path, tmp_path: Path) -> None:
    v = load_venue(venue_file)
    out = tmp_path / "again.yaml"
    out.write_text(dump_venue(v), encoding="utf-8")
    assert load_venue(out) == v


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text, encoding="utf-8")
    return path


BASE = "site: expo\nfloor: {width: 20, height: 10}\ngateways:\n  - {id: gw-01, x: 1, y: 1}\n"


@pytest.mark.parametrize(
    ("text", "line", "key", "value"),
    [
        ("site: [expo\n", 2, "", "YAML"),
        ("floor: {width: 1, height: 1}\ngateways: []\n", 1, "site", "missing"),
        (BASE.replace("site: expo", "site: 'my expo'"), 1, "site", "'my expo'"),
        (BASE.replace("width: 20", "width: wide"), 2, "floor.width", "'wide'"),
        (BASE.replace("width: 20", "width: 0.5"), 2, "floor.width", "0.5"),
        (BASE.replace("x: 1, y: 1", "x: 99, y: 1"), 4, "gateways[0].x", "outside the floor"),
        (BASE + "  - id: gw-01\n    x: 2\n    y: 2\n", 5, "gateways[1].id", "duplicate id 'gw-01'"),
        (BASE + "  - id: gw-02\n    x: 2\n    y: nope\n", 7, "gateways[1].y", "'nope'"),
        (BASE + "  - {id: gw-02, x: 2}\n", 5, "gateways[1]", "missing 'y'"),
        (BASE + "  - {id: gw-02, x: 2, y: 1, height: 3}\n", 5, "gateways[1].height", "unknown key"),
        (BASE + "zones:\n  - {name: z, polygon: [[0, 0], [1, 1]]}\n", 6, "zones[0].polygon", "at least 3"),
        (
            BASE + "zones:\n  - {name: z, polygon: [[0,0],[1,0],[1,1]], nudges: sometimes}\n",
            6,
            "zones[0].nudges",
            "sometimes",
        ),
        (BASE + "policy:\n  dwell: 30\n", 6, "policy.dwell", "unknown policy key"),
        (BASE + "policy:\n  homogeneity: 0.3\n", 6, "policy.homogeneity", "0.3"),
        (BASE + "policy:\n  exempt_roles: [staff, janitor]\n", 6, "policy.exempt_roles", "janitor"),
        (BASE + "colour: red\n", 5, "colour", "unknown key"),
        ("site: expo\nfloor: {width: 20, height: 10}\ngateways: []\n", 3, "gateways", "at least one"),
    ],
)
def test_bad_venue_files_say_where_and_what(tmp_path: Path, text: str, line: int | None, key: str, value: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_venue(path)
    message = str(info.value)
    assert str(path) in message
    assert info.value.line == line
    assert info.value.key == key
    assert value in message


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_venue(tmp_path / "nope.yaml")


def test_policy_boundaries() -> None:
    assert Policy(homogeneity=1.0).homogeneity == 1.0
    assert Policy(min_size=2).min_size == 2
    for bad in ({"min_size": 1}, {"homogeneity": 0.5}, {"holdout_fraction": 1.01}, {"dwell_s": -1}):
        with pytest.raises(ValueError, match=next(iter(bad))):
            Policy(**bad)  # type: ignore[arg-type]


def test_a_zone_tells_inside_from_outside_as_plain_ray_casting_does() -> None:
    """Zone.contains rules out points beyond its box before the edges: never a different answer."""
    import random

    from pipeline.venue import Zone

    def ray_cast(poly: tuple[tuple[float, float], ...], x: float, y: float) -> bool:
        inside, j = False, len(poly) - 1
        for i, (xi, yi) in enumerate(poly):
            xj, yj = poly[j]
            if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
                inside = not inside
            j = i
        return inside

    rng = random.Random(3)
    for _ in range(300):
        cx, cy = rng.uniform(0, 50), rng.uniform(0, 50)
        poly = tuple((cx + rng.uniform(-5, 5), cy + rng.uniform(-5, 5)) for _ in range(rng.randint(3, 8)))
        zone = Zone("z", poly)
        points = [(rng.uniform(cx - 8, cx + 8), rng.uniform(cy - 8, cy + 8)) for _ in range(100)]
        points += [p for p in poly]  # on its corners
        assert [zone.contains(x, y) for x, y in points] == [ray_cast(poly, x, y) for x, y in points]
    square = Zone("sq", ((0.0, 0.0), (4.0, 0.0), (4.0, 4.0), (0.0, 4.0)))
    assert square.contains(2.0, 2.0) and not square.contains(4.5, 2.0) and not square.contains(2.0, -0.1)
