"""Logging in and out, the language, and the console's static files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.console import sessions
from hotline.console.web import LANG_COOKIE, guarded, render, same_origin
from hotline.console.words import LANGS

STATIC = Path(__file__).parent / "static"
_TYPES = {".js": "text/javascript", ".css": "text/css"}


def add(app: web.Application, engine: AsyncEngine, tz: ZoneInfo, lifetime: dt.timedelta) -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        return render(request, "login.html", tz, error=None)

    async def log_in(request: web.Request) -> web.StreamResponse:
        if not same_origin(request):
            raise web.HTTPForbidden(text="cross-site login refused")
        form = await request.post()
        username, password = form.get("username"), form.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return render(request, "login.html", tz, status=400, error="login_failed")
        async with engine.begin() as conn:
            made = await sessions.login(
                conn,
                username.strip()[:64],
                password[:256],
                now=dt.datetime.now(dt.UTC),
                lifetime=lifetime,
            )
        if made is None:
            return render(request, "login.html", tz, status=401, error="login_failed")
        token, session = made
        home = "/console/admin" if session.admin else "/console/floor"
        answer = web.HTTPSeeOther(home if session.supervisor else "/console")
        answer.set_cookie(
            sessions.COOKIE,
            token,
            max_age=int(lifetime.total_seconds()),
            httponly=True,
            samesite="Strict",
            secure=request.secure,
            path="/",
        )
        raise answer

    async def log_out(request: web.Request) -> web.StreamResponse:
        token = request.cookies.get(sessions.COOKIE, "")
        async with engine.begin() as conn:
            await sessions.logout(conn, token, now=dt.datetime.now(dt.UTC))
        answer = web.HTTPSeeOther("/console/login")
        answer.del_cookie(sessions.COOKIE, path="/")
        raise answer

    async def language(request: web.Request) -> web.StreamResponse:
        """The language is no secret: the toggle needs no session, only our own origin."""
        if not same_origin(request):
            raise web.HTTPForbidden(text="cross-site request refused")
        form = await request.post()
        chosen = form.get("lang")
        back = form.get("back")
        safe = isinstance(back, str) and back.startswith("/console") and "//" not in back
        answer = web.HTTPSeeOther(back if safe and isinstance(back, str) else "/console")
        if chosen in LANGS:
            answer.set_cookie(
                LANG_COOKIE, str(chosen), max_age=365 * 86400, samesite="Strict", path="/"
            )
        raise answer

    async def static(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        path = STATIC / name
        if "/" in name or name.startswith(".") or path.suffix not in _TYPES or not path.is_file():
            raise web.HTTPNotFound()
        return web.Response(
            body=path.read_bytes(),
            content_type=_TYPES[path.suffix],
            headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
        )

    async def root(request: web.Request) -> web.StreamResponse:
        raise web.HTTPSeeOther("/console")

    app.router.add_get("/", root)
    app.router.add_get("/console/login", page)
    app.router.add_post("/console/login", log_in)
    app.router.add_post("/console/logout", guarded(engine, log_out, form=True))
    app.router.add_post("/console/lang", language)
    app.router.add_get("/console/static/{name}", static)
