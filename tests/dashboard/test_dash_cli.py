from __future__ import annotations

import csv
from pathlib import Path

import pytest

from dashboard.tokens import badge_token, load_secret
from mingle.cli import main


def test_tokens_creates_the_secret_once_and_exports_links(
    tmp_path: Path, roster_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    secret_file = tmp_path / "secret"
    out = tmp_path / "links"
    argv = ["tokens", "--roster", str(roster_file), "--secret-file", str(secret_file), "--out", str(out)]
    assert main([*argv, "--base-url", "https://venue.example/"]) == 0
    assert "created a new secret" in capsys.readouterr().out
    secret = load_secret(secret_file)
    with open(out / "tokens.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 6 and rows[0]["url"] == f"https://venue.example/me/{badge_token(secret, 'b-01')}"
    assert sorted(p.name for p in (out / "qr").iterdir())[:2] == ["b-01.png", "b-01.svg"]
    assert main(argv) == 0  # the second run reuses the secret: the same links
    assert "created" not in capsys.readouterr().out and load_secret(secret_file) == secret


def test_dashboard_refuses_to_start_without_a_password(
    tmp_path: Path,
    venue_file: Path,
    roster_file: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MINGLE_DASHBOARD_PASSWORD", raising=False)
    secret = tmp_path / "secret"
    secret.write_text("ab" * 32)
    argv = ["dashboard", "--venue", str(venue_file), "--roster", str(roster_file), "--secret-file", str(secret)]
    assert main(argv) == 2
    assert "MINGLE_DASHBOARD_PASSWORD" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # the password never travels on the command line
        main([*argv, "--password", "hunter22"])
