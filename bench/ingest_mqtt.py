"""Ingest throughput through a real Mosquitto: the live service's path vs a bare paho consumer.

    python bench/ingest_mqtt.py [--broker-port 1883] [--readings 400000] [--badges 5000]

For 50 and 200 readings per message, a separate publisher process sends pre-encoded
``readings/<gateway>`` batches (QoS 1) as fast as the broker takes them, and in the same
run we time two consumers, one at a time:
  * bare paho — paho's callback thread only parses each payload (orjson), nothing else,
  * live ingest — ``MqttLink`` (paho thread → the thread-safe, bounded ``Inbox``), then
    every 50 ms the loop drains the inbox into ``Ingest.accept`` (validation, id mapping)
    and ``RssiWindows.add``: everything a tick does before positioning.
Readings/s counts from the first message's arrival to the last one decoded (bare) or in
the windows (live). Each consumer runs ``--rounds`` times per size, alternating, and the
median is shown (this machine is noisy), with the consumer process's CPU time per reading,
which the machine's other load disturbs far less than the wall time. The script also runs
against a checkout from before the inbox was filled from paho's thread (``PYTHONPATH``),
for before/after figures. One table is printed; docs/benchmarks.md quotes it.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import statistics
import threading
import time
import uuid

import orjson
import paho.mqtt.client as mqtt
from _mosquitto import private_broker
from paho.mqtt.enums import CallbackAPIVersion

from pipeline.live import BrokerConfig, Inbox, MqttLink
from pipeline.sim import ScenarioConfig, Simulation
from pipeline.step import PipelineState


def _payloads(gateways: list[str], badges: list[str], per: int, n: int) -> list[tuple[str, bytes]]:
    out = []
    now = time.time()
    for k in range(n):
        gw = gateways[k % len(gateways)]
        items = [
            {"badge": badges[(k * per + j) % len(badges)], "rssi": -50 - (j % 40), "ts": now, "tx": -59, "seq": k}
            for j in range(per)
        ]
        out.append((gw, orjson.dumps({"v": 1, "gateway": gw, "sent": now, "readings": items})))
    return out


def _publish(port: int, base: str, msgs: list[tuple[str, bytes]], start: mp.synchronize.Event) -> None:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.max_inflight_messages_set(1000)
    client.connect("127.0.0.1", port)
    client.loop_start()
    start.wait()
    infos = [client.publish(f"{base}/readings/{gw}", body, qos=1) for gw, body in msgs]
    for info in infos:
        info.wait_for_publish(60)
    client.disconnect()
    client.loop_stop()


def _bare(port: int, base: str, msgs: list[tuple[str, bytes]]) -> tuple[float, float]:
    got = 0
    first = last = 0.0
    done = threading.Event()

    def on_message(c: mqtt.Client, u: object, m: mqtt.MQTTMessage) -> None:
        nonlocal got, first, last
        orjson.loads(m.payload)
        got += 1
        last = time.perf_counter()
        first = first or last
        if got == len(msgs):
            done.set()

    sub = mqtt.Client(CallbackAPIVersion.VERSION2)
    sub.on_message = on_message
    sub.connect("127.0.0.1", port)
    sub.subscribe(f"{base}/readings/+", 1)
    sub.loop_start()
    time.sleep(0.5)
    cpu = time.process_time()
    proc = _run_publisher(port, base, msgs)
    done.wait(60)
    cpu = time.process_time() - cpu
    if got != len(msgs):
        raise SystemExit(f"the bare consumer got {got} of {len(msgs)} messages")
    proc.join()
    sub.disconnect()
    sub.loop_stop()
    return last - first, cpu


def _run_publisher(port: int, base: str, msgs: list[tuple[str, bytes]]) -> mp.Process:
    start = mp.Event()
    proc = mp.Process(target=_publish, args=(port, base, msgs, start))
    proc.start()
    time.sleep(0.5)
    start.set()
    return proc


async def _live(port: int, state: PipelineState, base: str, msgs: list[tuple[str, bytes]]) -> tuple[float, float]:
    inbox = Inbox(1_000_000)
    first = last = 0.0
    done = 0
    subs = [(f"{base}/readings/+", 1)]
    try:
        link = MqttLink(BrokerConfig(port=port), subscriptions=subs, inbox=inbox, clock=time.perf_counter)
    except TypeError:  # a checkout from before paho's thread filled the inbox: hop per message, as it did
        link = MqttLink(BrokerConfig(port=port), subscriptions=subs, on_message=inbox.put, clock=time.perf_counter)
    async with link:
        await link.subscribed.wait()
        cpu = time.process_time()
        proc = _run_publisher(port, base, msgs)
        idle = 0
        while done < len(msgs) and idle < 60:  # 3 s without a message: the broker dropped some
            await asyncio.sleep(0.05)
            batch = inbox.take()
            for m in batch:
                state.ingest.accept(m.topic, m.payload)
            d = state.ingest.drain()
            state.windows.add(d.badge, d.gateway, d.ts, d.rssi)
            idle = 0 if batch else idle + 1
            if batch:
                last = time.perf_counter()  # the batch is in the windows
                first = first or batch[0].t  # the first message's arrival in paho's thread
                done += len(batch)
        cpu = time.process_time() - cpu
        await asyncio.to_thread(proc.join)
    return last - first, cpu


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--broker-port", type=int, help="an existing broker (default: a private Mosquitto)")
    ap.add_argument("--readings", type=int, default=400_000)
    ap.add_argument("--badges", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3, help="runs of each consumer per size (the median is shown)")
    args = ap.parse_args()
    broker = None
    if args.broker_port is None:
        broker, args.broker_port = private_broker()
    try:
        _table(args)
    finally:
        if broker is not None:
            broker.terminate()
            broker.wait(5)


def _table(args: argparse.Namespace) -> None:
    sim = Simulation(ScenarioConfig(attendees=args.badges, seed=1))
    gateways = [g.id for g in sim.venue.gateways]
    badges = list(sim.roster)
    where = f"Mosquitto on 127.0.0.1:{args.broker_port}"
    print(f"{args.readings:,} readings per run, {len(badges)} badges, {len(gateways)} gateways, {where}")
    print(f"{args.rounds} rounds per size, bare and live alternating; median wall s and its readings/s;")
    print("CPU: the consumer process's CPU time (all threads) per reading, median")
    print("| consumer | readings/message | messages | wall s | each run | readings/s | live / bare | CPU µs/reading |")
    print("|---|---|---|---|---|---|---|---|")
    for per in (50, 200):
        n = args.readings // per
        msgs = _payloads(gateways, badges, per, n)
        walls: dict[str, list[float]] = {"bare": [], "live": []}
        cpus: dict[str, list[float]] = {"bare": [], "live": []}
        for _ in range(args.rounds):
            base = f"bench-{uuid.uuid4().hex[:8]}/{sim.venue.site}"
            wall, cpu = _bare(args.broker_port, base, msgs)
            walls["bare"].append(wall)
            cpus["bare"].append(cpu)
            base = f"bench-{uuid.uuid4().hex[:8]}/{sim.venue.site}"
            state = PipelineState(sim.venue, sim.roster, prefix=base.split("/")[0])
            wall, cpu = asyncio.run(_live(args.broker_port, state, base, msgs))
            walls["live"].append(wall)
            cpus["live"].append(cpu)
            if state.ingest.readings != n * per or state.ingest.rejected:
                raise SystemExit(
                    f"live ingest took {state.ingest.readings} of {n * per} readings: {state.ingest.rejected}"
                )
        rate = {k: n * per / statistics.median(v) for k, v in walls.items()}
        for key, name in (("bare", "bare paho (decode only)"), ("live", "live ingest (decode + windows)")):
            each = " ".join(f"{w:.2f}" for w in walls[key])
            ratio = f"{rate['live'] / rate['bare']:.0%}" if key == "live" else ""
            median = statistics.median(walls[key])
            cpu_us = statistics.median(cpus[key]) / (n * per) * 1e6
            print(f"| {name} | {per} | {n:,} | {median:.2f} | {each} | {rate[key]:,.0f} | {ratio} | {cpu_us:.2f} |")


if __name__ == "__main__":
    main()
