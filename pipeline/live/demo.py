"""``mingle demo``: a simulated venue played live through a real MQTT broker, and its map.

Virtual gateways publish the simulator's messages at their times (scaled by ``speed``)
and a retained status each (with their advertisements per second), the live service runs
against the same broker, the dashboard serves the live map on ``port``, and what happens
is printed. Without a broker URL an embedded amqtt broker serves 127.0.0.1 on a free port.

The demo shortens the venue policy's huddle dwell to ``dwell_s`` (45 s) so that a newcomer
sees a huddle alert within about a minute at real speed; a real ``venue.yaml`` sets its own.
Its badges scan and report their neighbours, as the shipped firmware's do (``contacts``;
off: the gateways' readings alone, as with badges whose ``badge.json`` says ``"scan": false``).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import math
import os
import secrets
import socket
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

import orjson

from mingle.tasks import Crew
from mingle_wire import Topics, dumps
from pipeline.distances import how_far
from pipeline.roster import Roster
from pipeline.sim import ScenarioConfig, Simulation
from pipeline.step import PipelineState
from pipeline.venue import Venue

from .broker import BrokerConfig, MqttLink
from .runner import WallTicker, run_service
from .service import LiveService, Outbound

__all__ = ["DEMO_DWELL_S", "MapOptions", "embedded_broker", "play", "run_demo", "scenario_for"]

Say = Callable[[str], None]

log = logging.getLogger("mingle.live")

#: The demo's huddle dwell (seconds): short, so an alert shows within about a minute.
DEMO_DWELL_S = 45.0
GATEWAY_STATUS_EVERY_S = 10.0


@dataclasses.dataclass(frozen=True, slots=True)
class MapOptions:
    """Serve the live map on ``host:port`` (0 = a free port).

    ``password`` is the organizer password (``None``: ``$MINGLE_DASHBOARD_PASSWORD`` or one
    generated for this run); ``secret`` signs attendee links (``None``: random for this run).
    """

    port: int = 8000
    host: str = "127.0.0.1"
    password: str | None = None
    secret: bytes | None = None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.asynccontextmanager
async def embedded_broker() -> AsyncIterator[BrokerConfig]:
    """An amqtt broker on 127.0.0.1 and a free port, anonymous, for the demo's lifetime."""
    from amqtt.broker import Broker  # type: ignore[import-untyped,unused-ignore]

    for noisy in ("amqtt", "transitions"):  # they log every session state change at INFO
        logging.getLogger(noisy).setLevel(logging.WARNING)

    port = _free_port()
    broker = Broker(
        {
            "listeners": {"default": {"type": "tcp", "bind": f"127.0.0.1:{port}"}},
            "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
        }
    )
    await broker.start()
    try:
        yield BrokerConfig("127.0.0.1", port)
    finally:
        await broker.shutdown()


def scenario_for(attendees: int, seed: int, start: float, contacts: bool = True) -> ScenarioConfig:
    """A scenario for ``attendees``, with as many booths as the generated floor holds; with
    ``contacts`` the badges also report their neighbours."""
    error: ValueError | None = None
    for booths in (6, 4, 2, 0):
        try:
            return ScenarioConfig(attendees=attendees, seed=seed, booths=booths, start=start, contacts=contacts)
        except ValueError as exc:
            error = exc
    assert error is not None
    raise error


async def play(
    sim: Simulation,
    link: MqttLink,
    ticker: WallTicker,
    stop: asyncio.Event,
    *,
    status_every_s: float = GATEWAY_STATUS_EVERY_S,
) -> None:
    """Publish the simulation's messages as virtual gateways, each when the clock reaches its ``t``.

    Every ``status_every_s`` of simulated time each virtual gateway also publishes its
    retained ``gateways/<id>/status`` (``online``, advertisements per second), as a real one does.
    """
    await link.connected.wait()
    topics = Topics(sim.venue.site)
    heard: dict[str, int] = {g.id: 0 for g in sim.venue.gateways}
    readings_prefix = topics.readings("")
    last_status = ticker.now()
    while not stop.is_set():
        tick = sim.step(sim.next_time)
        for m in tick.messages:
            wait = (m.t - ticker.now()) / ticker.speed
            if wait > 0:
                await asyncio.sleep(wait)
            link.publish(m.topic, m.body, qos=1)
            gw = m.topic[len(readings_prefix) :] if m.topic.startswith(readings_prefix) else None
            if gw in heard:
                heard[gw] += m.body.count(b'"badge"')
        if tick.t - last_status >= status_every_s:
            span = tick.t - last_status
            for gw, n in heard.items():
                link.publish(
                    topics.gateway_status(gw), _gateway_status(gw, "online", tick.t, n / span), qos=1, retain=True
                )
                heard[gw] = 0
            last_status = tick.t


def _gateway_status(gateway: str, state: str, ts: float, adverts_per_s: float) -> bytes:
    stats: dict[str, Any] = {"adverts_per_s": round(adverts_per_s, 1), "buffer_depth": 0, "buffer_dropped": 0}
    return dumps({"v": 1, "gateway": gateway, "state": state, "ts": ts, "version": "demo", "stats": stats})


def _describe(alert: dict[str, object], clock: str) -> str:
    members = alert["members"]
    nudge = alert["nudge"]
    assert isinstance(members, list) and isinstance(nudge, list)
    what = "held out (no nudge)" if alert["held_out"] else f"nudging {', '.join(map(str, nudge)) or 'nobody'}"
    sugg = alert.get("suggestion")
    where = ""
    if isinstance(sugg, dict):
        who = ", ".join(map(str, sugg.get("companies") or [])) or "someone new"
        where = f"; suggests {sugg['kind']} {who}, {how_far(float(sugg['distance_m']))}"
    return f"[{clock}] ALERT {alert['id']}: {len(members)} from {alert['company']} together; {what}{where}"


def demo_venue(venue: Venue, dwell_s: float) -> Venue:
    """The simulated venue with the demo's short huddle dwell."""
    return dataclasses.replace(venue, policy=dataclasses.replace(venue.policy, dwell_s=dwell_s))


def _example_attendee(roster: Roster) -> str:
    return next((a.badge for a in roster.values() if a.role == "attendee" and not a.opt_out), next(iter(roster)))


async def run_demo(
    *,
    attendees: int,
    speed: float,
    seed: int,
    broker: BrokerConfig | None,
    stop: asyncio.Event,
    say: Say = print,
    tick_s: float = 1.0,
    dwell_s: float = DEMO_DWELL_S,
    map_options: MapOptions | None = None,
    contacts: bool = True,
) -> LiveService:
    """Run the demo until ``stop``; with ``map_options`` the dashboard serves the live map too;
    ``contacts``: the badges scan and report their neighbours (false: gateways' readings only).

    The virtual gateways (:func:`play`) are the demo's only input, and a simulation that raised
    cannot be resumed: should they die, that is logged with the traceback, the demo stops as on
    Ctrl-C and then raises :class:`~mingle.tasks.TaskDiedError` (``mingle demo`` exits 1),
    rather than showing a venue that has silently frozen."""
    start = float(math.floor(time.time()))
    config = scenario_for(attendees, seed, start, contacts)
    sim = Simulation(config)
    venue = demo_venue(sim.venue, dwell_s)
    state = PipelineState(venue, sim.roster)
    service = LiveService(state)
    ticker = WallTicker(tick_s, speed=speed, origin=start)
    links: dict[str, Any] = {}

    def on_tick(now: float, out: list[Outbound]) -> None:
        clock = time.strftime("%H:%M:%S", time.gmtime(now))
        for m in out:
            if m.topic == service.topics.alerts:
                alert = orjson.loads(m.payload)
                say(_describe(alert, clock))
                for badge in alert["nudge"] if links else ():
                    say(f"[{clock}]   {badge}'s phone page: {links['base']}/me/{links['token'](badge)}")
            elif m.topic == service.topics.pipeline_status and service.last_status is not None:
                s = service.last_status
                lag = s["lag_s"]
                assert isinstance(lag, dict)
                say(
                    f"[{clock}] {s['badges_placed']} badges placed, {s['readings_per_s']} readings/s, "
                    f"tick p95 {s['tick_ms_p95']} ms, lag {lag['reading']} s, "
                    f"rejected {sum(s['rejected'].values()) if isinstance(s['rejected'], dict) else 0}, "
                    f"alerts {s['alerts']}, nudges {s['nudges']}"
                )

    async with contextlib.AsyncExitStack() as stack:
        where = broker if broker is not None else await stack.enter_async_context(embedded_broker())
        say(
            f"demo: {len(sim.roster)} attendees on a {venue.floor.width:g} x {venue.floor.height:g} m floor, "
            f"{len(venue.gateways)} gateways, {'scanning badges' if contacts else 'gateways only'}, "
            f"speed x{speed:g}, huddle dwell {dwell_s:g} s, broker {where.url}; "
            "Ctrl-C to stop"
        )
        gateways = await stack.enter_async_context(MqttLink(where))
        if map_options is not None:
            await _serve_map(stack, map_options, venue, sim.roster, where, ticker, links, say)
        crew = Crew(stop, log)
        player = crew.start(play(sim, gateways, ticker, stop), "the demo's virtual gateways")
        try:
            await run_service(service, where, ticker, stop=stop, on_tick=on_tick)
        finally:
            player.cancel()
            await crew.join()
            topics = Topics(venue.site)
            for g in venue.gateways:  # a real gateway's last will does this; keep a shared broker truthful
                gateways.publish(
                    topics.gateway_status(g.id), _gateway_status(g.id, "offline", ticker.now(), 0.0), qos=1, retain=True
                )
    say(f"demo: stopped after {state.ticks} ticks, {service.published_alerts} alerts")
    crew.check()
    return service


async def _serve_map(
    stack: contextlib.AsyncExitStack,
    options: MapOptions,
    venue: Venue,
    roster: Roster,
    broker: BrokerConfig,
    ticker: WallTicker,
    links: dict[str, Any],
    say: Say,
) -> None:
    try:
        from dashboard.app import DashboardConfig, create_app
        from dashboard.auth import PASSWORD_ENV
        from dashboard.serve import serving
        from dashboard.tokens import TokenBook
    except ImportError as exc:
        say(f"demo: no live map here (install mingle[dashboard]: {exc})")
        return
    password = options.password or os.environ.get(PASSWORD_ENV) or secrets.token_urlsafe(9)
    secret = options.secret or secrets.token_bytes(32)
    config = DashboardConfig(venue, roster, password, secret, broker=broker)
    app = create_app(config, clock=ticker.now)  # the map's "now" is the demo's scaled clock
    port = await stack.enter_async_context(serving(app, options.host, options.port))
    base = f"http://{options.host}:{port}"
    book = TokenBook(secret, roster.keys())
    links["base"] = base
    links["token"] = book.token
    shown = "from $" + PASSWORD_ENV if options.password is None and os.environ.get(PASSWORD_ENV) else password
    say(f"demo: live map at {base}/  (organizer password: {shown})")
    example = _example_attendee(roster)
    say(f"demo: an attendee's phone page ({example}): {base}/me/{book.token(example)}")
