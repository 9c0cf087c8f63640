"""``mingle dashboard`` (the organizer map and attendee pages) and ``mingle tokens`` (attendee links)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from pipeline.errors import ConfigError
from pipeline.live.broker import BrokerConfig
from pipeline.roster import load_roster
from pipeline.venue import load_venue

from .app import DashboardConfig, create_app
from .auth import PASSWORD_ENV, load_password
from .serve import serving
from .tokens import load_secret, new_secret_file, write_tokens

__all__ = ["add_parser"]

BROKER_PASSWORD_ENV = "MINGLE_BROKER_PASSWORD"


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    d = sub.add_parser(
        "dashboard",
        help="serve the organizer floor map and the attendees' phone pages",
        description="Subscribes to the pipeline's frames, alerts, nudges and statuses and serves the live map "
        f"(organizer login: password from --password-file or ${PASSWORD_ENV}) and /me/<token> pages.",
        allow_abbrev=False,  # so a mistyped `--password SECRET` is refused, not taken for --password-file
    )
    d.add_argument("--venue", type=Path, required=True, help="venue.yaml")
    d.add_argument("--roster", type=Path, required=True, help="roster.csv")
    d.add_argument("--secret-file", type=Path, required=True, help="attendee-link secret (as for mingle tokens)")
    d.add_argument("--password-file", type=Path, help=f"organizer password file (default: ${PASSWORD_ENV})")
    d.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://host[:port] or mqtts://host[:port]")
    d.add_argument("--username", help=f"broker user name (password from ${BROKER_PASSWORD_ENV})")
    d.add_argument("--tls-ca", type=Path, help="CA bundle for TLS (with mqtts://)")
    d.add_argument("--prefix", default="mingle", help="topic prefix (default mingle)")
    d.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1; 0.0.0.0 for all)")
    d.add_argument("--port", type=int, default=8000, help="port (default 8000; 0 = a free port)")
    d.add_argument("--floor-image", type=Path, help="background image of the real floor plan (.png/.jpg/.svg)")
    d.add_argument("--session-hours", type=float, default=8.0, help="organizer sessions expire after this (default 8)")
    d.add_argument("--secure-cookies", action="store_true", help="mark cookies Secure (when served over HTTPS)")
    d.set_defaults(run=run_dashboard)

    t = sub.add_parser(
        "tokens",
        help="export attendee links (CSV) and QR codes to print on badges",
        description="Writes OUT/tokens.csv (badge, name, company, token, url) and OUT/qr/<badge>.svg and .png. "
        "Creates the secret file (mode 0600) when it does not exist yet.",
    )
    t.add_argument("--roster", type=Path, required=True, help="roster.csv")
    t.add_argument("--secret-file", type=Path, required=True, help="the secret (created if missing)")
    t.add_argument("--out", type=Path, required=True, help="output directory")
    t.add_argument("--base-url", default="http://mingle.local:8000", help="the dashboard's address as phones reach it")
    t.set_defaults(run=run_tokens)


def run_tokens(args: argparse.Namespace) -> int:
    try:
        roster = load_roster(args.roster)
        if args.secret_file.exists():
            secret = load_secret(args.secret_file)
        else:
            secret = new_secret_file(args.secret_file)
            print(f"mingle tokens: created a new secret in {args.secret_file} (keep it; the links depend on it)")
        rows = [(a.badge, a.name, a.company) for a in roster.values()]
        n = write_tokens(rows, secret, args.out, args.base_url)
    except (ConfigError, ValueError, OSError) as exc:
        print(f"mingle tokens: {exc}", file=sys.stderr)
        return 2
    print(f"mingle tokens: {n} attendee links in {args.out / 'tokens.csv'}, QR codes in {args.out / 'qr'}")
    return 0


def run_dashboard(args: argparse.Namespace) -> int:
    try:
        venue = load_venue(args.venue)
        roster = load_roster(args.roster)
        password = load_password(args.password_file)
        secret = load_secret(args.secret_file)
        broker = BrokerConfig.from_url(
            args.broker, username=args.username, password=os.environ.get(BROKER_PASSWORD_ENV), tls_ca=args.tls_ca
        )
        if args.floor_image is not None and not args.floor_image.is_file():
            raise ValueError(f"floor image {args.floor_image} is not a file")
        config = DashboardConfig(
            venue,
            roster,
            password,
            secret,
            broker=broker,
            prefix=args.prefix,
            session_ttl_s=args.session_hours * 3600.0,
            secure_cookies=args.secure_cookies,
            floor_image=args.floor_image,
        )
    except (ConfigError, ValueError) as exc:
        print(f"mingle dashboard: {exc}", file=sys.stderr)
        return 2
    app = create_app(config)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(RuntimeError):
                loop.add_signal_handler(sig, stop.set)
        async with serving(app, args.host, args.port) as port:
            print(f"mingle dashboard: http://{args.host}:{port}/ for site {venue.site} on {broker.url}; Ctrl-C to stop")
            await stop.wait()

    try:
        asyncio.run(main())
    except OSError as exc:
        print(f"mingle dashboard: {exc}", file=sys.stderr)
        return 1
    print("mingle dashboard: stopped")
    return 0
