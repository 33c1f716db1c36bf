"""What every console page shares: the session behind the cookie, the language, the CSRF
check, HTML rendering with every value escaped (Jinja2 autoescape), and the headers that keep
the pages private."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api.auth import PRINCIPAL, Principal
from hotline.console import sessions
from hotline.console.sessions import Session
from hotline.console.words import CLASS_NAMES, Lang, lang_of, named, step, word

LANG_COOKIE = "hotline_lang"
SESSION: web.RequestKey[Session] = web.RequestKey("console_session", Session)
IDLE: web.AppKey[dt.timedelta] = web.AppKey("console_idle", dt.timedelta)
Page = Callable[[web.Request], Awaitable[web.StreamResponse]]

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("hotline", "console/templates"),
    autoescape=True,  # every value is text: a name like <script> shows as written
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

# Private pages: not cached, not framed, no inline script, no referrer leaking case ids.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # "no-referrer" would make Chrome send Origin: null
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
}


def lang(request: web.Request) -> Lang:
    return lang_of(request.cookies.get(LANG_COOKIE), request.headers.get("Accept-Language"))


def local(at: dt.datetime | None, tz: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return "" if at is None else at.astimezone(tz).strftime(fmt)


def render_text(name: str, lang_: Lang, tz: ZoneInfo, **context: Any) -> str:
    template = _ENV.get_template(name)
    return template.render(
        t=lambda key: word(key, lang_),
        step=lambda kind: step(kind, lang_),
        named=lambda prefix, value: named(prefix, value, lang_),
        lang=lang_,
        local=lambda at, fmt="%Y-%m-%d %H:%M": local(at, tz, fmt),
        classes=tuple(CLASS_NAMES),
        **context,
    )


def render(
    request: web.Request, name: str, tz: ZoneInfo, status: int = 200, **context: Any
) -> web.Response:
    session = request.get(SESSION)
    body = render_text(
        name,
        lang(request),
        tz,
        me=session,
        csrf=session.csrf if session else "",
        path=request.path,
        **context,
    )
    return web.Response(
        text=body, status=status, content_type="text/html", headers=SECURITY_HEADERS
    )


def same_origin(request: web.Request) -> bool:
    """A state-changing request or a WebSocket must come from our own pages: a browser always
    sends Origin on these, and a page elsewhere cannot forge it."""
    origin = request.headers.get("Origin")
    if origin is None:
        return request.method in ("GET", "HEAD")
    return origin == f"{request.scheme}://{request.host}"


async def current(engine: AsyncEngine, request: web.Request) -> Session | None:
    token = request.cookies.get(sessions.COOKIE, "")
    if not token:
        return None
    idle = request.app.get(IDLE, sessions.DEFAULT_IDLE)
    async with engine.connect() as conn:
        return await sessions.find(conn, token, now=dt.datetime.now(dt.UTC), idle=idle)


def as_principal(session: Session) -> Principal:
    if session.admin:
        return Principal(session.username, "admin", session.operator_id)
    if session.supervisor:
        return Principal(session.username, "supervisor", session.operator_id)
    return Principal(session.username, "operator", session.operator_id)


def guarded(
    engine: AsyncEngine,
    page: Page,
    *,
    supervisor: bool = False,
    admin: bool = False,
    form: bool = False,
) -> Page:
    """Log-in required (the login page otherwise); forms need the session's CSRF token and
    our own origin; supervisor pages need the supervisor (or admin) role, admin pages the
    admin role."""

    async def handler(request: web.Request) -> web.StreamResponse:
        session = await current(engine, request)
        if session is None:
            if request.headers.get("HX-Request"):
                return web.Response(status=401, headers={"HX-Redirect": "/console/login"})
            raise web.HTTPSeeOther("/console/login")
        if (supervisor and not session.supervisor) or (admin and not session.admin):
            raise web.HTTPForbidden(text=word("forbidden", lang(request)))
        if form:
            data = await request.post()
            given = request.headers.get("X-CSRF-Token") or _text(data, "csrf")
            if not same_origin(request) or not sessions.csrf_ok(session, given):
                raise web.HTTPForbidden(text="CSRF check failed")
        request[SESSION] = session
        request[PRINCIPAL] = as_principal(session)
        return await page(request)

    return handler


def _text(data: Mapping[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


async def fields(request: web.Request) -> dict[str, str]:
    """The form's text fields (files ignored)."""
    data = await request.post()
    return {k: v for k, v in data.items() if isinstance(v, str) and k != "csrf"}
