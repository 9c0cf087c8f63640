"""Attendee links: a per-badge secret token, ``/me/<token>``, and ``mingle tokens``' files.

A token is HMAC-SHA256 of the badge id under a server secret, truncated to 128 bits and
base64url-encoded (22 characters): unguessable without the secret, stable across restarts
(so printed badges keep working), and revocable all at once by changing the secret.
:class:`TokenBook` maps tokens back to badges for one roster.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import os
import secrets
from collections.abc import Iterable
from pathlib import Path

__all__ = ["MIN_SECRET_BYTES", "TokenBook", "badge_token", "load_secret", "new_secret_file", "write_tokens"]

#: A secret shorter than this is refused (the HMAC would be weaker than the token).
MIN_SECRET_BYTES = 16
TOKEN_BYTES = 16


def badge_token(secret: bytes, badge: str) -> str:
    """The attendee link token of ``badge``: base64url(HMAC-SHA256(secret, badge)[:16]), no padding."""
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"secret must be at least {MIN_SECRET_BYTES} bytes, got {len(secret)}")
    digest = hmac.new(secret, badge.encode("utf-8"), hashlib.sha256).digest()[:TOKEN_BYTES]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


class TokenBook:
    """Token → badge for the given badges. Unknown tokens and known ones take the same path."""

    def __init__(self, secret: bytes, badges: Iterable[str]) -> None:
        self._secret = secret
        self._badge_of = {badge_token(secret, b): b for b in badges}
        self._decoy = badge_token(secret, "\x00decoy")

    def __len__(self) -> int:
        return len(self._badge_of)

    def token(self, badge: str) -> str:
        return badge_token(self._secret, badge)

    def badge_for(self, token: str) -> str | None:
        """The badge whose token this is, or ``None``; no exception for any input."""
        badge = self._badge_of.get(token) if isinstance(token, str) and len(token) <= 64 else None
        expected = self._decoy if badge is None else badge_token(self._secret, badge)
        # Dict lookup found the candidate; the constant-time compare runs on both paths alike.
        ok = hmac.compare_digest(expected.encode(), (token if isinstance(token, str) else "").encode()[:64])
        return badge if ok and badge is not None else None


def load_secret(path: Path) -> bytes:
    """Read a secret file (hex, or any text of at least 16 bytes); surrounding whitespace ignored."""
    try:
        raw = path.read_bytes().strip()
    except OSError as exc:
        raise ValueError(f"cannot read secret file {path}: {exc}") from exc
    try:
        secret = bytes.fromhex(raw.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        secret = raw
    if len(secret) < MIN_SECRET_BYTES:
        raise ValueError(f"secret file {path}: needs at least {MIN_SECRET_BYTES} bytes of secret, got {len(secret)}")
    return secret


def new_secret_file(path: Path) -> bytes:
    """Create ``path`` (mode 0600) holding 32 random bytes as hex; refuses to overwrite."""
    secret = secrets.token_bytes(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(secret.hex() + "\n")
    return secret


def write_tokens(rows: Iterable[tuple[str, str, str]], secret: bytes, out: Path, base_url: str) -> int:
    """Write ``tokens.csv`` (badge, name, company, token, url) and ``qr/<badge>.svg`` + ``.png`` under ``out``.

    ``rows`` are (badge, name, company). Returns how many badges were written. The QR codes
    (segno: pure Python, no Pillow) encode the full link, error correction level M, so a
    scuffed printed badge still scans.
    """
    import segno

    base = base_url.rstrip("/")
    qr_dir = out / "qr"
    # Every attendee's name and link: for the organizer's eyes only, like the secret (0600; the
    # QR codes in a 0700 directory of their own; a directory the organizer named keeps its mode).
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    qr_dir.mkdir(mode=0o700, exist_ok=True)
    qr_dir.chmod(0o700)
    n = 0
    fd = os.open(out / "tokens.csv", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.chmod(out / "tokens.csv", 0o600)  # (an older file keeps its mode through O_TRUNC)
    with open(fd, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["badge", "name", "company", "token", "url"])
        for badge, name, company in rows:
            token = badge_token(secret, badge)
            url = f"{base}/me/{token}"
            w.writerow([badge, name, company, token, url])
            qr = segno.make(url, error="m")
            qr.save(str(qr_dir / f"{badge}.svg"), scale=4, border=2)
            qr.save(str(qr_dir / f"{badge}.png"), scale=6, border=2)
            n += 1
    return n
