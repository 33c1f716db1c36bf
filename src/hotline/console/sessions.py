"""Console logins: an operator's own account (username and console password), a session
cookie holding a random token (only its hash is stored), a CSRF token per session, and an
expiry. A deactivated operator, or one whose password was removed, is logged out at once."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.core.passwords import verify_password
from hotline.db.models import ConsoleSession, Operator

COOKIE = "hotline_console"
DEFAULT_LIFETIME = dt.timedelta(hours=10)  # one shift and a little more


@dataclass(frozen=True)
class Session:
    operator_id: int
    username: str
    display_name: str
    role: str  # operator | supervisor | admin
    csrf: str
    expires_at: dt.datetime

    @property
    def supervisor(self) -> bool:
        """Sees the floor, the access log and the reports: supervisors, and admins."""
        return self.role in ("supervisor", "admin")

    @property
    def admin(self) -> bool:
        """Edits the set-up (the admin pages)."""
        return self.role == "admin"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def login(
    conn: AsyncConnection,
    username: str,
    password: str,
    *,
    now: dt.datetime,
    lifetime: dt.timedelta = DEFAULT_LIFETIME,
) -> tuple[str, Session] | None:
    """A new session for a valid active operator's username and password; None otherwise
    (the same answer for an unknown name and a wrong password)."""
    row = (
        await conn.execute(
            select(
                Operator.id,
                Operator.username,
                Operator.display_name,
                Operator.role,
                Operator.password_hash,
            ).where(Operator.username == username, Operator.active)
        )
    ).first()
    stored = None if row is None else row.password_hash
    if not await asyncio.to_thread(verify_password, password, stored) or row is None:
        return None
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    expires = now + lifetime
    await conn.execute(
        insert(ConsoleSession).values(
            token_sha256=_digest(token),
            operator_id=row.id,
            csrf=csrf,
            created_at=now,
            expires_at=expires,
        )
    )
    return token, Session(row.id, row.username, row.display_name, row.role, csrf, expires)


async def find(conn: AsyncConnection, token: str, *, now: dt.datetime) -> Session | None:
    """The live session a cookie names, or None (unknown, ended, expired, operator gone)."""
    if not token or len(token) > 100:
        return None
    digest = _digest(token)
    row = (
        await conn.execute(
            select(
                ConsoleSession.token_sha256,
                ConsoleSession.csrf,
                ConsoleSession.expires_at,
                Operator.id,
                Operator.username,
                Operator.display_name,
                Operator.role,
            )
            .join(Operator, Operator.id == ConsoleSession.operator_id)
            .where(
                ConsoleSession.token_sha256 == digest,
                ConsoleSession.ended_at.is_(None),
                ConsoleSession.expires_at > now,
                Operator.active,
                Operator.password_hash.is_not(None),
            )
        )
    ).first()
    if row is None or not hmac.compare_digest(row.token_sha256, digest):
        return None
    return Session(row.id, row.username, row.display_name, row.role, row.csrf, row.expires_at)


async def logout(conn: AsyncConnection, token: str, *, now: dt.datetime) -> None:
    await conn.execute(
        update(ConsoleSession)
        .where(ConsoleSession.token_sha256 == _digest(token), ConsoleSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def csrf_ok(session: Session, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(session.csrf.encode(), given.encode())
