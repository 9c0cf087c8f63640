"""Live-map cost at 500–2,000 badges: the server's view, the browser's parse and draw.

    python bench/map_render.py [--badges 500 1000 2000] [--frames 30]

For each crowd size a seeded synthetic frame stream (people in groups of 2–6 on a 60 x 40 m
floor, 40 companies, new positions every frame) is fed to ``DashboardState``; we time
building the live view and encoding it (what the hub does once per frame for all tabs)
and note the message size. The real map page (served by the real app on 127.0.0.1, logged
in) then gets each message in a headless Chromium (Debian's ``/usr/bin/chromium``):
``JSON.parse`` and one full canvas draw, settled and half-way through the 0.7 s tween, are
timed in the page with ``performance.now()``. One table is printed; docs/benchmarks.md
quotes it.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np

from dashboard.app import DashboardConfig, create_app
from dashboard.serve import serving
from dashboard.state import DashboardState
from mingle_wire import Frame, FrameBadge, FrameCluster, dumps
from pipeline.roster import Attendee, Roster
from pipeline.venue import Floor, Gateway, Venue

PASSWORD = "bench-password"
W, H = 60.0, 40.0


def venue_and_roster(n: int) -> tuple[Venue, Roster]:
    gateways = tuple(
        Gateway(f"gw-{i:02d}", x, y)
        for i, (x, y) in enumerate((x, y) for x in range(5, 60, 10) for y in range(5, 40, 10))
    )
    venue = Venue("bench", "Benchmark hall", Floor(W, H), gateways)
    people = [Attendee(f"b-{i:04d}", f"Company {i % 40:02d}", f"Person {i}") for i in range(n)]
    return venue, Roster(people)


def frames(n: int, count: int, seed: int = 7) -> Iterator[Frame]:
    rng = np.random.default_rng(seed)
    sizes: list[int] = []
    while sum(sizes) < n:
        sizes.append(int(rng.integers(2, 7)))
    centres = rng.uniform((2, 2), (W - 2, H - 2), size=(len(sizes), 2))
    for k in range(count):
        centres = np.clip(centres + rng.normal(0, 0.3, centres.shape), 1, (W - 1, H - 1))
        badges: list[FrameBadge] = []
        clusters: list[FrameCluster] = []
        i = 0
        for g, size in enumerate(sizes):
            members = [f"b-{j:04d}" for j in range(i, min(i + size, n))]
            i += size
            xy = centres[g] + rng.normal(0, 0.6, (len(members), 2))
            badges += [FrameBadge(b, float(x), float(y), 1.5) for b, (x, y) in zip(members, xy, strict=True)]
            if len(members) >= 2:
                companies = [int(b[2:]) % 40 for b in members]
                top = max(set(companies), key=companies.count)
                clusters.append(
                    FrameCluster(
                        f"c-{g}",
                        tuple(members),
                        float(centres[g][0]),
                        float(centres[g][1]),
                        f"Company {top:02d}",
                        companies.count(top) / len(members),
                        1_764_140_000.0,
                    )
                )
        yield Frame("bench", 1_764_140_000.0 + k, tuple(badges), tuple(clusters))


def server_side(n: int, count: int) -> tuple[list[str], float, float]:
    venue, roster = venue_and_roster(n)
    state = DashboardState(venue, roster)
    messages: list[str] = []
    times: list[float] = []
    for f in frames(n, count):
        t0 = time.perf_counter()
        state.apply_frame(f, f.ts)
        data = dumps(state.live_view(f.ts))
        times.append((time.perf_counter() - t0) * 1000)
        messages.append(data.decode())
    return messages, statistics.median(times), statistics.mean(len(m) for m in messages) / 1000


class Served:
    """The real app on 127.0.0.1 (a free port), in a thread with its own loop."""

    def __init__(self, n: int) -> None:
        venue, roster = venue_and_roster(n)
        self.app = create_app(DashboardConfig(venue, roster, PASSWORD, b"k" * 32))
        self.port = 0
        self.ready = threading.Event()
        self.stop: asyncio.Event | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self.thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)
        self.thread.start()
        if not self.ready.wait(20):
            raise RuntimeError("the app did not start")

    async def _main(self) -> None:
        self.stop = asyncio.Event()
        self.loop = asyncio.get_running_loop()
        async with serving(self.app, "127.0.0.1", 0) as port:
            self.port = port
            self.ready.set()
            await self.stop.wait()

    def close(self) -> None:
        if self.loop is not None and self.stop is not None:
            self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)


def browser() -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,900"):
        opts.add_argument(arg)
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)


JS = """
const t0 = performance.now();
const m = JSON.parse(arguments[0]);
const parse = performance.now() - t0;
const settled = window.mingle.render(m.frame, false);
const tween = window.mingle.render(m.frame, true);
return [parse, settled, tween];
"""


def browser_side(driver: Any, n: int, messages: list[str]) -> tuple[float, float, float, float]:
    from selenium.webdriver.common.by import By

    served = Served(n)
    try:
        base = f"http://127.0.0.1:{served.port}"
        driver.get(base + "/login")
        driver.find_element(By.ID, "password").send_keys(PASSWORD)
        driver.find_element(By.ID, "login-button").click()
        deadline = time.monotonic() + 10
        loaded = "return !!(window.mingle && document.querySelector('#venue-name').textContent.includes('Benchmark'))"
        while not driver.execute_script(loaded):
            if time.monotonic() > deadline:
                raise RuntimeError("the map did not load")
            time.sleep(0.05)
        driver.execute_script(JS, messages[0])  # warm-up
        got = [driver.execute_script(JS, m) for m in messages[1:]]
    finally:
        served.close()
    parse = [g[0] for g in got]
    settled = [g[1] for g in got]
    tween = [g[2] for g in got]
    p95 = sorted(settled)[max(0, round(0.95 * len(settled)) - 1)]
    return statistics.median(parse), statistics.median(settled), p95, statistics.median(tween)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--badges", type=int, nargs="+", default=[500, 1000, 2000])
    ap.add_argument("--frames", type=int, default=30)
    args = ap.parse_args()
    driver = browser()
    rows = []
    try:
        for n in args.badges:
            messages, server_ms, kb = server_side(n, args.frames + 1)
            parse, draw, draw95, tween = browser_side(driver, n, messages)
            rows.append((n, server_ms, kb, parse, draw, draw95, tween))
    finally:
        driver.quit()
    print(
        "| badges | server: view + encode (ms, median) | message (kB) | browser: JSON.parse (ms) "
        "| draw, settled (ms, median / p95) | draw, mid-tween (ms, median) |"
    )
    print("|---|---|---|---|---|---|")
    for n, server_ms, kb, parse, draw, draw95, tween in rows:
        print(f"| {n:,} | {server_ms:.1f} | {kb:.0f} | {parse:.1f} | {draw:.1f} / {draw95:.1f} | {tween:.1f} |")


if __name__ == "__main__":
    main()
