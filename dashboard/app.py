"""The Starlette app: organizer map (login), its API and WebSocket, and the attendee pages.

The async shell around :class:`~dashboard.hub.Hub` and :class:`~dashboard.state.DashboardState`.
The app's lifespan opens the MQTT link (the live service's :class:`MqttLink`, the same
paho→asyncio bridge) and runs the one consumer task that drains the hub. Two clocks:
``clock`` is pipeline time (the wall clock live; the demo's scaled clock in the demo) and
times everything the pipeline reports; ``wall`` is the real clock, for sessions and the
login rate limit.

Routes (``docs/dashboard.md``): ``/`` the map, ``/login``, ``/logout``, ``/api/venue``,
``/api/state``, ``/api/history?at=TS``, ``/api/alerts/{id}/ack``, ``/api/floor-image``,
``/ws`` (organizer only: 401 / redirect / close 4401 otherwise); ``/me/{token}``,
``/me/{token}/nudges``, ``/me/{token}/pause``, ``/me/{token}/resume`` (the token is the
credential; a wrong one is a plain 404); ``/static/...``; ``/healthz``. What every route
goes through (security headers, the cross-site check on posts, the form size limit) is
in :mod:`.guards`.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import math
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from mingle_wire import Pause, Topics, encode_pause
from pipeline.live.broker import BrokerConfig, MqttLink
from pipeline.roster import Roster
from pipeline.venue import Venue

from .auth import LoginLimiter, Sessions, check_password
from .guards import SecurityHeaders, no_store, plain_not_found, same_site, small_body
from .hub import Hub
from .state import DashboardState, StateConfig
from .tokens import TokenBook

__all__ = ["COOKIE", "Dashboard", "DashboardConfig", "create_app"]

log = logging.getLogger("mingle.dashboard")

COOKIE = "mingle_session"
STATIC = Path(__file__).parent / "static"
Publish = Callable[[str, bytes], bool]


@dataclass(frozen=True, slots=True)
class DashboardConfig:
    """Read once at the program's edge. ``broker`` ``None`` runs without MQTT (tests feed the hub)."""

    venue: Venue
    roster: Roster
    password: str
    secret: bytes
    broker: BrokerConfig | None = None
    prefix: str = "mingle"
    session_ttl_s: float = 8 * 3600.0
    secure_cookies: bool = False
    floor_image: Path | None = None
    pause_s: float = 1800.0
    refresh_s: float = 2.0
    state: StateConfig = field(default_factory=StateConfig)

    def __post_init__(self) -> None:
        if not 0 < self.pause_s <= 4 * 3600:
            raise ValueError(f"pause_s must be in (0, 14400], got {self.pause_s!r}")
        if not self.refresh_s > 0:
            raise ValueError(f"refresh_s must be > 0, got {self.refresh_s!r}")
        if self.floor_image is not None and self.floor_image.suffix.lower() not in (".png", ".jpg", ".jpeg", ".svg"):
            raise ValueError(f"floor image must be .png, .jpg or .svg, got {self.floor_image}")


class Dashboard:
    """Everything the routes share: config, clocks, hub, sessions, rate limit, attendee tokens."""

    def __init__(
        self, config: DashboardConfig, *, clock: Callable[[], float] = time.time, wall: Callable[[], float] = time.time
    ) -> None:
        self.config = config
        self.clock = clock
        self.wall = wall
        self.topics = Topics(config.venue.site, config.prefix)
        self.state = DashboardState(config.venue, config.roster, config.state)
        self.hub = Hub(self.state, self.topics)
        self.sessions = Sessions(ttl_s=config.session_ttl_s)
        self.limiter = LoginLimiter()
        self.tokens = TokenBook(config.secret, config.roster.keys())
        #: Publishes (topic, payload) at QoS 1; set by the lifespan once the broker link is open.
        self.publish: Publish | None = None
        self.link: MqttLink | None = None

    def logged_in(self, sid: str | None) -> bool:
        return self.sessions.valid(sid, self.wall())

    async def consume(self) -> None:
        """Drain the hub whenever messages arrive, and refresh the view every ``refresh_s`` anyway."""
        hub = self.hub
        while True:
            woke = True
            try:
                await asyncio.wait_for(hub.wakeup.wait(), self.config.refresh_s)
            except TimeoutError:
                woke = False
            hub.wakeup.clear()
            now = self.clock()
            try:
                if not hub.drain(now) and not woke:
                    hub.publish(now)  # ages ("last heard") move on even when nothing arrives
            except Exception:  # a bug must not stop the map: log it and go on with the next message
                log.exception("dashboard update failed")


def _page(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


def create_app(
    config: DashboardConfig,
    *,
    clock: Callable[[], float] = time.time,
    wall: Callable[[], float] = time.time,
) -> Starlette:
    """The dashboard app; ``app.state.dashboard`` is its :class:`Dashboard`."""
    dash = Dashboard(config, clock=clock, wall=wall)
    map_html, me_html, login_html = _page("map.html"), _page("me.html"), _page("login.html")

    def login_page(message: str = "", status: int = 200) -> Response:
        body = login_html.replace("{{message}}", html.escape(message))
        return no_store(HTMLResponse(body, status_code=status))

    def organizer(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
        async def guarded(request: Request) -> Response:
            if not dash.logged_in(request.cookies.get(COOKIE)):
                return no_store(JSONResponse({"error": "login required"}, status_code=401))
            return no_store(await fn(request))

        return guarded

    async def index(request: Request) -> Response:
        if not dash.logged_in(request.cookies.get(COOKIE)):
            return RedirectResponse("/login", status_code=303)
        return no_store(HTMLResponse(map_html))

    async def login_form(request: Request) -> Response:
        if dash.logged_in(request.cookies.get(COOKIE)):
            return RedirectResponse("/", status_code=303)
        return login_page()

    @same_site
    async def login(request: Request) -> Response:
        client = request.client.host if request.client else "?"
        body = await small_body(request)
        if body is None:
            return login_page("Request too large.", 413)
        try:
            form = parse_qs(body.decode("utf-8", "replace"), max_num_fields=10)
        except ValueError:
            return login_page("Bad request.", 400)
        # From here to the answer nothing awaits: attempts sent at once are counted one by one,
        # so a burst cannot slip past the limit before the first failure is recorded.
        now = dash.wall()
        if not dash.limiter.allowed(client, now):
            return login_page("Too many attempts. Wait a few minutes and try again.", 429)
        given = (form.get("password") or [""])[0]
        if not check_password(given, config.password):
            dash.limiter.failed(client, now)
            log.warning("failed organizer login from %s", client)
            return login_page("Wrong password.", 401)
        dash.limiter.succeeded(client)
        sid = dash.sessions.create(now)
        resp = RedirectResponse("/", status_code=303)
        resp.set_cookie(
            COOKIE,
            sid,
            max_age=int(config.session_ttl_s),
            httponly=True,
            samesite="strict",
            secure=config.secure_cookies,
            path="/",
        )
        return resp

    @same_site
    async def logout(request: Request) -> Response:
        dash.sessions.revoke(request.cookies.get(COOKIE))
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict", secure=config.secure_cookies)
        return resp

    @organizer
    async def venue(request: Request) -> Response:
        body = dash.state.venue_view()
        body["floor_image"] = config.floor_image is not None
        return JSONResponse(body)

    @organizer
    async def live_state(request: Request) -> Response:
        return Response(dash.hub.live, media_type="application/json")

    @organizer
    async def history(request: Request) -> Response:
        try:
            at = float(request.query_params["at"])
        except (KeyError, ValueError):
            return JSONResponse({"error": "give ?at=<unix seconds>"}, status_code=400)
        if not math.isfinite(at):
            return JSONResponse({"error": "at must be finite"}, status_code=400)
        data = dash.state.history_at(at)
        if data is None:
            return JSONResponse({"error": "no history yet"}, status_code=404)
        return Response(data, media_type="application/json")

    @organizer
    @same_site
    async def ack(request: Request) -> Response:
        if not dash.state.ack(request.path_params["alert"], dash.clock()):
            return JSONResponse({"error": "no such alert"}, status_code=404)
        dash.hub.publish(dash.clock())
        return JSONResponse({"ok": True})

    @organizer
    async def floor_image(request: Request) -> Response:
        if config.floor_image is None:
            return plain_not_found()
        return FileResponse(config.floor_image)

    async def websocket(ws: WebSocket) -> None:
        sid = ws.cookies.get(COOKIE)
        if not dash.logged_in(sid):
            await ws.close(code=4401)
            return
        origin = ws.headers.get("origin")
        if origin is not None and urlsplit(origin).netloc != ws.headers.get("host"):
            await ws.close(code=4403)  # another site's page riding on the organizer's cookie
            return
        await ws.accept()
        slot = dash.hub.attach()

        async def watch_close() -> None:
            with contextlib.suppress(WebSocketDisconnect, RuntimeError):
                while (await ws.receive())["type"] != "websocket.disconnect":
                    pass
            slot.close()

        watcher = asyncio.create_task(watch_close())
        try:
            while (data := await slot.get()) is not None:
                if not dash.logged_in(sid):  # logged out or expired while the tab stayed open
                    await ws.close(code=4401)
                    break
                await ws.send_text(data.decode("utf-8"))
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass
        finally:
            dash.hub.detach(slot)
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    def attendee(request: Request) -> str | None:
        return dash.tokens.badge_for(request.path_params["token"])

    async def me_page(request: Request) -> Response:
        if attendee(request) is None:
            return plain_not_found()
        return no_store(HTMLResponse(me_html))

    async def me_nudges(request: Request) -> Response:
        badge = attendee(request)
        if badge is None:
            return plain_not_found()
        return no_store(JSONResponse(dash.state.attendee_view(badge, dash.clock())))

    async def pause_for(request: Request, seconds: float) -> Response:
        badge = attendee(request)
        if badge is None:
            return plain_not_found()
        if dash.publish is None:
            return no_store(JSONResponse({"error": "not connected to the pipeline; try again"}, status_code=503))
        now = dash.clock()
        until = now + seconds
        if not dash.publish(dash.topics.pause(badge), encode_pause(Pause(badge, until, now))):
            return no_store(JSONResponse({"error": "could not reach the pipeline; try again"}, status_code=503))
        dash.state.pause(badge, until)
        return no_store(JSONResponse(dash.state.attendee_view(badge, now)))

    @same_site
    async def me_pause(request: Request) -> Response:
        return await pause_for(request, config.pause_s)

    @same_site
    async def me_resume(request: Request) -> Response:
        return await pause_for(request, 0.0)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    async def not_found(request: Request, exc: Exception) -> Response:
        if isinstance(exc, HTTPException) and exc.status_code != 404:
            return PlainTextResponse(exc.detail, status_code=exc.status_code)
        return plain_not_found()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if config.broker is not None:
                link = MqttLink(config.broker, subscriptions=dash.hub.subscriptions, on_message=dash.hub.receive)
                await stack.enter_async_context(link)
                dash.link = link
                # (Pauses only. Retained, so a pipeline that restarts gets every attendee's last
                # phone pause again when it subscribes: a pause must outlive a restart.)
                dash.publish = lambda topic, payload: link.publish(topic, payload, qos=1, retain=True)
            consumer = asyncio.create_task(dash.consume())
            try:
                yield
            finally:
                consumer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await consumer
                for slot in list(dash.hub.slots):
                    dash.hub.detach(slot)

    app = Starlette(
        routes=[
            Route("/", index),
            Route("/login", login_form, methods=["GET"]),
            Route("/login", login, methods=["POST"]),
            Route("/logout", logout, methods=["POST"]),
            Route("/api/venue", venue),
            Route("/api/state", live_state),
            Route("/api/history", history),
            Route("/api/alerts/{alert}/ack", ack, methods=["POST"]),
            Route("/api/floor-image", floor_image),
            WebSocketRoute("/ws", websocket),
            Route("/me/{token}", me_page),
            Route("/me/{token}/nudges", me_nudges),
            Route("/me/{token}/pause", me_pause, methods=["POST"]),
            Route("/me/{token}/resume", me_resume, methods=["POST"]),
            Route("/healthz", healthz),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={404: not_found, 405: not_found},
        lifespan=lifespan,
    )
    app.add_middleware(SecurityHeaders)
    app.state.dashboard = dash
    return app
