"""Pure parts of the Mingle badge firmware: runs on MicroPython and on CPython.

Encodes the advertisement of ``hardware/badge/FORMAT.md`` (checked byte for byte against
``test_vectors.json`` by ``tests/edge/test_edge_firmware.py``), keeps the neighbour table
of a report period, debounces the team-huddle button, turns battery millivolts into
percent and validates buzz patterns. No machine,
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
MAX_NEIGHBOURS = 4  # 11 + 3 * 4 = 23 payload bytes: the advertisement is then 30 of 31 bytes
NEIGHBOUR_RSSI_MIN_DBM = -120
NEIGHBOUR_RSSI_MAX_DBM = 10
BUZZ_SERVICE_UUID = "6d696e67-6c65-4000-8000-00805f9b34fb"
BUZZ_CHAR_UUID = "6d696e67-6c65-4001-8000-00805f9b34fb"
TICKS_PERIOD = 1 << 30  # MicroPython's ticks_ms() wraps here on 32-bit ports (ESP32)
_AD_FLAGS = b"\x02\x01\x06"  # LE general discoverable, BR/EDR not supported


def encode_payload(badge_number, seq, tx_dbm, battery_pct, huddle, near=()):
    """The manufacturer payload (after the company id): 11 bytes + 3 per neighbour.

    ``battery_pct`` None = unknown. ``near``: up to four ``(badge_number, rssi_dbm)`` of other
    badges; they are written strongest first (ties by number), as the format requires.
    """
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
    head = struct.pack("<BBHIbBB", MAGIC, VERSION, badge_number, seq % SEQ_MOD, tx_dbm, battery, flags)
    return head + encode_neighbours(badge_number, near)


def encode_neighbours(badge_number, near):
    """The neighbour entries (uint16 LE number, int8 RSSI dBm), strongest first; ValueError if invalid."""
    if len(near) > MAX_NEIGHBOURS:
        raise ValueError(f"at most {MAX_NEIGHBOURS} neighbours, got {len(near)}")
    seen = set()
    for number, rssi_dbm in near:
        if not 0 <= number <= MAX_BADGE_NUMBER:
            raise ValueError(f"neighbour number out of range: {number}")
        if not NEIGHBOUR_RSSI_MIN_DBM <= rssi_dbm <= NEIGHBOUR_RSSI_MAX_DBM:
            raise ValueError(f"neighbour RSSI out of range: {rssi_dbm} dBm")
        if number == badge_number:
            raise ValueError(f"badge {number} cannot be its own neighbour")
        if number in seen:
            raise ValueError(f"neighbour {number} named twice")
        seen.add(number)
    out = b""
    for number, rssi_dbm in sorted(near, key=_strongest_first):
        out += struct.pack("<Hb", number, rssi_dbm)
    return out


def _strongest_first(entry):
    return (-entry[1], entry[0])


def badge_number_of(payload):
    """The badge number of another badge's manufacturer payload, or None when it is not one.

    Lenient on purpose (the scanning badge only needs to know who it heard): a version-1
    payload of 11 + 3·k bytes (k ≤ 4) with our magic and a number in 0 … 9999.
    """
    extra = len(payload) - 11
    if extra < 0 or extra % 3 or extra > 3 * MAX_NEIGHBOURS or payload[0] != MAGIC or payload[1] != VERSION:
        return None
    number = payload[2] | payload[3] << 8
    return number if number <= MAX_BADGE_NUMBER else None


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


class NeighbourTable:
    """The other badges heard in one report period, each at its strongest RSSI.

    Feed every Mingle advertisement the badge's scanner hears to ``heard(number, rssi_dbm,
    now_ms)``; at the end of the period ``report(now_ms)`` returns the up-to-four strongest
    as ``[(number, rssi_dbm), ...]`` (strongest first, ties by number) and starts a new,
    empty period. ``due(now_ms)`` says when ``period_ms`` has passed since the period began
    (``now_ms`` is MicroPython's ``time.ticks_ms()``; differences are taken modulo its wrap).
    Ignored: the badge's own number, numbers outside 0 … 9999 (not a Mingle badge number)
    and RSSI outside [−120, 10] dBm (−127 is "no RSSI"). Memory is bounded: at most
    ``capacity`` badges per period; when full, a new badge displaces the weakest one only
    if it is stronger.
    """

    def __init__(self, own_number, period_ms=4000, capacity=32, start_ms=0):
        if capacity < MAX_NEIGHBOURS:
            raise ValueError(f"capacity must be at least {MAX_NEIGHBOURS}, got {capacity}")
        self.own_number = own_number
        self.period_ms = period_ms
        self.capacity = capacity
        self.started_ms = start_ms
        self._best = {}

    def heard(self, number, rssi_dbm, now_ms):
        """Note one advertisement of badge ``number`` at ``rssi_dbm``; True when it was kept."""
        if number == self.own_number or not 0 <= number <= MAX_BADGE_NUMBER:
            return False
        if not NEIGHBOUR_RSSI_MIN_DBM <= rssi_dbm <= NEIGHBOUR_RSSI_MAX_DBM:
            return False
        best = self._best
        if number in best:
            if rssi_dbm > best[number]:
                best[number] = rssi_dbm
            return True
        if len(best) >= self.capacity:
            weakest = min(best, key=best.get)
            if rssi_dbm <= best[weakest]:
                return False
            del best[weakest]
        best[number] = rssi_dbm
        return True

    def due(self, now_ms):
        """True once ``period_ms`` (inclusive) has passed since this period began."""
        return (now_ms - self.started_ms) % TICKS_PERIOD >= self.period_ms

    def report(self, now_ms):
        """The up-to-four strongest of this period, strongest first; then a new period begins."""
        entries = sorted(self._best.items(), key=_strongest_first)[:MAX_NEIGHBOURS]
        self._best = {}
        self.started_ms = now_ms
        return entries


class HuddleButton:
    """Debounced toggle of the team-huddle flag. Feed ``sample(pressed, now_ms)``.

    A press counts once the button has read pressed for ``debounce_ms`` (inclusive); it
    toggles the flag once per press, never while held. ``now_ms`` is MicroPython's
    ``time.ticks_ms()``: the held time is taken modulo its wrap, so a press across the wrap
    (every ~12 days of uptime) counts like any other.
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
        if not self._latched and (now_ms - self._down_since) % TICKS_PERIOD >= self.debounce_ms:
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
