"""Organizer login: the password check, server-side sessions that expire, and a login rate limit.

Pure and synchronous (``now`` is an argument). The password comes from configuration
(an environment variable or a file, never the command line, where ``ps`` and shell history
would show it). A session is a random 256-bit id kept server-side with its expiry, so
logging out really ends it; the browser holds only the id, in an HttpOnly, SameSite=Strict
cookie.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from collections import OrderedDict
from collections.abc import Callable, Mapping
from pathlib import Path

__all__ = ["PASSWORD_ENV", "LoginLimiter", "Sessions", "check_password", "load_password"]

PASSWORD_ENV = "MINGLE_DASHBOARD_PASSWORD"
MIN_PASSWORD_CHARS = 8


def check_password(given: str, expected: str) -> bool:
    """Constant-time comparison (of digests, so the length of the password does not leak either)."""
    a = hashlib.sha256(given.encode("utf-8", "surrogatepass")).digest()
    b = hashlib.sha256(expected.encode("utf-8", "surrogatepass")).digest()
    return hmac.compare_digest(a, b)


def load_password(path: Path | None, environ: Mapping[str, str] | None = None) -> str:
    """The organizer password: from ``path`` (first line) if given, else ``$MINGLE_DASHBOARD_PASSWORD``."""
    env = os.environ if environ is None else environ
    if path is not None:
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except OSError as exc:
            raise ValueError(f"cannot read password file {path}: {exc}") from exc
        word = lines[0].strip() if lines else ""
        where = f"password file {path}"
    else:
        word = env.get(PASSWORD_ENV, "")
        where = f"${PASSWORD_ENV}"
        if not word:
            raise ValueError(f"no organizer password: set ${PASSWORD_ENV} or give --password-file FILE")
    if len(word) < MIN_PASSWORD_CHARS:
        raise ValueError(f"{where}: the organizer password needs at least {MIN_PASSWORD_CHARS} characters")
    return word


class Sessions:
    """Logged-in organizer sessions: id → expiry (Unix s), at most ``max_sessions`` (oldest dropped)."""

    def __init__(
        self,
        *,
        ttl_s: float = 8 * 3600.0,
        max_sessions: int = 1000,
        new_id: Callable[[], str] = lambda: secrets.token_urlsafe(32),
    ) -> None:
        if not ttl_s > 0 or max_sessions < 1:
            raise ValueError(f"ttl_s must be > 0 and max_sessions >= 1, got {ttl_s!r}, {max_sessions!r}")
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self._new_id = new_id
        self._expiry: OrderedDict[str, float] = OrderedDict()

    def create(self, now: float) -> str:
        sid = self._new_id()
        self._expiry[sid] = now + self.ttl_s
        while len(self._expiry) > self.max_sessions:
            self._expiry.popitem(last=False)
        return sid

    def valid(self, sid: str | None, now: float) -> bool:
        """True while the session exists and has not expired (the expiry instant is already expired)."""
        if not sid:
            return False
        expiry = self._expiry.get(sid)
        if expiry is None:
            return False
        if now >= expiry:
            del self._expiry[sid]
            return False
        return True

    def revoke(self, sid: str | None) -> None:
        if sid:
            self._expiry.pop(sid, None)

    def __len__(self) -> int:
        return len(self._expiry)


class LoginLimiter:
    """At most ``max_failures`` failed logins per client in ``window_s``; then refuse until they age out.

    Tracks at most ``max_clients`` clients (the oldest forgotten first), so a spray of
    addresses cannot grow memory.
    """

    def __init__(self, *, max_failures: int = 5, window_s: float = 300.0, max_clients: int = 10_000) -> None:
        if max_failures < 1 or not window_s > 0 or max_clients < 1:
            raise ValueError("max_failures and max_clients must be >= 1 and window_s > 0")
        self.max_failures = max_failures
        self.window_s = window_s
        self.max_clients = max_clients
        self._failures: OrderedDict[str, list[float]] = OrderedDict()
        self.refused = 0

    def _recent(self, client: str, now: float) -> list[float]:
        times = [t for t in self._failures.get(client, ()) if now - t < self.window_s]
        if times:
            self._failures[client] = times
        else:
            self._failures.pop(client, None)
        return times

    def allowed(self, client: str, now: float) -> bool:
        ok = len(self._recent(client, now)) < self.max_failures
        if not ok:
            self.refused += 1
        return ok

    def failed(self, client: str, now: float) -> None:
        times = self._recent(client, now)
        times.append(now)
        self._failures[client] = times
        self._failures.move_to_end(client)
        while len(self._failures) > self.max_clients:
            self._failures.popitem(last=False)

    def succeeded(self, client: str) -> None:
        self._failures.pop(client, None)
