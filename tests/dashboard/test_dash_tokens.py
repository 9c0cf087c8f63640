from __future__ import annotations

import csv
import stat
from pathlib import Path

import pytest

from dashboard.tokens import TokenBook, badge_token, load_secret, new_secret_file, write_tokens

SECRET = b"0123456789abcdef0123456789abcdef"


def test_token_is_128_bit_urlsafe_and_depends_on_secret_and_badge() -> None:
    t = badge_token(SECRET, "b-01")
    assert len(t) == 22 and all(c.isalnum() or c in "-_" for c in t)
    assert t == badge_token(SECRET, "b-01")
    assert t != badge_token(SECRET, "b-02")
    assert t != badge_token(SECRET[::-1], "b-01")


def test_short_secret_is_refused() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes"):
        badge_token(b"short", "b-01")


def test_book_maps_tokens_back_and_rejects_everything_else() -> None:
    book = TokenBook(SECRET, ["b-01", "b-02"])
    assert book.badge_for(book.token("b-01")) == "b-01"
    assert book.badge_for(book.token("b-02")) == "b-02"
    assert book.badge_for(badge_token(SECRET, "b-99")) is None  # valid HMAC, badge not on the roster
    for bad in ["", "x", book.token("b-01")[:-1], book.token("b-01") + "A", "é" * 30, "A" * 10_000]:
        assert book.badge_for(bad) is None


def test_secret_files_round_trip_and_are_private(tmp_path: Path) -> None:
    path = tmp_path / "secret"
    secret = new_secret_file(path)
    assert load_secret(path) == secret and len(secret) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with pytest.raises(FileExistsError):
        new_secret_file(path)
    (tmp_path / "weak").write_text("abc\n")
    with pytest.raises(ValueError, match="at least 16 bytes"):
        load_secret(tmp_path / "weak")
    with pytest.raises(ValueError, match="cannot read"):
        load_secret(tmp_path / "missing")


def test_write_tokens_writes_csv_and_a_scannable_qr_per_badge(tmp_path: Path) -> None:
    rows = [("b-01", "Ann", "Acme"), ("b-02", "Bob", "Acme")]
    assert write_tokens(rows, SECRET, tmp_path, "http://mingle.local:8000/") == 2
    with open(tmp_path / "tokens.csv", newline="", encoding="utf-8") as fh:
        got = list(csv.DictReader(fh))
    assert [r["badge"] for r in got] == ["b-01", "b-02"]
    assert got[0]["url"] == f"http://mingle.local:8000/me/{badge_token(SECRET, 'b-01')}"
    svg = (tmp_path / "qr" / "b-01.svg").read_text(encoding="utf-8")
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    assert (tmp_path / "qr" / "b-02.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # Names and links are for the organizer's eyes only.
    assert (tmp_path / "tokens.csv").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "qr").stat().st_mode & 0o777 == 0o700
