"""Mingle badge firmware for an ESP32 running MicroPython with ``aioble``.

Wiring (change in CONFIG): vibration motor driver on GPIO 25, team-huddle button on
GPIO 0 (to ground, internal pull-up), battery divider (1:2) on ADC GPIO 35, status LED
on GPIO 2. Copy ``badgefmt.py``, ``main.py`` and a ``badge.json``
(``{"badge_number": 42}``) to the board with ``mpremote``.
"""

import json

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
            self.cfg["badge_number"], self.seq.value, self.cfg["measured_power_dbm"], self.battery, self.button.huddle
        )
        return badgefmt.advertising_data(self.cfg["company_id"], payload)

    async def advertise(self):
        bluetooth.BLE().config(txpower=self.cfg["tx_power_dbm"])
        while True:
            # connectable so the gateway can write the buzz characteristic; re-advertise after each
            # connection or when the payload changed (button, battery), bumping the sequence counter
            self.seq.bump()
            try:
                async with await aioble.advertise(
                    self.cfg["interval_ms"] * 1000, adv_data=self.adv_data(), connectable=True, timeout_ms=10_000
                ) as connection:
                    await connection.disconnected(timeout_ms=15_000)
            except asyncio.TimeoutError:
                pass

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
            if self.button.sample(self.key.value() == 0, asyncio.ticks_ms()):
                self.led.value(1 if self.button.huddle else 0)
            await asyncio.sleep_ms(_BUTTON_POLL_MS)

    async def watch_battery(self):
        while True:
            millivolts = self.adc.read_uv() * 2 // 1000  # 1:2 divider
            self.battery = badgefmt.battery_percent(millivolts)
            await asyncio.sleep(_BATTERY_EVERY_S)


async def main():
    badge = Badge(load_config())
    await asyncio.gather(badge.advertise(), badge.buzz(), badge.watch_button(), badge.watch_battery())


asyncio.run(main())
