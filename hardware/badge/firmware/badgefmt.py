"""Pure parts of the Mingle badge firmware: runs on MicroPython and on CPython.

Encodes the advertisement of ``hardware/badge/FORMAT.md`` (checked byte for byte against
``test_vectors.json`` by ``tests/edge/test_edge_firmware.py``), debounces the team-huddle
button, turns battery millivolts into percent and validates buzz patterns. No machine,
bluetooth or asyncio imports here: ``main.py`` owns the hardware.
"""

try:
    import struct
except ImportError:  # very old MicroPython ports
    import ustruct as struct  # type: ignore[no-redef]

MAGIC = 0x4D
VERSION = 1
TEST_COMPANY_ID = 0xFFFF
MAX_BADGE_NUMBER = 9999
BATTERY_UNKNOWN = 0xFF
FLAG_HUDDLE = 0x01
SEQ_MOD = 1 << 32
BUZZ_SERVICE_UUID = "6d696e67-6c65-4000-8000-00805f9b34fb"
BUZZ_CHAR_UUID = "6d696e67-6c65-4001-8000-00805f9b34fb"
_AD_FLAGS = b"\x02\x01\x06"  # LE general discoverable, BR/EDR not supported


def encode_payload(badge_number, seq, tx_dbm, battery_pct, huddle):
    """The 11-byte manufacturer payload (after the company id). ``battery_pct`` None = unknown."""
    if not 0 <= badge_number <= MAX_BADGE_NUMBER:
        raise ValueError(f"badge number out of range: {badge_number}")
    if not -100 <= tx_dbm <= 20:
        raise ValueError(f"measured power out of range: {tx_dbm} dBm")
    if battery_pct is None:
        battery = BATTERY_UNKNOWN
    elif 0 <= battery_pct <= 100:
        battery = battery_pct
    else:
        raise ValueError(f"battery out of range: {battery_pct} %")
    flags = FLAG_HUDDLE if huddle else 0
    return struct.pack("<BBHIbBB", MAGIC, VERSION, badge_number, seq % SEQ_MOD, tx_dbm, battery, flags)


def advertising_data(company_id, payload):
    """The full advertising data: flags AD + manufacturer-specific AD (len, 0xFF, company LE, payload)."""
    body = struct.pack("<BH", 0xFF, company_id) + payload
    return _AD_FLAGS + bytes([len(body)]) + body


class Sequence:
    """The advertisement counter: bumped whenever the advertised payload changes, wraps at 2**32."""

    def __init__(self, start=0):
        self.value = start % SEQ_MOD

    def bump(self):
        self.value = (self.value + 1) % SEQ_MOD
        return self.value


class HuddleButton:
    """Debounced toggle of the team-huddle flag. Feed ``sample(pressed, now_ms)``.

    A press counts once the button has read pressed for ``debounce_ms`` (inclusive); it
    toggles the flag once per press, never while held.
    """

    def __init__(self, debounce_ms=50, huddle=False):
        self.debounce_ms = debounce_ms
        self.huddle = huddle
        self._down_since = None
        self._latched = False

    def sample(self, pressed, now_ms):
        """Return True when this sample toggled the flag."""
        if not pressed:
            self._down_since = None
            self._latched = False
            return False
        if self._down_since is None:
            self._down_since = now_ms
        if not self._latched and now_ms - self._down_since >= self.debounce_ms:
            self._latched = True
            self.huddle = not self.huddle
            return True
        return False


def battery_percent(millivolts, empty_mv=3300, full_mv=4150):
    """Li-ion cell voltage to a rough percent, clamped to [0, 100]; None when unreadable."""
    if millivolts is None or millivolts <= 0:
        return None
    pct = (millivolts - empty_mv) * 100 // (full_mv - empty_mv)
    return max(0, min(100, pct))


def parse_buzz(data):
    """Pulse durations in ms from a buzz write (1–8 bytes, 10 ms units); ValueError otherwise."""
    data = bytes(data)
    if not 1 <= len(data) <= 8 or 0 in data:
        raise ValueError("buzz pattern must be 1-8 non-zero bytes")
    return [b * 10 for b in data]
