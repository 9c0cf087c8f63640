"""The app in process: pages, API, WebSocket, login/logout, attendee pages (no broker: the hub is fed directly)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dash_helpers import HUDDLE_SPOTS, T0, alert, frame, venue_and_roster
from starlette.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from dashboard.app import Dashboard, DashboardConfig, create_app
from dashboard.tokens import badge_token
from mingle_wire import decode_pause, encode_alert, encode_frame, loads

SECRET = b"s" * 32
PASSWORD = "organizer-pass"


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def wall() -> Clock:
    return Clock(1_000_000.0)


@pytest.fixture
def client(venue_file: Path, roster_file: Path, wall: Clock) -> Iterator[TestClient]:
    venue, roster = venue_and_roster(venue_file, roster_file)
    config = DashboardConfig(venue, roster, PASSWORD, SECRET, session_ttl_s=3600.0, refresh_s=60.0)
    app = create_app(config, clock=Clock(T0 + 130), wall=wall)
    with TestClient(app) as c:
        yield c


def dash(client: TestClient) -> Dashboard:
    d = client.app.state.dashboard  # type: ignore[attr-defined]
    assert isinstance(d, Dashboard)
    return d


def feed(client: TestClient, topic: str, payload: bytes) -> None:
    """Queue a message and drain it on the app's own event loop (as the MQTT bridge would)."""
    d = dash(client)

    def on_loop() -> None:
        d.hub.receive(topic, payload)
        d.hub.drain(d.clock())

    assert client.portal is not None
    client.portal.call(on_loop)


def receive_until(ws: Any, ok: Callable[[dict[str, Any]], bool], most: int = 5) -> dict[str, Any]:
    """The first view within ``most`` messages that satisfies ``ok`` (a refresh may repeat a view)."""
    for _ in range(most):
        view: dict[str, Any] = json.loads(ws.receive_text())
        if ok(view):
            return view
    raise AssertionError(f"no matching view in {most} messages")


def login(client: TestClient, password: str = PASSWORD) -> int:
    return client.post("/login", data={"password": password}, follow_redirects=False).status_code


def test_without_login_nothing_but_the_login_page(client: TestClient) -> None:
    feed(client, dash(client).topics.frames, encode_frame(frame(T0, HUDDLE_SPOTS)))
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    for path in ("/api/venue", "/api/state", "/api/history?at=0", "/api/floor-image"):
        r = client.get(path)
        assert r.status_code == 401, path
        assert "b-0" not in r.text and "Ann" not in r.text
    assert client.post("/api/alerts/a-1/ack").status_code == 401
    with pytest.raises(WebSocketDisconnect) as exc, client.websocket_connect("/ws"):
        pass
    assert exc.value.code == 4401
    page = client.get("/login")
    assert page.status_code == 200 and 'name="password"' in page.text and "Ann" not in page.text


def test_wrong_password_then_rate_limited(client: TestClient) -> None:
    for _ in range(5):
        assert login(client, "wrong-password") == 401
    assert login(client) == 429  # even the right one, until the failures age out


def test_posts_from_another_site_are_refused_and_count_for_nothing(client: TestClient) -> None:
    evil = {"origin": "https://evil.example"}
    for _ in range(6):  # five wrong passwords from another site's page would lock the organizer out
        r = client.post("/login", data={"password": "wrong-password"}, headers=evil, follow_redirects=False)
        assert r.status_code == 403
    assert login(client) == 303  # the organizer still logs in
    assert client.post("/logout", headers={"sec-fetch-site": "cross-site"}).status_code == 403
    assert client.get("/api/state").status_code == 200  # still logged in
    token = badge_token(SECRET, "b-01")
    assert client.post(f"/me/{token}/pause", headers=evil).status_code == 403
    assert client.post(f"/me/{token}/pause", headers={"sec-fetch-site": "same-site"}).status_code == 403
    # Our own pages' forms: a browser says same-origin (and, under no-referrer, Origin: null).
    ours = {"sec-fetch-site": "same-origin", "origin": "null"}
    assert client.post(f"/me/{token}/pause", headers=ours).status_code != 403


def test_a_login_form_too_large_or_with_too_many_fields_is_refused_unread(client: TestClient) -> None:
    big = client.post(
        "/login", content=b"password=" + b"x" * 10_000, headers={"content-type": "application/x-www-form-urlencoded"}
    )
    assert big.status_code == 413
    fields = "&".join(f"f{k}=1" for k in range(11))
    many = client.post("/login", content=fields.encode(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert many.status_code == 400 and "content-security-policy" in many.headers


def test_a_burst_of_logins_sent_at_once_is_limited_like_one_after_another(venue_file: Path, roster_file: Path) -> None:
    import asyncio

    import httpx2 as httpx  # (what starlette's TestClient uses)

    venue, roster = venue_and_roster(venue_file, roster_file)
    app = create_app(DashboardConfig(venue, roster, PASSWORD, SECRET), clock=Clock(T0), wall=Clock(1_000_000.0))

    async def burst() -> list[int]:
        from dashboard.serve import serving

        async with serving(app, "127.0.0.1", 0) as port, httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:

            async def slowly(guess: str) -> AsyncIterator[bytes]:  # headers first, the password a moment later
                await asyncio.sleep(0.3)
                yield f"password={guess}".encode()

            guesses = [f"guess-{k:02d}" for k in range(39)] + [PASSWORD]  # the 40th is right
            form = {"content-type": "application/x-www-form-urlencoded"}
            sent = [c.post("/login", content=slowly(g), headers=form, follow_redirects=False) for g in guesses]
            return [r.status_code for r in await asyncio.gather(*sent)]

    codes = asyncio.run(burst())
    assert codes.count(401) == 5 and codes.count(429) == 35 and 303 not in codes


def test_login_map_websocket_ack_and_logout(client: TestClient) -> None:
    r = client.post("/login", data={"password": PASSWORD}, follow_redirects=False)
    assert r.status_code == 303
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=3600" in cookie
    assert client.get("/").status_code == 200
    venue = client.get("/api/venue").json()
    assert venue["floor"] == {"width": 20.0, "height": 14.0} and "b-03" not in venue["people"]
    assert venue["people"]["b-01"]["name"] == "Ann"
    d = dash(client)
    with client.websocket_connect("/ws") as ws:
        first = json.loads(ws.receive_text())
        assert first["type"] == "live" and first["frame"] is None
        feed(client, d.topics.frames, encode_frame(frame(T0 + 120, HUDDLE_SPOTS)))
        view = receive_until(ws, lambda v: v["frame"] is not None)
        assert len(view["frame"]["badges"]) == 4
        feed(client, d.topics.alerts, encode_alert(alert()))
        view = receive_until(ws, lambda v: bool(v["alerts"]))
        assert view["alerts"][0]["acked"] is False and view["alerts"][0]["who"] == [
            "Ann",
            "Bob",
            "someone who opted out",
        ]
        assert client.post("/api/alerts/a-1/ack").json() == {"ok": True}
        receive_until(ws, lambda v: v["alerts"][0]["acked"] is True)
        assert client.post("/api/alerts/a-404/ack").status_code == 404
        history = client.get(f"/api/history?at={T0 + 500}").json()
        assert history["frame"]["ts"] == T0 + 120
        assert client.get("/api/history?at=nan").status_code == 400
        r = client.post("/logout", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login"
        feed(client, d.topics.frames, encode_frame(frame(T0 + 121, HUDDLE_SPOTS)))
        with pytest.raises(WebSocketDisconnect) as exc:
            for _ in range(5):
                ws.receive_text()
        assert exc.value.code == 4401  # the open tab is closed at its next update
    assert client.get("/api/state").status_code == 401


def test_websocket_from_another_origin_is_refused(client: TestClient) -> None:
    login(client)
    with (
        pytest.raises(WebSocketDisconnect) as exc,
        client.websocket_connect("/ws", headers={"origin": "http://evil.test"}),
    ):
        pass
    assert exc.value.code == 4403
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        assert json.loads(ws.receive_text())["type"] == "live"


def test_session_expires(client: TestClient, wall: Clock) -> None:
    assert login(client) == 303
    assert client.get("/api/state").status_code == 200
    wall.t += 3600.0
    assert client.get("/api/state").status_code == 401


def test_security_headers_and_no_third_party_assets(client: TestClient) -> None:
    r = client.get("/login")
    csp = r.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert r.headers["referrer-policy"] == "no-referrer" and r.headers["x-content-type-options"] == "nosniff"
    login(client)
    for path in ("/", "/static/map.js", "/static/me.js", "/static/style.css", "/login"):
        text = client.get(path).text
        assert "http://" not in text and "https://" not in text, path  # no CDN, no web fonts from elsewhere


def test_attendee_page_shows_only_own_nudges_and_wrong_token_is_a_plain_404(client: TestClient) -> None:
    d = dash(client)
    mine, theirs = badge_token(SECRET, "b-01"), badge_token(SECRET, "b-02")
    for badge, text in (("b-01", "Your Acme colleagues will keep. Go meet Globex."), ("b-02", "For Bob only.")):
        body = {"v": 1, "badge": badge, "alert": "a-1", "ts": T0 + 120, "via": None, "text": text, "suggestion": None}
        feed(client, d.topics.nudge(badge), json.dumps(body).encode())
    page = client.get(f"/me/{mine}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    got = client.get(f"/me/{mine}/nudges").json()
    assert [n["text"] for n in got["nudges"]] == ["Your Acme colleagues will keep. Go meet Globex."]
    assert "Bob" not in json.dumps(got) and "b-0" not in json.dumps(got)
    assert client.get(f"/me/{theirs}/nudges").json()["nudges"][0]["text"] == "For Bob only."
    unknown = client.get("/nowhere")
    for bad in (mine[:-1] + ("A" if mine[-1] != "A" else "B"), badge_token(SECRET, "zz-9"), "x", "%00"):
        for suffix in ("", "/nudges"):
            r = client.get(f"/me/{bad}{suffix}")
            assert (r.status_code, r.text) == (404, unknown.text), bad
        assert client.post(f"/me/{bad}/pause").status_code == 404


def test_pause_publishes_on_the_wire_and_shows_on_the_page(client: TestClient) -> None:
    d = dash(client)
    token = badge_token(SECRET, "b-01")
    assert client.post(f"/me/{token}/pause").status_code == 503  # no broker yet: say so, do not pretend
    sent: list[tuple[str, bytes]] = []
    d.publish = lambda topic, payload: sent.append((topic, payload)) is None
    r = client.post(f"/me/{token}/pause")
    assert r.status_code == 200 and r.json()["paused_until"] == T0 + 130 + 1800
    topic, payload = sent[-1]
    pause = decode_pause(loads(payload), "b-01")
    assert topic == d.topics.pause("b-01") and (pause.sent, pause.until) == (T0 + 130, T0 + 130 + 1800)
    r = client.post(f"/me/{token}/resume")
    assert r.json()["paused_until"] is None
    assert decode_pause(loads(sent[-1][1]), "b-01").until == T0 + 130  # until == sent cancels


def test_floor_image_is_served_to_organizers_only(venue_file: Path, roster_file: Path, tmp_path: Path) -> None:
    venue, roster = venue_and_roster(venue_file, roster_file)
    image = tmp_path / "plan.svg"
    image.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="20" height="14"/>', encoding="utf-8")
    config = DashboardConfig(venue, roster, PASSWORD, SECRET, floor_image=image)
    with TestClient(create_app(config)) as c:
        assert c.get("/api/floor-image").status_code == 401
        login(c)
        assert c.get("/api/venue").json()["floor_image"] is True
        r = c.get("/api/floor-image")
        assert r.status_code == 200 and r.text.startswith("<svg")
    with pytest.raises(ValueError, match="floor image"):
        DashboardConfig(venue, roster, PASSWORD, SECRET, floor_image=tmp_path / "plan.gif")
