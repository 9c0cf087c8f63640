"""A private Mosquitto for the benchmarks: a free port on 127.0.0.1, anonymous, unlimited queues."""

from __future__ import annotations

import getpass
import socket
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["private_broker"]


def private_broker() -> tuple[subprocess.Popen[bytes], int]:
    """A Mosquitto with unlimited per-client queues, so a slow consumer is measured, not dropped."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    conf = Path(tempfile.mkdtemp()) / "mosquitto.conf"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 0\nuser {getpass.getuser()}\n",
        encoding="utf-8",
    )
    proc = subprocess.Popen(["mosquitto", "-c", str(conf)], stderr=subprocess.DEVNULL)
    time.sleep(0.5)
    return proc, port
