"""``mingle pipeline``, ``mingle record`` and ``mingle demo``: the live pipeline's commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from mingle.tasks import TaskDiedError
from mingle_wire import Topics, WireError
from pipeline.allocator import set_up_pipeline_process
from pipeline.detector import DETECTORS
from pipeline.errors import ConfigError
from pipeline.roster import load_roster
from pipeline.step import PipelineState
from pipeline.venue import load_venue

from .broker import BrokerConfig, BrokerError
from .demo import MapOptions, run_demo
from .record import record
from .runner import WallTicker, run_service
from .service import LiveService

__all__ = ["add_parser"]

T = TypeVar("T")


def _broker_args(p: argparse.ArgumentParser, default: str | None = "mqtt://127.0.0.1:1883") -> None:
    p.add_argument("--broker", default=default, help=f"mqtt://host[:port] or mqtts://host[:port] (default {default})")
    p.add_argument("--username", help="broker user name")
    p.add_argument("--password", help="broker password")
    p.add_argument("--tls-ca", type=Path, help="CA bundle for TLS (with mqtts://)")
    p.add_argument("--prefix", default="mingle", help="topic prefix (default mingle)")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "pipeline",
        help="run the pipeline live against an MQTT broker",
        description="Subscribes to the venue's readings and positions, runs step() every tick on the wall clock and "
        "publishes frames, alerts, nudges and a retained pipeline/status. Stops cleanly on SIGINT/SIGTERM.",
    )
    p.add_argument("--venue", type=Path, required=True, help="venue.yaml")
    p.add_argument("--roster", type=Path, required=True, help="roster.csv")
    p.add_argument("--tick-s", type=float, default=1.0, help="tick interval in seconds (default 1)")
    p.add_argument(
        "--tick-delay-s",
        type=float,
        default=0.25,
        help="run the tick for second s at s + this, so gateway windows closing at s are in it (default 0.25)",
    )
    p.add_argument("--queue-max", type=int, default=100_000, help="ingest queue bound, messages (drop-oldest)")
    p.add_argument("--detector", choices=sorted(DETECTORS), default="mingle", help="detector settings")
    p.add_argument("--store", type=Path, help="record the event (SQLite event store) for mingle report")
    _broker_args(p)
    p.set_defaults(run=run_pipeline)

    r = sub.add_parser("record", help="record a live site's readings and positions to a recording file")
    r.add_argument("out", type=Path, help="recording to write (.jsonl or .jsonl.gz)")
    r.add_argument("--site", required=True, help="site id")
    r.add_argument("--seconds", type=float, help="stop after this many seconds (default: until Ctrl-C)")
    _broker_args(r)
    r.set_defaults(run=run_record)

    d = sub.add_parser("demo", help="play a simulated venue live through MQTT and run the pipeline on it")
    d.add_argument("--attendees", type=int, default=150, help="simulated attendees (default 150)")
    d.add_argument("--speed", type=float, default=1.0, help="simulated seconds per wall second (default 1)")
    d.add_argument("--seed", type=int, default=1, help="simulation seed (default 1)")
    d.add_argument("--port", type=int, default=8000, help="serve the live map on this port (default 8000; 0 = free)")
    d.add_argument("--host", default="127.0.0.1", help="address the map listens on (default 127.0.0.1)")
    d.add_argument("--no-map", action="store_true", help="do not serve the live map")
    d.add_argument("--secret-file", type=Path, help="attendee-link secret (default: random for this run)")
    d.add_argument(
        "--gateways-only",
        action="store_true",
        help="badges do not scan for their neighbours (default: they do, as the shipped firmware's)",
    )
    _broker_args(d, default=None)
    d.set_defaults(run=run_demo_command)


def _broker(args: argparse.Namespace) -> BrokerConfig:
    return BrokerConfig.from_url(args.broker, username=args.username, password=args.password, tls_ca=args.tls_ca)


def _until_signal(main: Callable[[asyncio.Event], Awaitable[T]]) -> T:
    """Run ``main(stop)`` in one event loop; SIGINT/SIGTERM set ``stop`` (a second one interrupts)."""

    async def wrapped() -> T:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(RuntimeError):  # not the main thread: no signal handlers
                loop.add_signal_handler(sig, stop.set)
        return await main(stop)

    return asyncio.run(wrapped())


def run_pipeline(args: argparse.Namespace) -> int:
    set_up_pipeline_process()
    try:
        venue = load_venue(args.venue)
        roster = load_roster(args.roster)
        broker = _broker(args)
    except (ConfigError, ValueError) as exc:
        print(f"mingle pipeline: {exc}", file=sys.stderr)
        return 2
    try:
        ticker = WallTicker(args.tick_s, delay_s=args.tick_delay_s)
    except ValueError as exc:
        print(f"mingle pipeline: --tick-s/--tick-delay-s: {exc}", file=sys.stderr)
        return 2
    state = PipelineState(venue, roster, DETECTORS[args.detector], prefix=args.prefix)
    sink = None
    if args.store is not None:
        from pipeline.store import StoreSink

        sink = StoreSink.for_venue(args.store, venue, roster)
    service = LiveService(state, prefix=args.prefix, inbox_max=args.queue_max, sink=sink)
    print(
        f"mingle pipeline: site {venue.site} on {broker.url}, tick {args.tick_s:g} s "
        f"(+{args.tick_delay_s:g} s for late windows); Ctrl-C to stop"
    )
    try:
        _until_signal(lambda stop: run_service(service, broker, ticker, stop=stop))
    except BrokerError as exc:
        print(f"mingle pipeline: {exc}", file=sys.stderr)
        return 1
    finally:
        if sink is not None:
            sink.close()
    print(f"mingle pipeline: stopped after {state.ticks} ticks, {service.published_alerts} alerts")
    return 0


def run_record(args: argparse.Namespace) -> int:
    try:
        broker = _broker(args)
        topics = Topics(args.site, args.prefix)
    except ValueError as exc:
        print(f"mingle record: {exc}", file=sys.stderr)
        return 2
    try:
        n = _until_signal(lambda stop: record(broker, topics, args.out, seconds=args.seconds, stop=stop))
    except (OSError, WireError, BrokerError) as exc:
        print(f"mingle record: {exc}", file=sys.stderr)
        return 1
    print(f"mingle record: {n} messages to {args.out}")
    return 0


def run_demo_command(args: argparse.Namespace) -> int:
    set_up_pipeline_process()
    try:
        broker = None if args.broker is None else _broker(args)
        secret = None
        if args.secret_file is not None:
            from dashboard.tokens import load_secret

            secret = load_secret(args.secret_file)
    except ValueError as exc:
        print(f"mingle demo: {exc}", file=sys.stderr)
        return 2
    map_options = None if args.no_map else MapOptions(port=args.port, host=args.host, secret=secret)
    try:
        _until_signal(
            lambda stop: run_demo(
                attendees=args.attendees,
                speed=args.speed,
                seed=args.seed,
                broker=broker,
                stop=stop,
                map_options=map_options,
                contacts=not args.gateways_only,
            )
        )
    except OSError as exc:
        print(f"mingle demo: {exc} (--port 0 picks a free port)", file=sys.stderr)
        return 1
    except TaskDiedError as exc:
        print(f"mingle demo: {exc}", file=sys.stderr)
        return 1
    return 0
