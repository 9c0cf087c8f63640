"""``mingle`` — dispatches to the subcommands each package registers.

Each subcommand lives beside what it runs (``pipeline.sim.cli``, ``pipeline.cli``, ...)
and is imported only when the package's extra is installed, so a gateway with only
``mingle[edge]`` still gets a working ``mingle``.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Callable, Sequence
from typing import Any

from . import __version__

#: (module, extra needed) of every subcommand provider, in help order.
PROVIDERS: tuple[tuple[str, str], ...] = (
    ("edge.cli", "edge"),
    ("pipeline.sim.cli", "pipeline"),
    ("pipeline.live.cli", "pipeline"),
    ("pipeline.cli", "pipeline"),
    ("pipeline.evaluation.cli", "pipeline"),
    ("pipeline.analytics.cli", "pipeline"),
    ("dashboard.cli", "dashboard"),
)


OWN = frozenset({"mingle", "mingle_wire", "pipeline", "edge", "dashboard"})


def build_parser() -> tuple[argparse.ArgumentParser, list[str]]:
    parser = argparse.ArgumentParser(prog="mingle", description="Get people at networking events to actually network.")
    parser.add_argument("--version", action="version", version=f"mingle {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug detail")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    missing: list[str] = []
    for module, extra in PROVIDERS:
        try:
            mod = importlib.import_module(module)
        except ImportError as exc:
            if (exc.name or "").split(".")[0] in OWN:
                raise  # our own code is broken: say so, do not hide it
            missing.append(f"{module} (install mingle[{extra}]: {exc})")
            continue
        mod.add_parser(sub)
    return parser, missing


def main(argv: Sequence[str] | None = None) -> int:
    parser, missing = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run: Callable[[Any], int] | None = getattr(args, "run", None)
    if run is None:
        parser.print_help()
        if missing:
            print("\nunavailable here: " + "; ".join(missing), file=sys.stderr)
        return 2
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
