"""``mingle edge``: run a gateway (BLE → MQTT), or ``--replay`` a recording without radios.

Configuration is read here once into typed objects; everything below gets plain values.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import logging
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from mingle import __version__
from mingle.tasks import Crew
from mingle_wire import RecordingError, Topics, dumps, read_recording, valid_id

from .advert import DEFAULT_COMPANY_ID, AdvertConfig
from .batcher import BatcherConfig
from .buffer import Outbound
from .contacts import RELAY_MIN_DBM
from .gateway import GatewayConfig, GatewayCore
from .mqtt import Bridge, BrokerConfig
from .relay import NudgeRelay, RelayConfig
from .scanner import BadgeScanner, ScannerError, bleak_scanner_factory

__all__ = ["add_parser", "run"]

log = logging.getLogger(__name__)
VERSION = __version__
TICK_S = 0.1
NUDGE_QUEUE = 32


def _company_id(text: str) -> int:
    try:
        value = int(text, 0)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--company-id must be an integer like 0xFFFF, got {text!r}") from exc
    if not 0 <= value <= 0xFFFF:
        raise argparse.ArgumentTypeError(f"--company-id must be within [0, 0xFFFF], got {text!r}")
    return value


def _ident(text: str) -> str:
    if not valid_id(text):
        raise argparse.ArgumentTypeError(f"not a valid id (letters, digits, . _ : -): {text!r}")
    return text


def add_parser(subparsers: Any) -> None:
    p = subparsers.add_parser("edge", help="run a BLE gateway: badge advertisements in, readings out over MQTT")
    p.add_argument("--site", required=True, type=_ident, help="site (event/venue) id")
    p.add_argument("--gateway", required=True, type=_ident, help="this gateway's id, e.g. gw-01")
    p.add_argument("--broker", default="mqtt://127.0.0.1:1883", help="mqtt://host[:port]")
    p.add_argument("--username")
    p.add_argument("--password")
    p.add_argument("--prefix", default="mingle", help="topic prefix")
    p.add_argument("--window-s", type=float, default=1.0, help="batch window in seconds")
    p.add_argument("--company-id", type=_company_id, default=DEFAULT_COMPANY_ID, help="badge company id (0xFFFF)")
    p.add_argument("--ibeacon-uuid", type=uuid.UUID, help="accept iBeacon badges with this proximity UUID")
    p.add_argument("--ibeacon-map", type=Path, metavar="CSV", help="iBeacon ids: lines of major,minor,badge")
    p.add_argument("--adapter", help="BlueZ adapter, e.g. hci0")
    p.add_argument("--buffer", type=int, default=3600, help="messages kept while the broker is unreachable")
    p.add_argument(
        "--relay-min-dbm",
        type=float,
        default=RELAY_MIN_DBM,
        help="relay a badge's neighbour report only from an advertisement heard at least this strongly "
        "(default %(default)s dBm: the gateways near the badge relay it, not every one in range)",
    )
    p.add_argument(
        "--replay", type=Path, metavar="RECORDING", help="publish this gateway's readings and contacts from a recording"
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        topics = Topics(args.site, args.prefix)
        broker = BrokerConfig.from_url(
            args.broker, client_id=f"mingle-edge-{args.site}-{args.gateway}"[:64], **_credentials(args)
        )
        config = GatewayConfig(
            topics=topics,
            batcher=BatcherConfig(args.gateway, args.window_s),
            advert=AdvertConfig(args.company_id, args.ibeacon_uuid, _ibeacon_map(args.ibeacon_map)),
            version=VERSION,
            adapter=args.adapter or "default",
            buffer_capacity=args.buffer,
            relay_min_dbm=args.relay_min_dbm,
        )
    except (ValueError, OSError) as exc:
        log.error("bad configuration: %s", exc)
        return 2
    try:
        if args.replay is not None:
            return asyncio.run(replay(args.replay, config, broker))
        return asyncio.run(live(config, broker))
    except (RecordingError, OSError) as exc:
        log.error("%s", exc)
        return 1


def _ibeacon_map(path: Path | None) -> dict[tuple[int, int], str]:
    """Read ``major,minor,badge`` lines (``#`` comments, an optional header); errors name file and line."""
    if path is None:
        return {}
    ids: dict[tuple[int, int], str] = {}
    with open(path, encoding="utf-8", newline="") as fh:
        for lineno, row in enumerate(csv.reader(fh), start=1):
            if not row or row[0].startswith("#") or (lineno == 1 and row[0].strip() == "major"):
                continue
            try:
                major, minor, badge = (cell.strip() for cell in row)
                key = (int(major), int(minor))
            except ValueError as exc:
                raise ValueError(f"{path}:{lineno}: expected major,minor,badge, got {row!r}") from exc
            if not (0 <= key[0] <= 0xFFFF and 0 <= key[1] <= 0xFFFF) or not valid_id(badge):
                raise ValueError(f"{path}:{lineno}: bad major/minor or badge id in {row!r}")
            ids[key] = badge
    return ids


def _credentials(args: argparse.Namespace) -> dict[str, Any]:
    return {"username": args.username, "password": args.password} if args.username else {}


def _stop_on_signals(stop: asyncio.Event) -> None:
    if sys.platform == "win32":  # no loop signal handlers there; Ctrl-C still interrupts
        return
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(RuntimeError, ValueError):  # not the main thread (tests)
            loop.add_signal_handler(sig, stop.set)


def _bridge(core: GatewayCore, broker: BrokerConfig, **kwargs: Any) -> Bridge:
    status_topic = core.config.topics.gateway_status(core.gateway)
    will = Outbound(status_topic, core.offline_payload(time.time()), 1, True)
    return Bridge(broker, core.buffer, will=will, on_connect=lambda: [core.online(time.time())], **kwargs)


async def live(config: GatewayConfig, broker: BrokerConfig, stop: asyncio.Event | None = None) -> int:
    """Run the gateway until ``stop`` (SIGINT/SIGTERM): 0. If its broker bridge or nudge relay
    ends first (a bug: each runs until the stop), the death is logged with the task's name, the
    gateway stops as on SIGTERM (the bridge, if alive, publishes ``offline``; a dead one dropped
    its connection without a DISCONNECT, so the broker publishes the will, ``offline``) and
    returns 1, which systemd's ``Restart=on-failure`` restarts (``hardware/gateway/mingle-edge.service``)."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    core = GatewayCore(config, time.time())
    nudges: asyncio.Queue[bytes] = asyncio.Queue(NUDGE_QUEUE)
    dropped_nudges = 0

    def on_message(topic: str, payload: bytes) -> None:
        nonlocal dropped_nudges
        try:
            nudges.put_nowait(payload)
        except asyncio.QueueFull:
            dropped_nudges += 1
            log.warning("nudge queue full: %d dropped", dropped_nudges)

    bridge = _bridge(core, broker, subscriptions=[config.topics.nudge("+")], on_message=on_message)
    relay = NudgeRelay(
        RelayConfig(core.gateway, config.topics),
        device_for=core.device,
        client_factory=_bleak_client,
        send=bridge.push,
        clock=time.time,
    )
    scanner = BadgeScanner(
        lambda device, data, rssi: core.advert(device, data, rssi, time.time()),
        bleak_scanner_factory(None if config.adapter == "default" else config.adapter, config.advert.company_id),
    )
    try:
        await scanner.start()
    except ScannerError as exc:
        log.error("cannot scan: %s", exc)
        return 1
    crew = Crew(stop, log)
    crew.start(bridge.run(stop, final=lambda: [_offline(core)]), "broker bridge")
    crew.start(_relay_worker(relay, nudges, stop), "nudge relay")
    try:
        while not stop.is_set():
            now = time.time()
            status, restart = core.tick(now)
            if status is not None:
                bridge.push_latest(status)
            if len(core.buffer):
                bridge.wakeup.set()
            if restart:
                log.warning("no advertisement for %.0f s: restarting the scanner", config.watchdog.stall_s)
                core.watchdog.restarted(now)
                with contextlib.suppress(ScannerError):
                    await scanner.restart()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), TICK_S)
    finally:
        stop.set()
        await scanner.stop()
        await crew.join()
    return 1 if crew.died else 0


def _offline(core: GatewayCore) -> Outbound:
    return Outbound(core.config.topics.gateway_status(core.gateway), core.offline_payload(time.time()), 1, True)


def _bleak_client(device: Any, timeout_s: float) -> Any:
    from bleak import BleakClient

    return BleakClient(device, timeout=timeout_s)


async def _relay_worker(relay: NudgeRelay, nudges: asyncio.Queue[bytes], stop: asyncio.Event) -> None:
    """Relay queued nudges until ``stop``. The relay acknowledges a nudge it identified as
    ``failed`` even when relaying it raises (a bug; logged there); what still raises out of it (a
    bug before the badge is known, or in sending the ack) is logged here with its traceback and
    skipped: nudges are independent and the worker keeps no state, so it goes on with the next
    one rather than dying, and the gateway (its readings) is not restarted for one nudge."""
    while not stop.is_set():
        try:
            payload = await asyncio.wait_for(nudges.get(), 0.5)
        except TimeoutError:
            continue
        try:
            await relay.handle(payload)
        except Exception:
            log.exception("nudge relay: relaying %r failed; skipped", payload[:200])


REPLAYED_KINDS = ("readings", "contacts")


def replay_messages(recording: Path, gateway: str) -> list[tuple[float, str, dict[str, Any]]]:
    """(time, kind, payload) of ``gateway``'s readings and contacts batches in a recording, in order."""
    out: list[tuple[float, str, dict[str, Any]]] = []
    for message in read_recording(recording):
        kind = next((k for k in REPLAYED_KINDS if message.topic.endswith(f"/{k}/{gateway}")), None)
        if kind is None or not isinstance(message.payload, dict):
            continue
        sent = message.payload.get("sent")
        t = message.t if message.t is not None else sent
        if isinstance(t, (int, float)) and not isinstance(t, bool):
            out.append((float(t), kind, message.payload))
    return out


def shift_payload(payload: dict[str, Any], offset_s: float) -> dict[str, Any]:
    """The payload with ``sent`` and every reading's or contact's ``ts`` moved by ``offset_s`` seconds."""
    shifted = dict(payload)
    if isinstance(shifted.get("sent"), (int, float)):
        shifted["sent"] = round(shifted["sent"] + offset_s, 3)
    for kind in REPLAYED_KINDS:
        items = shifted.get(kind)
        if isinstance(items, list):
            shifted[kind] = [{**r, "ts": round(r["ts"] + offset_s, 3)} if _has_ts(r) else r for r in items]
    return shifted


def _has_ts(item: object) -> bool:
    return isinstance(item, dict) and isinstance(item.get("ts"), (int, float)) and not isinstance(item["ts"], bool)


async def replay(
    recording: Path, config: GatewayConfig, broker: BrokerConfig, stop: asyncio.Event | None = None
) -> int:
    """Publish the gateway's recorded readings and contacts batches in real time, re-stamped to now:
    0; 1 for a recording with nothing for the gateway, or when the broker bridge dies (logged)."""
    stop = stop or asyncio.Event()
    _stop_on_signals(stop)
    gateway = config.batcher.gateway
    messages = replay_messages(recording, gateway)
    if not messages:
        log.error("%s: no readings or contacts for gateway %s", recording, gateway)
        return 1
    core = GatewayCore(config, time.time())
    bridge = _bridge(core, broker)
    crew = Crew(stop, log)
    crew.start(bridge.run(stop, final=lambda: [_offline(core)]), "broker bridge")
    offset = time.time() - messages[0][0]
    topics = {"readings": config.topics.readings(gateway), "contacts": config.topics.contacts(gateway)}
    for t, kind, payload in messages:
        delay = t + offset - time.time()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        if stop.is_set():
            break
        bridge.push(Outbound(topics[kind], dumps(shift_payload(payload, offset))))
    # drain what is left; a recording shorter than the first connect waits for it (at most the
    # broker timeout, so an unreachable broker still ends the replay)
    give_up = time.monotonic() + broker.timeout_s
    while len(core.buffer) and not stop.is_set() and (bridge.connects or time.monotonic() < give_up):
        await asyncio.sleep(0.05)
    stop.set()
    await crew.join()
    log.info("replayed %d batches (%d dropped)", core.buffer.delivered, core.buffer.dropped)
    return 1 if crew.died else 0
