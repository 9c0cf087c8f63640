"""What the app's requests and responses go through, whatever the route: security headers on
every response, posts from another site's page refused, form bodies bounded, answers that
must not be cached marked so.

Helpers and one pure ASGI middleware; the routes are :mod:`.app`'s.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = [
    "MAX_FORM_BYTES",
    "NOT_FOUND",
    "SECURITY_HEADERS",
    "SecurityHeaders",
    "cross_site",
    "no_store",
    "plain_not_found",
    "refused",
    "same_site",
    "small_body",
]

MAX_FORM_BYTES = 4096

SECURITY_HEADERS = [
    # Everything is served from here: no CDN, no web fonts, no inline script.
    (b"content-security-policy", b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
     b"connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    # Attendee links carry their token in the path: never send it onward as a referrer.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
]  # fmt: skip


class SecurityHeaders:
    """Pure ASGI middleware adding :data:`SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, with_headers)


NOT_FOUND = "Not Found"


def plain_not_found() -> PlainTextResponse:
    return PlainTextResponse(NOT_FOUND, status_code=404, headers={"cache-control": "no-store"})


def no_store(resp: Response) -> Response:
    resp.headers["cache-control"] = "no-store"
    return resp


def cross_site(request: Request) -> bool:
    """Whether a request comes from another site's page: a form posted from elsewhere must change
    nothing here, not even the login limiter's count (five wrong passwords posted from any page
    would lock the organizer out). A browser says where a request comes from in
    ``Sec-Fetch-Site`` (``same-origin`` from our own pages, ``none`` when typed); without it (an
    older browser, a script) an ``Origin`` naming another host decides. (Our pages' no-referrer
    policy makes a browser send ``Origin: null`` even on its own forms: no evidence either way.)"""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        return fetch_site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    return origin not in (None, "null") and urlsplit(origin).netloc != request.headers.get("host")


def refused() -> PlainTextResponse:
    return PlainTextResponse("cross-site request refused", status_code=403, headers={"cache-control": "no-store"})


def same_site(fn: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """A post from another site's page changes nothing here (see :func:`cross_site`)."""

    async def guarded(request: Request) -> Response:
        return refused() if cross_site(request) else await fn(request)

    return guarded


async def small_body(request: Request) -> bytes | None:
    """The request's body, or None beyond ``MAX_FORM_BYTES`` (refused on its stated length, and
    never read past the limit)."""
    length = request.headers.get("content-length")
    if length is not None and (not length.isdigit() or int(length) > MAX_FORM_BYTES):
        return None
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    return body
