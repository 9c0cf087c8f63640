"""``mingle demo``: a simulated venue played live through a real MQTT broker.

Virtual gateways publish the simulator's messages at their times (scaled by ``speed``),
the live service runs against the same broker, and what happens is printed. Without a
broker URL an embedded amqtt broker serves 127.0.0.1 on a free port.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import socket
import time
from collections.abc import AsyncIterator, Callable

import orjson

from pipeline.sim import ScenarioConfig, Simulation
from pipeline.step import PipelineState

from .broker import BrokerConfig, MqttLink
from .runner import WallTicker, run_service
from .service import LiveService, Outbound

__all__ = ["embedded_broker", "play", "run_demo", "scenario_for"]

Say = Callable[[str], None]


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


def scenario_for(attendees: int, seed: int, start: float) -> ScenarioConfig:
    """A scenario for ``attendees``, with as many booths as the generated floor holds."""
    error: ValueError | None = None
    for booths in (6, 4, 2, 0):
        try:
            return ScenarioConfig(attendees=attendees, seed=seed, booths=booths, start=start)
        except ValueError as exc:
            error = exc
    assert error is not None
    raise error


async def play(sim: Simulation, link: MqttLink, ticker: WallTicker, stop: asyncio.Event) -> None:
    """Publish the simulation's messages as virtual gateways, each when the clock reaches its ``t``."""
    await link.connected.wait()
    while not stop.is_set():
        tick = sim.step(sim.next_time)
        for m in tick.messages:
            wait = (m.t - ticker.now()) / ticker.speed
            if wait > 0:
                await asyncio.sleep(wait)
            link.publish(m.topic, m.body, qos=1)


def _describe(alert: dict[str, object], clock: str) -> str:
    members = alert["members"]
    nudge = alert["nudge"]
    assert isinstance(members, list) and isinstance(nudge, list)
    what = "held out (no nudge)" if alert["held_out"] else f"nudging {', '.join(map(str, nudge)) or 'nobody'}"
    sugg = alert.get("suggestion")
    where = ""
    if isinstance(sugg, dict):
        who = ", ".join(map(str, sugg.get("companies") or [])) or "someone new"
        where = f"; suggests {sugg['kind']} {who} {sugg['distance_m']:.0f} m away"
    return f"[{clock}] ALERT {alert['id']}: {len(members)} from {alert['company']} together; {what}{where}"


async def run_demo(
    *,
    attendees: int,
    speed: float,
    seed: int,
    broker: BrokerConfig | None,
    stop: asyncio.Event,
    say: Say = print,
    tick_s: float = 1.0,
) -> LiveService:
    start = float(math.floor(time.time()))
    config = scenario_for(attendees, seed, start)
    sim = Simulation(config)
    state = PipelineState(sim.venue, sim.roster)
    service = LiveService(state)
    ticker = WallTicker(tick_s, speed=speed, origin=start)

    def on_tick(now: float, out: list[Outbound]) -> None:
        clock = time.strftime("%H:%M:%S", time.gmtime(now))
        for m in out:
            if m.topic == service.topics.alerts:
                say(_describe(orjson.loads(m.payload), clock))
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
            f"demo: {len(sim.roster)} attendees on a {sim.venue.floor.width:g} x {sim.venue.floor.height:g} m floor, "
            f"{len(sim.venue.gateways)} gateways, speed x{speed:g}, broker {where.url}; Ctrl-C to stop"
        )
        gateways = await stack.enter_async_context(MqttLink(where))
        player = asyncio.create_task(play(sim, gateways, ticker, stop))
        try:
            await run_service(service, where, ticker, stop=stop, on_tick=on_tick)
        finally:
            player.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await player
    say(f"demo: stopped after {state.ticks} ticks, {service.published_alerts} alerts")
    return service
