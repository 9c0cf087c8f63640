from __future__ import annotations

from pathlib import Path

import pytest

from dashboard.auth import LoginLimiter, Sessions, check_password, load_password


def test_password_check() -> None:
    assert check_password("correct horse", "correct horse")
    assert not check_password("correct hors", "correct horse")
    assert not check_password("", "correct horse")


def test_password_from_file_first_then_env(tmp_path: Path) -> None:
    f = tmp_path / "pw"
    f.write_text("from-the-file\nignored\n")
    assert load_password(f, {"MINGLE_DASHBOARD_PASSWORD": "from-the-env"}) == "from-the-file"
    assert load_password(None, {"MINGLE_DASHBOARD_PASSWORD": "from-the-env"}) == "from-the-env"
    with pytest.raises(ValueError, match="MINGLE_DASHBOARD_PASSWORD"):
        load_password(None, {})
    with pytest.raises(ValueError, match="at least 8"):
        load_password(None, {"MINGLE_DASHBOARD_PASSWORD": "short"})


def test_sessions_expire_at_ttl_and_can_be_revoked() -> None:
    ids = iter(["s1", "s2"])
    s = Sessions(ttl_s=100.0, new_id=lambda: next(ids))
    a = s.create(now=1000.0)
    assert s.valid(a, 1099.9)
    assert not s.valid(a, 1100.0)  # the expiry instant is already expired
    b = s.create(now=1000.0)
    s.revoke(b)
    assert not s.valid(b, 1000.0)
    assert not s.valid(None, 1000.0) and not s.valid("nope", 1000.0)


def test_sessions_are_bounded_oldest_first() -> None:
    s = Sessions(ttl_s=100.0, max_sessions=2)
    first = s.create(0.0)
    s.create(0.0)
    s.create(0.0)
    assert len(s) == 2 and not s.valid(first, 1.0)


def test_login_limiter_blocks_after_max_failures_within_window() -> None:
    lim = LoginLimiter(max_failures=3, window_s=60.0)
    for t in (0.0, 1.0, 2.0):
        assert lim.allowed("1.2.3.4", t)
        lim.failed("1.2.3.4", t)
    assert not lim.allowed("1.2.3.4", 3.0)
    assert lim.allowed("5.6.7.8", 3.0)  # per client
    assert lim.allowed("1.2.3.4", 60.0)  # the first failure aged out (window exclusive)
    lim.succeeded("1.2.3.4")
    assert lim.allowed("1.2.3.4", 3.0) and lim.refused == 1


def test_login_limiter_forgets_oldest_clients_beyond_its_bound() -> None:
    lim = LoginLimiter(max_failures=1, window_s=60.0, max_clients=2)
    for c in ("a", "b", "c"):
        lim.failed(c, 0.0)
    assert lim.allowed("a", 1.0) and not lim.allowed("c", 1.0)
