"""Console logins: an operator's own account (username and console password), a session
cookie holding a random token (only its hash is stored), a CSRF token per session, an expiry
and an idle timeout.

A session ends on logout, at its expiry, after `idle` without a request, and at once for
every session of an operator who is deactivated, deleted, given another role or a new
password (`end_all`); whatever still holds a session (the console's WebSocket) is closed by
the hub when its session is no longer `live`.

The password is checked elsewhere (core.passwords, in a pool of its own): `account` reads
the stored hash and returns its connection before the check, `open` writes the session
after it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass

from sqlalchemy import ColumnElement, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.core.passwords import verify_password
from hotline.db.models import ConsoleSession, Operator

COOKIE = "hotline_console"
DEFAULT_LIFETIME = dt.timedelta(hours=10)  # one shift and a little more
DEFAULT_IDLE = dt.timedelta(minutes=120)
TOUCH_EVERY = dt.timedelta(minutes=1)  # last_seen_at is written at most this often


@dataclass(frozen=True)
class Session:
    operator_id: int
    username: str
    display_name: str
    role: str  # operator | supervisor | admin
    csrf: str
    expires_at: dt.datetime
    key: str = ""  # the token's hash: names the session without being the token

    @property
    def supervisor(self) -> bool:
        """Sees the floor, the access log and the reports: supervisors, and admins."""
        return self.role in ("supervisor", "admin")

    @property
    def admin(self) -> bool:
        """Edits the set-up (the admin pages)."""
        return self.role == "admin"


@dataclass(frozen=True)
class Account:
    """An active operator who may log in to the console, and their stored password hash."""

    operator_id: int
    username: str
    display_name: str
    role: str
    password_hash: str


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def account(conn: AsyncConnection, username: str) -> Account | None:
    row = (
        await conn.execute(
            select(
                Operator.id,
                Operator.username,
                Operator.display_name,
                Operator.role,
                Operator.password_hash,
            ).where(
                Operator.username == username,
                Operator.active.is_(True),
                Operator.password_hash.is_not(None),
            )
        )
    ).first()
    if row is None or row.password_hash is None:
        return None
    return Account(row.id, row.username, row.display_name, row.role, row.password_hash)


async def open_session(
    conn: AsyncConnection,
    who: Account,
    *,
    now: dt.datetime,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
) -> tuple[str, Session]:
    """A new session for `who` (whose password was checked): (the cookie's token, it)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = now + lifetime
    key = digest(token)
    await conn.execute(
        insert(ConsoleSession).values(
            token_sha256=key,
            operator_id=who.operator_id,
            csrf=csrf,
            created_at=now,
            expires_at=expires,
            last_seen_at=now,
        )
    )
    return token, Session(
        who.operator_id, who.username, who.display_name, who.role, csrf, expires, key
    )


async def login(
    conn: AsyncConnection,
    username: str,
    password: str,
    *,
    now: dt.datetime,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
) -> tuple[str, Session] | None:
    """For scripts and tests: check the password on this thread and open a session. (The
    console's login page checks it in the password pool, with the throttle in front.)"""
    found = await account(conn, username)
    if not verify_password(password, found.password_hash if found else None) or found is None:
        return None
    return await open_session(conn, found, now=now, lifetime=lifetime)


def _live(now: dt.datetime, idle: dt.timedelta) -> list[ColumnElement[bool]]:
    return [
        ConsoleSession.ended_at.is_(None),
        ConsoleSession.expires_at > now,
        ConsoleSession.last_seen_at > now - idle,
        Operator.active.is_(True),
        Operator.password_hash.is_not(None),
    ]


async def find(
    conn: AsyncConnection, token: str, *, now: dt.datetime, idle: dt.timedelta = DEFAULT_IDLE
) -> Session | None:
    """The live session a cookie names, or None (unknown, ended, expired, idle, operator
    gone); a request made with it counts as activity."""
    if not token or len(token) > 100:
        return None
    key = digest(token)
    row = (
        await conn.execute(
            select(
                ConsoleSession.token_sha256,
                ConsoleSession.csrf,
                ConsoleSession.expires_at,
                ConsoleSession.last_seen_at,
                Operator.id,
                Operator.username,
                Operator.display_name,
                Operator.role,
            )
            .join(Operator, Operator.id == ConsoleSession.operator_id)
            .where(ConsoleSession.token_sha256 == key, *_live(now, idle))
        )
    ).first()
    if row is None or not hmac.compare_digest(row.token_sha256, key):
        return None
    if row.last_seen_at < now - TOUCH_EVERY:
        await conn.execute(
            update(ConsoleSession)
            .where(ConsoleSession.token_sha256 == key)
            .values(last_seen_at=now)
        )
        await conn.commit()
    return Session(row.id, row.username, row.display_name, row.role, row.csrf, row.expires_at, key)


async def live(
    conn: AsyncConnection, keys: Collection[str], *, now: dt.datetime, idle: dt.timedelta
) -> set[str]:
    """Which of these sessions (by key) are still live."""
    if not keys:
        return set()
    rows = await conn.execute(
        select(ConsoleSession.token_sha256)
        .join(Operator, Operator.id == ConsoleSession.operator_id)
        .where(ConsoleSession.token_sha256.in_(list(keys)), *_live(now, idle))
    )
    return set(rows.scalars())


async def username_of(conn: AsyncConnection, operator_id: int) -> str | None:
    name: str | None = await conn.scalar(
        select(Operator.username).where(Operator.id == operator_id)
    )
    return name


def checker(engine: AsyncEngine, idle: dt.timedelta) -> Callable[[set[str]], Awaitable[set[str]]]:
    """`live` on a connection of its own, for the hub's watch over its sockets' sessions."""

    async def check(keys: set[str]) -> set[str]:
        async with engine.connect() as conn:
            return await live(conn, keys, now=dt.datetime.now(dt.UTC), idle=idle)

    return check


async def logout(conn: AsyncConnection, token: str, *, now: dt.datetime) -> str:
    """End the session; its key (for closing what holds it)."""
    key = digest(token)
    await conn.execute(
        update(ConsoleSession)
        .where(ConsoleSession.token_sha256 == key, ConsoleSession.ended_at.is_(None))
        .values(ended_at=now, ended_reason="logout")
    )
    return key


async def rehash(conn: AsyncConnection, operator_id: int, password_hash: str) -> None:
    """The password hashed again with today's settings (an older, weaker hash matched)."""
    await conn.execute(
        update(Operator).where(Operator.id == operator_id).values(password_hash=password_hash)
    )


def csrf_ok(session: Session, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(session.csrf.encode(), given.encode())
