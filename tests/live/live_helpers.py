"""Helpers for the live tests: a private Mosquitto (plain or TLS), a collecting subscriber, a test PKI."""

from __future__ import annotations

import asyncio
import getpass
import socket
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PrivateBroker:
    """A Mosquitto on 127.0.0.1:``port`` with a config in ``directory``; start/stop at will."""

    def __init__(
        self,
        directory: Path,
        *,
        port: int | None = None,
        passwords: dict[str, str] | None = None,
        tls: tuple[Path, Path, Path] | None = None,
    ) -> None:
        """``tls`` is (CA, certificate, key) files: the listener then speaks TLS only."""
        self.port = port or free_port()
        self.directory = directory
        # As root, mosquitto would drop to user "mosquitto", who cannot read pytest's 0700 tmp dirs.
        lines = [f"listener {self.port} 127.0.0.1", "persistence false", f"user {getpass.getuser()}"]
        if tls is not None:
            ca, cert, key = tls
            lines += [f"cafile {ca}", f"certfile {cert}", f"keyfile {key}"]
        if passwords:
            pwfile = directory / "passwd"
            for k, (user, word) in enumerate(passwords.items()):
                flags = ["-b", "-c"] if k == 0 else ["-b"]
                subprocess.run(["mosquitto_passwd", *flags, str(pwfile), user, word], check=True)
            lines += ["allow_anonymous false", f"password_file {pwfile}"]
        else:
            lines.append("allow_anonymous true")
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["mosquitto", "-c", str(self.conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not start on port {self.port}")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(5)
            self.proc = None


class Collector:
    """A paho client in its own thread that keeps every message on ``topics`` (a test tool)."""

    def __init__(
        self,
        port: int,
        topics: list[str],
        *,
        username: str | None = None,
        password: str | None = None,
        tls_ca: Path | None = None,
    ):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.ready = threading.Event()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        if username is not None:
            self.client.username_pw_set(username, password)
        if tls_ca is not None:
            self.client.tls_set(ca_certs=str(tls_ca))
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe([(t, 1) for t in topics])
        self.client.on_subscribe = lambda c, u, mid, codes, p: self.ready.set()
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        if not self.ready.wait(5):
            raise RuntimeError("collector did not subscribe")

    def _on_message(self, c: mqtt.Client, u: object, msg: mqtt.MQTTMessage) -> None:
        with self.lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))

    def on(self, suffix: str) -> list[bytes]:
        with self.lock:
            return [p for t, p, _ in self.messages if t.endswith(suffix)]

    def on_prefix(self, prefix: str) -> list[bytes]:
        with self.lock:
            return [p for t, p, _ in self.messages if t.startswith(prefix)]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publisher(port: int, *, tls_ca: Path | None = None) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    if tls_ca is not None:
        client.tls_set(ca_certs=str(tls_ca))
    client.connect("127.0.0.1", port)
    client.loop_start()
    return client


async def until(cond: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")
        await asyncio.sleep(0.005)


@dataclass(frozen=True)
class Pki:
    """Throwaway PEM files: a CA, a server certificate it signed, and an unrelated CA."""

    ca: Path
    server_cert: Path
    server_key: Path
    other_ca: Path

    @property
    def server(self) -> tuple[Path, Path, Path]:
        return self.ca, self.server_cert, self.server_key


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True)


def _ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.pem"
    _openssl(
        "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", cert, "-days", "2", "-subj", f"/CN=Mingle test {name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    return cert, key


def make_pki(directory: Path) -> Pki:
    """A CA and a server certificate for 127.0.0.1 and localhost (elliptic-curve keys: fast)."""
    ca, ca_key = _ca(directory, "ca")
    other_ca, _ = _ca(directory, "other-ca")
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.pem"
    ext = directory / "server.ext"
    ext.write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
        "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n"
        "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n",
        encoding="utf-8",
    )
    _openssl(
        "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=localhost",
    )  # fmt: skip
    _openssl(
        "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-out", cert, "-days", "2", "-extfile", ext,
    )  # fmt: skip
    return Pki(ca, cert, key, other_ca)
