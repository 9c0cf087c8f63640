"""A concrete simulated event built from a :class:`~.config.ScenarioConfig`.

The venue (floor, gateway grid, reference badges, booth zones, default policy) and the cast
(roster, unknown badges, booth staff) are drawn from their own child seeds of
``config.seed``, so changing, say, ``noise`` never changes who is at the event.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pipeline.roster import Roster
from pipeline.venue import Floor, Policy, Venue

from .config import ScenarioConfig
from .floorplan import Booth, booth_stands, entrance, gateway_grid, reference_spots
from .population import Cast, build_cast

__all__ = ["Scenario", "build_scenario", "seed_streams"]

#: Child seed streams of ``config.seed``, in a fixed order (append only).
STREAMS = ("venue", "cast", "crowd", "radio", "uplink", "positions", "contacts")


def seed_streams(seed: int) -> dict[str, np.random.Generator]:
    """One independent generator per part of the simulator, all derived from ``seed``."""
    children = np.random.SeedSequence(seed).spawn(len(STREAMS))
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, children, strict=True)}


@dataclass(frozen=True, slots=True)
class Scenario:
    """The event: ``venue`` and ``cast`` as written to disk, plus the booths' conversation spots."""

    config: ScenarioConfig
    venue: Venue
    cast: Cast
    booths: tuple[Booth, ...]
    entrance: tuple[float, float]

    @property
    def roster(self) -> Roster:
        return self.cast.roster


def build_scenario(config: ScenarioConfig) -> Scenario:
    """Lay out the hall and draw the people for ``config`` (deterministic in ``config.seed``)."""
    rng = seed_streams(config.seed)
    width, height = config.floor_m
    stands = booth_stands(config.booths, width, height)
    zones = tuple(b.zone for b in stands)
    venue = Venue(
        site=config.site,
        name=f"Simulated expo ({config.attendees} attendees, seed {config.seed})",
        floor=Floor(width, height),
        gateways=gateway_grid(width, height, config.gateway_spacing_m, rng["venue"]),
        references=reference_spots(config.references, width, height, zones, rng["venue"]),
        zones=zones,
        policy=Policy(),
    )
    cast = build_cast(config.attendees, config.booths, config.unknown_badges, config.opt_out_fraction, rng["cast"])
    return Scenario(config, venue, cast, stands, entrance(width))
