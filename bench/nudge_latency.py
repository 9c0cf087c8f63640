"""Publish → nudge latency of the live service at 5,000 badges, through a real Mosquitto.

    python bench/nudge_latency.py [--broker-port 1883] [--badges 5000] [--seconds 150] [--dwell-s 30]

Three processes and a broker (a private Mosquitto on a free port unless ``--broker-port``):
  * virtual gateways — the simulated venue's 414 gateways publish one readings batch each
    per second of wall time (QoS 1), the batch for the second ending at ``s`` stamped
    ``sent = s`` and published at wall ``s`` (+5 ms), as real gateways do;
  * the service — ``LiveService`` under ``run_service`` with a ``WallTicker`` (1 s ticks),
    exactly what ``mingle pipeline`` runs, on the same venue with ``dwell_s`` shortened so
    alerts come within the run;
  * this process — a subscriber on ``nudges/+`` and ``frames`` that stamps each arrival.

The traffic: the simulator (``pipeline.sim``) is far slower than real time at 5,000
attendees, so one second of it (its second: the first holds only half a second of
readings) is the template — who stands where, which gateways hear
whom, at which RSSI — and every second after re-draws each RSSI around it (σ 2 dB),
with fresh timestamps and sequence numbers. The crowd stands still, but each true
conversational group of the simulation *arrives* at a random second of the first
``--arrive-s`` seconds (its members are not heard before), so huddles start, and their
alerts fire, spread over the run. Everyone not in a group is heard from the start.

Latency of a nudge (or a frame: it leaves the same tick just before the tick's alerts
and nudges, so it measures the same path with a sample every tick, while alerts are
few): its arrival (wall clock) minus the wall time at which the gateways
started publishing the newest batches the alert's tick had consumed — the second ``s``
whose batches were all published before that tick began. So it is the time from the
newest reading that could have caused the alert to the phone's message: tick
scheduling, queueing, the tick itself and both broker hops. Also shown: arrival minus
the alert's ``ts`` (the tick's ``now``: the pipeline-time moment the dwell was crossed).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import multiprocessing as mp
import queue
import threading
import time
import uuid
from typing import Any

import numpy as np
import orjson
import paho.mqtt.client as mqtt
from _mosquitto import private_broker
from paho.mqtt.enums import CallbackAPIVersion

from pipeline.live import BrokerConfig, LiveService, WallTicker, run_service
from pipeline.live.demo import scenario_for
from pipeline.sim import ScenarioConfig, Simulation
from pipeline.sim.scenario import build_scenario
from pipeline.step import PipelineState

SIM_START = 1764140000.0
NOISE_DB = 2.0


def _scenario(args: argparse.Namespace) -> ScenarioConfig:
    """The venue: ``scenario_for`` (as ``mingle demo``), with clingy people so same-company huddles form."""
    return dataclasses.replace(scenario_for(args.badges, args.seed, SIM_START), clinginess=args.clinginess)


class Traffic:
    """The virtual gateways' messages for each second, from one second of the simulator (see above)."""

    def __init__(self, config: ScenarioConfig, base: str, *, arrive_s: float, seed: int) -> None:
        sim = Simulation(config)
        sim.step(sim.next_time)  # the first second holds only about half a second of readings
        tick = sim.step(sim.next_time)
        self.rng = np.random.default_rng(seed)
        arrive: dict[str, float] = {}
        for group in tick.groups:
            arrive.update(dict.fromkeys(group.members, float(self.rng.uniform(0.0, arrive_s))))
        self.groups = len(tick.groups)
        self.plan = []
        for m in tick.messages:
            body = orjson.loads(m.body)
            if "gateway" not in body:
                continue
            items = body["readings"]
            self.plan.append(
                (
                    f"{base}/readings/{body['gateway']}",
                    str(body["gateway"]),
                    [str(r["badge"]) for r in items],
                    np.array([r["rssi"] for r in items], dtype=np.float64),
                    np.array([r["ts"] - tick.t for r in items], dtype=np.float64),
                    np.array([arrive.get(r["badge"], -1.0) for r in items], dtype=np.float64),
                    [r.get("tx") for r in items],
                    np.array([r.get("seq", 0) for r in items], dtype=np.int64),
                )
            )
        self.readings_per_s = sum(len(p[2]) for p in self.plan)
        self.heard = len({b for p in self.plan for b in p[2]})

    def second(self, s: int, elapsed: int) -> list[tuple[str, bytes]]:
        """Every gateway's batch for the window ending at ``s``, ``elapsed`` seconds into the run."""
        out = []
        for topic, gw, badges, rssi, offset, arrives, tx, seq in self.plan:
            here = np.flatnonzero(arrives <= elapsed)
            noisy = np.clip(np.rint(rssi[here] + self.rng.normal(0.0, NOISE_DB, here.shape[0])), -120, 10)
            ts = np.round(s - 1.0 + offset[here], 3)
            sq = (seq[here] + elapsed) % 2**32
            items = [
                {"badge": badges[j], "rssi": int(r), "ts": t, "tx": tx[j], "seq": q}
                for j, r, t, q in zip(here.tolist(), noisy.tolist(), ts.tolist(), sq.tolist(), strict=True)
            ]
            out.append((topic, orjson.dumps({"v": 1, "gateway": gw, "sent": s + 0.005, "readings": items})))
        return out


def _gateways(port: int, base: str, args: argparse.Namespace, ctl: mp.Queue[Any], out: mp.Queue[Any]) -> None:
    traffic = Traffic(_scenario(args), base, arrive_s=args.arrive_s, seed=args.seed)
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(0)  # one connection stands in for 414 gateways: no shared window
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    load = {"gateways": len(traffic.plan), "readings_per_s": traffic.readings_per_s, "groups": traffic.groups}
    out.put(("ready", {**load, "heard": traffic.heard}))
    t0, end = ctl.get()
    first: dict[int, float] = {}
    last: dict[int, float] = {}
    for s in range(t0, end + 1):
        wait = s + 0.005 - time.time()
        if wait > 0:
            time.sleep(wait)
        batches = traffic.second(s, s - t0)
        first[s] = time.time()
        for topic, body in batches:
            client.publish(topic, body, qos=1)
        last[s] = time.time()
    time.sleep(1.0)
    client.disconnect()
    client.loop_stop()
    out.put(("published", {"first": first, "last": last}))


class _StampingTicker:
    """A ``WallTicker`` that also notes the wall time each tick began."""

    def __init__(self, inner: WallTicker) -> None:
        self.inner = inner
        self.began: dict[float, float] = {}

    async def next(self) -> float | None:
        now = await self.inner.next()
        if now is not None:
            self.began[now] = time.time()
        return now

    def done(self, now: float) -> None:
        self.inner.done(now)


def _service(port: int, prefix: str, args: argparse.Namespace, ctl: mp.Queue[Any], out: mp.Queue[Any]) -> None:
    scenario = build_scenario(_scenario(args))
    venue = dataclasses.replace(
        scenario.venue, policy=dataclasses.replace(scenario.venue.policy, dwell_s=float(args.dwell_s))
    )
    state = PipelineState(venue, scenario.roster, prefix=prefix)
    service = LiveService(state, prefix=prefix)
    ticker = _StampingTicker(WallTicker(1.0, delay_s=args.tick_delay_s))
    ended: dict[float, float] = {}
    placed = [0]

    def on_tick(now: float, messages: object) -> None:
        ended[now] = time.time()
        placed[0] = max(placed[0], service.stats.badges_placed if service.stats else 0)

    async def main() -> None:
        stop = asyncio.Event()
        links: list[object] = []
        task = asyncio.create_task(
            run_service(service, BrokerConfig(port=port), ticker, stop=stop, on_tick=on_tick, ready=links.append)
        )
        while not links:
            await asyncio.sleep(0.05)
        out.put(("ready", {}))
        end = await asyncio.to_thread(ctl.get)
        await asyncio.sleep(max(0.0, end - time.time()))
        stop.set()
        await task

    asyncio.run(main())
    ing = state.ingest
    out.put(
        (
            "service",
            {
                "began": ticker.began,
                "ended": ended,
                "tick_s": list(state.tick_seconds),
                "skipped": ticker.inner.skipped,
                "alerts": service.published_alerts,
                "nudges": service.published_nudges,
                "readings": ing.readings,
                "rejected": dict(ing.rejected),
                "dropped": service.inbox.dropped,
                "badges_placed": placed[0],
            },
        )
    )


def _expect(q: mp.Queue[Any], what: str, timeout: float) -> Any:
    try:
        kind, body = q.get(timeout=timeout)
    except queue.Empty:
        raise SystemExit(f"no {what} within {timeout:g} s") from None
    if kind != what:
        raise SystemExit(f"expected {what}, got {kind}")
    return body


def _pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else math.nan


def run(args: argparse.Namespace, port: int) -> None:
    prefix = f"bench-{uuid.uuid4().hex[:8]}"
    base = f"{prefix}/{_scenario(args).site}"
    to_gw: mp.Queue[Any] = mp.Queue()
    to_svc: mp.Queue[Any] = mp.Queue()
    from_gw: mp.Queue[Any] = mp.Queue()
    from_svc: mp.Queue[Any] = mp.Queue()
    svc = mp.Process(target=_service, args=(port, prefix, args, to_svc, from_svc))
    gws = mp.Process(target=_gateways, args=(port, base, args, to_gw, from_gw))
    svc.start()
    gws.start()
    load = _expect(from_gw, "ready", 120)
    _expect(from_svc, "ready", 120)

    arrivals: list[tuple[float, str, float]] = []  # arrival wall time, nudge or frame, its tick's now
    lock = threading.Lock()

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        t = time.time()
        kind = "frame" if m.topic.endswith("/frames") else "nudge"
        with lock:
            arrivals.append((t, kind, float(orjson.loads(m.payload)["ts"])))

    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    sub.connect("127.0.0.1", port)
    sub.subscribe([(f"{base}/nudges/+", 1), (f"{base}/frames", 0)])
    sub.loop_start()
    time.sleep(0.5)

    t0 = math.ceil(time.time()) + 2
    end = t0 + args.seconds
    print(
        f"{args.badges} badges ({load['heard']} heard), {load['gateways']} gateways, "
        f"{load['readings_per_s']:,} readings/s once all have arrived, "
        f"{load['groups']} groups arriving over {args.arrive_s:g} s, dwell {args.dwell_s:g} s, "
        f"{args.seconds} s run, tick delay {args.tick_delay_s:g} s"
    )
    to_gw.put((t0, end))
    to_svc.put(end + 3.0)  # the last batches' ticks
    published = _expect(from_gw, "published", args.seconds + 120)
    result = _expect(from_svc, "service", args.seconds + 120)
    svc.join(30)
    gws.join(30)
    time.sleep(1.0)
    sub.disconnect()
    sub.loop_stop()

    first: dict[int, float] = published["first"]
    last: dict[int, float] = published["last"]
    began: dict[float, float] = result["began"]
    seconds = sorted(last)
    latency: dict[tuple[str, str], list[float]] = {}
    for arrived, kind, now in arrivals:
        if now > seconds[-1]:  # a tick after the gateways stopped: nothing new to react to
            continue
        start = began.get(now)
        consumed = [s for s in seconds if start is not None and last[s] <= start]
        if not consumed:  # a tick before the gateways' first second
            continue
        latency.setdefault((kind, "publish"), []).append(arrived - first[consumed[-1]])
        latency.setdefault((kind, "now"), []).append(arrived - now)
    ticks = result["tick_s"]
    print()
    print("| latency | count | p50 s | p95 s | max s |")
    print("|---|---|---|---|---|")
    for key, name in (
        (("nudge", "publish"), "publish of the newest batch the tick consumed → nudge arrival"),
        (("nudge", "now"), "alert ts (its tick's now) → nudge arrival"),
        (("frame", "publish"), "publish of the newest batch the tick consumed → frame arrival"),
        (("frame", "now"), "frame ts (its tick's now) → frame arrival"),
    ):
        values = latency.get(key, [])
        top = max(values, default=math.nan)
        print(f"| {name} | {len(values)} | {_pct(values, 50):.2f} | {_pct(values, 95):.2f} | {top:.2f} |")
    print()
    print("| ticks run | skipped | tick p50 ms | tick p95 ms | alerts | nudges | readings | dropped | most placed |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(
        f"| {len(ticks)} | {result['skipped']} | {_pct(ticks, 50) * 1000:.0f} | {_pct(ticks, 95) * 1000:.0f} "
        f"| {result['alerts']} | {result['nudges']} | {result['readings']:,} | {result['dropped']} "
        f"| {result['badges_placed']} |"
    )
    if result["rejected"]:
        print(f"rejected: {result['rejected']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--broker-port", type=int, help="an existing broker (default: a private Mosquitto)")
    ap.add_argument("--badges", type=int, default=5000)
    ap.add_argument("--seconds", type=int, default=150, help="how long the gateways publish")
    ap.add_argument("--arrive-s", type=float, default=90.0, help="groups arrive over this many seconds")
    ap.add_argument("--dwell-s", type=float, default=30.0, help="the venue policy's dwell for this run")
    ap.add_argument("--clinginess", type=float, default=0.9, help="the scenario's preference for colleagues")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--tick-delay-s", type=float, default=0.25, help="as mingle pipeline --tick-delay-s (default 0.25)")
    args = ap.parse_args()
    broker = None
    port = args.broker_port
    if port is None:
        broker, port = private_broker()
    try:
        run(args, port)
    finally:
        if broker is not None:
            broker.terminate()
            broker.wait(5)


if __name__ == "__main__":
    main()
