"""Mingle badge firmware for an ESP32 running MicroPython with ``aioble``.

Wiring (change in CONFIG): vibration motor driver on GPIO 25, team-huddle button on
GPIO 0 (to ground, internal pull-up), battery divider (1:2) on ADC GPIO 35, status LED
on GPIO 2. Copy ``badgefmt.py``, ``main.py`` and a ``badge.json``
(``{"badge_number": 42}``) to the board with ``mpremote``.

With ``scan`` on (the default) the badge also listens for other Mingle badges, passively,
``scan_window_ms`` out of every ``scan_every_ms``, and advertises the strongest four it
heard in each ``report_period_ms`` (the neighbour report of ``hardware/badge/FORMAT.md``).
Scanning costs most of the battery: ``{"scan": false}`` in ``badge.json`` turns it off.
"""

import json
import time

import aioble
import badgefmt
import bluetooth
import machine
import uasyncio as asyncio
from micropython import const

CONFIG = {
    "badge_number": 0,
    "company_id": badgefmt.TEST_COMPANY_ID,
    "interval_ms": 1000,  # 1 Hz: ~1,000 badges share the air (see DOMAIN.md); 10 Hz only for a few hundred
    "tx_power_dbm": 0,
    "measured_power_dbm": -59,  # RSSI at 1 m; set by the calibration walk (hardware/README.md)
    "motor_pin": 25,
    "button_pin": 0,
    "battery_adc_pin": 35,
    "led_pin": 2,
    "scan": True,  # neighbour reports; see FORMAT.md for the battery cost
    "scan_window_ms": 300,  # passive scan window ...
    "scan_every_ms": 1000,  # ... every second: a 30 % duty cycle
    "report_period_ms": 4000,  # one neighbour report (and a new sequence number) per period
}
_BUTTON_POLL_MS = const(10)
_BATTERY_EVERY_S = const(60)


def load_config():
    try:
        with open("badge.json") as fh:
            CONFIG.update(json.load(fh))
    except OSError:
        pass
    return CONFIG


class Badge:
    def __init__(self, cfg):
        self.cfg = cfg
        self.seq = badgefmt.Sequence()
        self.button = badgefmt.HuddleButton()
        self.battery = None
        self.scanning = bool(cfg["scan"])
        if self.scanning and not 0 < cfg["scan_window_ms"] <= cfg["scan_every_ms"]:
            raise ValueError("scan_window_ms must be within (0, scan_every_ms]")
        self.table = badgefmt.NeighbourTable(
            cfg["badge_number"], period_ms=cfg["report_period_ms"], start_ms=time.ticks_ms()
        )
        self.near = []  # the neighbour report being advertised: [(badge_number, rssi_dbm), ...]
        self.motor = machine.Pin(cfg["motor_pin"], machine.Pin.OUT, value=0)
        self.led = machine.Pin(cfg["led_pin"], machine.Pin.OUT, value=0)
        self.key = machine.Pin(cfg["button_pin"], machine.Pin.IN, machine.Pin.PULL_UP)
        self.adc = machine.ADC(machine.Pin(cfg["battery_adc_pin"]))
        self.adc.atten(machine.ADC.ATTN_11DB)
        self.changed = asyncio.Event()
        service = aioble.Service(bluetooth.UUID(badgefmt.BUZZ_SERVICE_UUID))
        self.buzz_char = aioble.Characteristic(
            service, bluetooth.UUID(badgefmt.BUZZ_CHAR_UUID), write=True, capture=True
        )
        aioble.register_services(service)

    def adv_data(self):
        payload = badgefmt.encode_payload(
            self.cfg["badge_number"],
            self.seq.value,
            self.cfg["measured_power_dbm"],
            self.battery,
            self.button.huddle,
            self.near,
        )
        return badgefmt.advertising_data(self.cfg["company_id"], payload)

    async def advertise(self):
        bluetooth.BLE().config(txpower=self.cfg["tx_power_dbm"])
        refresh_ms = self.cfg["report_period_ms"] if self.scanning else 10_000
        period_over = True
        while True:
            # connectable so the gateway can write the buzz characteristic; re-advertise after each
            # connection, every refresh (with the new neighbour report when scanning) and so when the
            # payload changed (button, battery), bumping the sequence counter: (badge, seq) is one report
            now = time.ticks_ms()
            if self.scanning and (period_over or self.table.due(now)):
                self.near = self.table.report(now)
            self.seq.bump()
            period_over = False
            try:
                async with await aioble.advertise(
                    self.cfg["interval_ms"] * 1000, adv_data=self.adv_data(), connectable=True, timeout_ms=refresh_ms
                ) as connection:
                    await connection.disconnected(timeout_ms=15_000)
            except asyncio.TimeoutError:
                period_over = True

    async def scan(self):
        window_ms = self.cfg["scan_window_ms"]
        company_id = self.cfg["company_id"]
        while True:
            # a fresh, passive scan of window_ms (interval = window: continuous while it lasts), then
            # idle: aioble remembers every device of one scan, so short scans keep that small
            async with aioble.scan(
                window_ms, interval_us=window_ms * 1000, window_us=window_ms * 1000, active=False
            ) as scanner:
                async for result in scanner:
                    for _company, data in result.manufacturer(company_id):
                        number = badgefmt.badge_number_of(data)
                        if number is not None:
                            self.table.heard(number, result.rssi, time.ticks_ms())
            await asyncio.sleep_ms(self.cfg["scan_every_ms"] - window_ms)

    async def buzz(self):
        while True:
            _conn, data = await self.buzz_char.written()
            try:
                pulses = badgefmt.parse_buzz(data)
            except ValueError:
                continue
            for ms in pulses:
                self.motor.value(1)
                await asyncio.sleep_ms(ms)
                self.motor.value(0)
                await asyncio.sleep_ms(100)

    async def watch_button(self):
        while True:
            if self.button.sample(self.key.value() == 0, time.ticks_ms()):
                self.led.value(1 if self.button.huddle else 0)
            await asyncio.sleep_ms(_BUTTON_POLL_MS)

    async def watch_battery(self):
        while True:
            millivolts = self.adc.read_uv() * 2 // 1000  # 1:2 divider
            self.battery = badgefmt.battery_percent(millivolts)
            await asyncio.sleep(_BATTERY_EVERY_S)


async def main():
    badge = Badge(load_config())
    tasks = [badge.advertise(), badge.buzz(), badge.watch_button(), badge.watch_battery()]
    if badge.scanning:
        tasks.append(badge.scan())
    await asyncio.gather(*tasks)


asyncio.run(main())
