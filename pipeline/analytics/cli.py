"""``mingle report``, ``export``, ``forget`` and ``import-sociopatterns``: the event store's subcommands."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ..errors import ConfigError
from ..roster import load_roster
from ..store.db import EventStore, StoreError
from .export import export_store
from .report import render_report
from .sociopatterns import import_sociopatterns

__all__ = ["add_parser"]

STAGES = ("contacts", "mixing", "huddles", "nudges", "done")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("report", help="write a self-contained HTML mixing report from an event store")
    p.add_argument("--store", type=Path, required=True, help="event store (.db)")
    p.add_argument("--roster", type=Path, help="roster.csv (default: the companies stored with the people)")
    p.add_argument("--out", type=Path, required=True, help="report.html to write")
    p.add_argument("--min-company-size", type=int, default=5, help="pool smaller delegations (default 5 people)")
    p.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    p.set_defaults(run=run_report)

    p = sub.add_parser("export", help="export an event store's contacts, episodes, alerts and nudges as CSV")
    p.add_argument("--store", type=Path, required=True, help="event store (.db)")
    p.add_argument("--out", type=Path, required=True, help="directory to write into")
    p.set_defaults(run=run_export)

    p = sub.add_parser(
        "forget",
        help="remove every row about one badge from an event store (GDPR erasure), or rows past retention",
        description="mingle forget BADGE --store S erases one person; "
        "mingle forget --older-than-days N --store S applies a retention period.",
    )
    p.add_argument("badge", nargs="?", help="badge id")
    p.add_argument("--store", type=Path, required=True, help="event store (.db)")
    p.add_argument("--older-than-days", type=float, help="delete every row describing a time older than this")
    p.set_defaults(run=run_forget)

    p = sub.add_parser("import-sociopatterns", help="load SocioPatterns contact data (t i j + metadata) into a store")
    p.add_argument("tij", type=Path, help="tij_*.dat: 't i j' lines")
    p.add_argument("metadata", type=Path, help="metadata_*.txt: 'i group' lines (a group plays a company)")
    p.add_argument("--store", type=Path, required=True, help="event store (.db) to create or add to")
    p.set_defaults(run=run_import)


def run_report(args: argparse.Namespace) -> int:
    try:
        company_of = None
        if args.roster is not None:
            company_of = {b: a.company for b, a in load_roster(args.roster).items()}
        from tqdm import tqdm

        with (
            EventStore(args.store, readonly=True) as store,
            tqdm(
                total=len(STAGES), desc="report", file=sys.stderr, disable=not sys.stderr.isatty(), leave=False
            ) as bar,
        ):

            def stage(name: str) -> None:
                bar.set_postfix_str(name)
                bar.update(1)

            html = render_report(store, company_of, min_size=args.min_company_size, seed=args.seed, progress=stage)
        args.out.write_text(html, encoding="utf-8")
    except (ConfigError, StoreError, OSError) as exc:
        print(f"mingle report: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({len(html.encode()) / 1024:.0f} KiB)")
    return 0


def run_export(args: argparse.Namespace) -> int:
    try:
        with EventStore(args.store, readonly=True) as store:
            paths = export_store(store, args.out)
    except (StoreError, OSError) as exc:
        print(f"mingle export: {exc}", file=sys.stderr)
        return 1
    print("\n".join(str(p) for p in paths))
    return 0


def run_forget(args: argparse.Namespace) -> int:
    if (args.badge is None) == (args.older_than_days is None):
        print("mingle forget: give either a BADGE or --older-than-days N", file=sys.stderr)
        return 2
    if args.older_than_days is not None and not args.older_than_days > 0:
        print(f"mingle forget: --older-than-days must be > 0, got {args.older_than_days}", file=sys.stderr)
        return 2
    try:
        if args.badge is not None:
            with EventStore(args.store) as store:
                n = store.forget(args.badge)
            print(f"forgot {args.badge}: {n} rows deleted")
        else:
            with EventStore(args.store, retention_s=args.older_than_days * 86400.0) as store:
                n = store.apply_retention(time.time())  # the command line's clock: "older than now"
            print(f"retention of {args.older_than_days:g} days: {n} rows deleted")
    except StoreError as exc:
        print(f"mingle forget: {exc}", file=sys.stderr)
        return 1
    return 0


def run_import(args: argparse.Namespace) -> int:
    started = time.perf_counter()
    try:
        contacts, people = import_sociopatterns(args.tij, args.metadata, args.store)
    except (ConfigError, StoreError) as exc:
        print(f"mingle import-sociopatterns: {exc}", file=sys.stderr)
        return 1
    print(f"imported {contacts} contacts of {people} people into {args.store} in {time.perf_counter() - started:.1f} s")
    return 0
