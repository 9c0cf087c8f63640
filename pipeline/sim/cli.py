"""``mingle simulate``: write a synthetic event with known truth."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .config import INPUTS, ScenarioConfig
from .floorplan import booth_capacity, floor_size
from .writer import FILES, simulate

__all__ = ["add_parser", "config_from_args", "run"]

_DEFAULT = ScenarioConfig()
_DEFAULT_BOOTHS = _DEFAULT.booths


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> argparse.ArgumentParser:
    """Register the ``simulate`` subcommand (its handler is ``run``, set as the ``run`` default)."""
    p = sub.add_parser(
        "simulate",
        help="write a synthetic event: venue, roster, recording and ground truth",
        description="Simulates a networking event (people, conversational groups, BLE radio, gateways) and writes "
        f"OUT_DIR/{{{','.join(FILES.values())}}}. Same options and seed, same bytes.",
    )
    p.add_argument("out_dir", type=Path, metavar="OUT_DIR", help="output directory (created if missing)")
    p.add_argument("--attendees", type=int, default=_DEFAULT.attendees, help="roster size (default %(default)s)")
    p.add_argument("--minutes", type=float, default=_DEFAULT.minutes, help="event length (default %(default)s)")
    p.add_argument("--seed", type=int, default=_DEFAULT.seed, help="random seed (default %(default)s)")
    p.add_argument(
        "--gateway-spacing",
        type=float,
        default=_DEFAULT.gateway_spacing_m,
        metavar="M",
        help="gateway grid spacing in metres (default %(default)s)",
    )
    p.add_argument(
        "--noise", type=float, default=_DEFAULT.noise, help="multiplier on shadowing and fading (default %(default)s)"
    )
    p.add_argument(
        "--clinginess",
        type=float,
        default=_DEFAULT.clinginess,
        help="probability that someone with colleagues present prefers a same-company group (default %(default)s)",
    )
    p.add_argument(
        "--booths",
        type=int,
        default=None,
        help=f"booths along the walls, 2 staff each (default {_DEFAULT_BOOTHS}, or as many as fit)",
    )
    p.add_argument("--input", choices=INPUTS, default=_DEFAULT.input, help="what to publish (default %(default)s)")
    p.add_argument(
        "--position-noise",
        type=float,
        default=_DEFAULT.position_noise_m,
        metavar="M",
        help="positions feed noise per axis in metres (default %(default)s)",
    )
    p.add_argument(
        "--unknown-badges",
        type=int,
        default=_DEFAULT.unknown_badges,
        metavar="N",
        help="badges on the floor not on the roster (default %(default)s)",
    )
    p.add_argument("--references", type=int, default=_DEFAULT.references, help="reference badges (default %(default)s)")
    p.add_argument(
        "--opt-out",
        type=float,
        default=_DEFAULT.opt_out_fraction,
        metavar="F",
        help="fraction of the roster that opted out (default %(default)s)",
    )
    p.add_argument("--site", default=_DEFAULT.site, help="site id of the topics (default %(default)s)")
    p.add_argument("--start", type=float, default=_DEFAULT.start, help="Unix time of the first second")
    p.add_argument(
        "--area-per-attendee",
        type=float,
        default=_DEFAULT.area_per_attendee_m2,
        metavar="M2",
        help="floor area per roster entry in m² (default %(default)s)",
    )
    p.add_argument(
        "--contacts",
        action="store_true",
        help="badges also scan and report their closest neighbours (contacts/<gateway>); RSSI input only",
    )
    p.set_defaults(run=run)
    return p


def config_from_args(args: argparse.Namespace) -> ScenarioConfig:
    """The :class:`ScenarioConfig` the parsed ``args`` ask for (``ValueError``/``TypeError`` if invalid).

    Without ``--booths``, the default number of booths is lowered to what fits the floor
    and the roster (small test events).
    """
    booths = args.booths
    if booths is None:
        width, height = floor_size(args.attendees, args.area_per_attendee) if args.attendees >= 2 else (0.0, 0.0)
        booths = max(0, min(_DEFAULT_BOOTHS, booth_capacity(width, height), args.attendees // 4))
    return ScenarioConfig(
        attendees=args.attendees,
        minutes=args.minutes,
        seed=args.seed,
        gateway_spacing_m=args.gateway_spacing,
        noise=args.noise,
        clinginess=args.clinginess,
        booths=booths,
        start=args.start,
        input=args.input,
        position_noise_m=args.position_noise,
        unknown_badges=args.unknown_badges,
        references=args.references,
        opt_out_fraction=args.opt_out,
        site=args.site,
        area_per_attendee_m2=args.area_per_attendee,
        contacts=args.contacts,
    )


def run(args: argparse.Namespace) -> int:
    """Run ``mingle simulate``; prints a short summary. Returns the exit status (2 for bad options)."""
    try:
        config = config_from_args(args)
    except (TypeError, ValueError) as exc:
        print(f"mingle simulate: {exc}", file=sys.stderr)
        return 2
    try:
        summary = simulate(config, args.out_dir, progress=sys.stderr.isatty())
    except OSError as exc:
        print(f"mingle simulate: cannot write {args.out_dir}: {exc}", file=sys.stderr)
        return 1
    width, height = config.floor_m
    print(
        f"simulated {summary.seconds} s of {summary.people} people ({summary.companies} companies) on a "
        f"{width:g} x {height:g} m floor with {summary.gateways} gateways into {args.out_dir}/"
    )
    print(
        f"  {summary.messages} messages, {summary.readings} readings, {summary.positions} positions, "
        f"{summary.contacts} contacts; "
        f"packet loss {summary.loss_rate:.1%}"
    )
    print(
        f"  {summary.groups} conversational groups, {summary.same_company_groups} same-company groups of >= 3 "
        f"lasting >= 120 s ({summary.same_company_groups_in_booths} of them at booths)"
    )
    return 0
