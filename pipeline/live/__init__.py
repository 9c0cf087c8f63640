"""The live pipeline: the same ``step()`` as replay, behind a clock and an MQTT broker.

Modules, each owning one thing:

- :mod:`.broker` — broker address and credentials (``BrokerConfig``) and the paho-mqtt
  bridge into one asyncio loop (``MqttLink``: reconnect with backoff, resubscribe, LWT).
- :mod:`.inbox` — the bounded ingest queue (drop-oldest, drops counted).
- :mod:`.nudges` — nudge payloads and their plain-words text.
- :mod:`.stats` — the live statistics published on ``pipeline/status``.
- :mod:`.service` — ``LiveService``: inbox → ``step()`` → outbound messages (synchronous).
- :mod:`.runner` — tickers (wall clock, manual) and the async loop tying link and service.
- :mod:`.record`, :mod:`.demo`, :mod:`.cli` — ``mingle record``, ``mingle demo``, ``mingle pipeline``.
"""

from .broker import BrokerConfig, BrokerError, MqttLink
from .inbox import Inbox
from .runner import ManualTicker, Ticker, WallTicker, run_service
from .service import LiveService, Outbound

__all__ = [
    "BrokerConfig",
    "BrokerError",
    "Inbox",
    "LiveService",
    "ManualTicker",
    "MqttLink",
    "Outbound",
    "Ticker",
    "WallTicker",
    "run_service",
]
