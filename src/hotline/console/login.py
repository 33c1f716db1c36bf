"""Logging in and out, the language, and the console's static files.

A login attempt goes through the throttle first (console.throttle: per address and per
account; 429 with Retry-After, nothing checked), then the stored hash is read (the database
connection returned at once), then the password is checked in the password pool
(core.passwords; 429 when it is full), then the session is written. A failure is logged with
the address (never the password), and a lock is an audit row and an alert for supervisors.

A refused attempt is answered slowly (the tarpit): when its wait is over, at most TARPIT_S
later. A client that tries again as soon as it is answered then makes one attempt in each
wait, not a thousand a second: measured (bench.login_flood), 100 such clients had taken the
whole event loop, and the calls' and the API's answers with it; answered after half the wait
(at most 2 s) they still came 60-90 times a second and the answer p99 was 3-5x the quiet
one's; at one attempt in 5 s it stays within 2x. An address holding HELD_PER_ADDRESS
attempts already (or the service HELD_AT_MOST in all) is refused at once, with a bare 429
and the connection closed: sleeping costs nothing, but connections are not unbounded.

One password is checked at a time for an account: the throttle counts a failure only once
its check has ended, so fifty clients guessing at one name at once would all pass it and
each cost a full scrypt; the others are held back (429) while one is checked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.console import sessions
from hotline.console.throttle import Locked, LoginThrottle, Wait
from hotline.console.web import LANG_COOKIE, guarded, render, same_origin
from hotline.console.words import LANGS
from hotline.core import events as ev
from hotline.core.passwords import Busy, Passwords, stale
from hotline.db.audit import audit

log = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"
TARPIT_S = 5.0  # a refused login is answered after its wait, at most this long
HELD_PER_ADDRESS = 4  # refused logins held at once from one address ...
HELD_AT_MOST = 2000  # ... and from all (then refused at once, the connection closed)
_TYPES = {".js": "text/javascript", ".css": "text/css"}


@dataclass
class Gate:
    """What stands in front of the password check: the throttle and the password pool,
    one each for the service, and who hears of a lock."""

    passwords: Passwords
    throttle: LoginThrottle = field(default_factory=LoginThrottle)
    held: Counter[str] = field(default_factory=Counter)  # refused logins held, by address
    checking: set[str] = field(default_factory=set)  # accounts whose password is being checked
    publish: Callable[[ev.DomainEvent], None] | None = None
    closed: Callable[[list[str]], object] | None = None  # sessions ended: close their sockets

    async def changed(self, engine: AsyncEngine, operator_id: str) -> None:
        """An admin changed the operator (a new password, typically): a lock on the account
        is lifted, so that it may log in again at once."""
        if not operator_id.isdigit():
            return
        async with engine.connect() as conn:
            username = await sessions.username_of(conn, int(operator_id))
        if username is not None:
            self.throttle.unlock(username)


@dataclass(frozen=True)
class LoginPages:
    engine: AsyncEngine
    tz: ZoneInfo
    lifetime: dt.timedelta
    gate: Gate

    def add(self, app: web.Application) -> None:
        app.router.add_get("/", _root)
        app.router.add_get("/console/login", self.page)
        app.router.add_post("/console/login", self.log_in)
        app.router.add_post("/console/logout", guarded(self.engine, self.log_out, form=True))
        app.router.add_post("/console/lang", _language)
        app.router.add_get("/console/static/{name}", _static)

    async def page(self, request: web.Request) -> web.StreamResponse:
        return render(request, "login.html", self.tz, error=None)

    def _refused(self, request: web.Request, wait: Wait) -> web.StreamResponse:
        error = "login_locked" if wait.locked else "login_wait"
        answer = render(request, "login.html", self.tz, status=429, error=error)
        answer.headers["Retry-After"] = str(max(1, round(wait.seconds)))
        return answer

    async def _held_back(
        self, request: web.Request, address: str, wait: Wait
    ) -> web.StreamResponse:
        """The 429, answered after the wait (at most TARPIT_S): see the module's text."""
        held = self.gate.held
        if held[address] >= HELD_PER_ADDRESS or held.total() >= HELD_AT_MOST:
            return web.Response(
                status=429,
                text="too many login attempts\n",
                headers={"Retry-After": str(max(1, round(wait.seconds))), "Connection": "close"},
            )
        held[address] += 1
        try:
            await asyncio.sleep(min(wait.seconds, TARPIT_S))
        finally:
            held[address] -= 1
            if held[address] <= 0:
                del held[address]
        return self._refused(request, wait)

    async def log_in(self, request: web.Request) -> web.StreamResponse:
        if not same_origin(request):
            raise web.HTTPForbidden(text="cross-site login refused")
        form = await request.post()
        username, password = form.get("username"), form.get("password")
        if not isinstance(username, str) or not isinstance(password, str):
            return render(request, "login.html", self.tz, status=400, error="login_failed")
        username, password = username.strip()[:64], password[:256]
        address = request.remote or "?"
        gate, loop = self.gate, asyncio.get_running_loop()
        wait = gate.throttle.check(address, username, loop.time())
        if wait is not None:
            return await self._held_back(request, address, wait)
        if username in gate.checking:  # one check at a time for an account (see the module)
            return await self._held_back(request, address, Wait(1.0))
        gate.checking.add(username)
        try:
            async with self.engine.connect() as conn:  # returned before the check
                found = await sessions.account(conn, username)
            try:
                ok = await gate.passwords.verify(password, found.password_hash if found else None)
            except Busy:
                return await self._held_back(request, address, Wait(1.0))
            if not ok or found is None:
                await self._failed(address, username, found, loop.time())
                return render(request, "login.html", self.tz, status=401, error="login_failed")
        finally:
            gate.checking.discard(username)
        gate.throttle.succeeded(address, username)
        new_hash = await _rehash(gate.passwords, password) if stale(found.password_hash) else None
        async with self.engine.begin() as conn:
            token, session = await sessions.open_session(
                conn, found, now=dt.datetime.now(dt.UTC), lifetime=self.lifetime
            )
            if new_hash is not None:
                await sessions.rehash(conn, found.operator_id, new_hash)
        log.info("console login: operator %d from %s", found.operator_id, address)
        home = "/console/admin" if session.admin else "/console/floor"
        answer = web.HTTPSeeOther(home if session.supervisor else "/console")
        answer.set_cookie(
            sessions.COOKIE,
            token,
            max_age=int(self.lifetime.total_seconds()),
            httponly=True,
            samesite="Strict",
            secure=request.secure,
            path="/",
        )
        raise answer

    async def _failed(
        self, address: str, username: str, found: sessions.Account | None, now: float
    ) -> None:
        locked = self.gate.throttle.failed(address, username, now)
        who = f"operator {found.operator_id}" if found else "an unknown account"
        log.warning("console login refused for %s from %s", who, address)
        if locked is not None:
            await self._lock(address, found, locked)

    async def _lock(self, address: str, found: sessions.Account | None, locked: Locked) -> None:
        left = locked.until - asyncio.get_running_loop().time()
        until = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=left)
        operator_id = found.operator_id if found else None
        log.warning(
            "ALERT console account %s locked until %s after %d failed logins (last from %s)",
            operator_id if operator_id is not None else "(unknown)",
            until.isoformat(timespec="seconds"),
            locked.failures,
            address,
        )
        async with self.engine.begin() as conn:
            await audit(
                conn,
                "console-login",
                "lock",
                "console_login",
                str(operator_id) if operator_id is not None else "unknown",
                before=None,
                after={"until": until.isoformat(), "failures": locked.failures, "last": address},
            )
        if self.gate.publish is not None:
            self.gate.publish(
                ev.SecurityAlert(
                    kind="login_locked",
                    operator_id=operator_id,
                    until=until,
                    count=locked.failures,
                )
            )

    async def log_out(self, request: web.Request) -> web.StreamResponse:
        token = request.cookies.get(sessions.COOKIE, "")
        async with self.engine.begin() as conn:
            key = await sessions.logout(conn, token, now=dt.datetime.now(dt.UTC))
        if self.gate.closed is not None:
            self.gate.closed([key])  # its console's socket closes now, not at the next check
        answer = web.HTTPSeeOther("/console/login")
        answer.del_cookie(sessions.COOKIE, path="/")
        raise answer


async def _language(request: web.Request) -> web.StreamResponse:
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


async def _static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if "/" in name or name.startswith(".") or path.suffix not in _TYPES or not path.is_file():
        raise web.HTTPNotFound()
    return web.Response(
        body=path.read_bytes(),
        content_type=_TYPES[path.suffix],
        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"},
    )


async def _root(request: web.Request) -> web.StreamResponse:
    raise web.HTTPSeeOther("/console")


async def _rehash(passwords: Passwords, password: str) -> str | None:
    """Today's hash of a password that matched an older one; None if the pool is full (it
    is tried again at the next login)."""
    try:
        return await passwords.hash(password)
    except Busy:
        return None
