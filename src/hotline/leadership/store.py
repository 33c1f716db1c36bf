"""The lease row and the controllers seen, in PostgreSQL (migration 0013).

Every statement runs on its own in autocommit time (`now()` is the database's clock, the
only one the controllers share). Taking an ended lease raises the epoch: the fencing token
that every acting write checks (`still_leads`, FOR SHARE: a takeover waits for the
transaction that checked it). A lease that ended with nobody taking it still names its
holder and epoch: nobody led since, so its holder may renew it and write under it (a leader
alone through a database outage, a process frozen and woken with no standby about).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

_TAKE = text(
    "INSERT INTO leader_lease AS l (id, holder, epoch, acquired_at, expires_at)"
    " VALUES (1, :name, 1, now(), now() + make_interval(secs => :length))"
    " ON CONFLICT (id) DO UPDATE SET holder = EXCLUDED.holder, epoch = l.epoch + 1,"
    " acquired_at = now(), expires_at = EXCLUDED.expires_at"
    " WHERE l.expires_at <= now()"
    " RETURNING epoch"
)
_RENEW = text(  # an ended lease nobody took is still ours: the epoch says nobody led since
    "UPDATE leader_lease SET expires_at = now() + make_interval(secs => :length)"
    " WHERE id = 1 AND holder = :name AND epoch = :epoch"
    " RETURNING epoch"
)
_RELEASE = text(
    "UPDATE leader_lease SET expires_at = now() WHERE id = 1 AND holder = :name AND epoch = :epoch"
)
_STILL = text(  # the fencing token: our epoch, not taken since (whether or not it ended)
    "SELECT 1 FROM leader_lease WHERE id = 1 AND holder = :name AND epoch = :epoch FOR SHARE"
)
_LEADER = text("SELECT holder, epoch, expires_at > now() AS live FROM leader_lease WHERE id = 1")
_SEEN = text(
    "INSERT INTO controllers AS c (name, host, pid, role, epoch, started_at, seen_at)"
    " VALUES (:name, :host, :pid, :role, :epoch, :started_at, now())"
    " ON CONFLICT (name) DO UPDATE SET host = EXCLUDED.host, pid = EXCLUDED.pid,"
    " role = EXCLUDED.role, epoch = EXCLUDED.epoch, started_at = EXCLUDED.started_at,"
    " seen_at = now()"
)
_CONTROLLERS = text(
    "SELECT name, host, pid, role, epoch, started_at, seen_at,"
    " seen_at > now() - make_interval(secs => :fresh) AS alive"
    " FROM controllers WHERE seen_at > now() - interval '1 day' ORDER BY name"
)


async def take(conn: AsyncConnection, name: str, length_s: float) -> int | None:
    """Take the lease if it has ended (or never was): the new epoch, or None."""
    return (await conn.execute(_TAKE, {"name": name, "length": length_s})).scalar()


async def renew(conn: AsyncConnection, name: str, epoch: int, length_s: float) -> bool:
    """Extend our lease; False when it is not ours any more (or had ended)."""
    found = await conn.execute(_RENEW, {"name": name, "epoch": epoch, "length": length_s})
    return found.scalar() is not None


async def release(conn: AsyncConnection, name: str, epoch: int) -> None:
    """End our lease now: a standby takes it at its next try."""
    await conn.execute(_RELEASE, {"name": name, "epoch": epoch})


async def still_leads(conn: AsyncConnection, name: str, epoch: int) -> bool:
    """In a transaction: does the lease still name us with this epoch (row held FOR SHARE)?"""
    found = await conn.execute(_STILL, {"name": name, "epoch": epoch})
    return found.scalar() is not None


@dataclass(frozen=True)
class Leader:
    holder: str
    epoch: int
    live: bool


async def leader(conn: AsyncConnection) -> Leader | None:
    row = (await conn.execute(_LEADER)).one_or_none()
    return None if row is None else Leader(row.holder, row.epoch, row.live)


@dataclass(frozen=True)
class Seen:
    name: str
    host: str
    pid: int
    role: str
    epoch: int | None
    started_at: dt.datetime
    seen_at: dt.datetime
    alive: bool


async def seen(
    conn: AsyncConnection,
    *,
    name: str,
    host: str,
    pid: int,
    role: str,
    epoch: int | None,
    started_at: dt.datetime,
) -> None:
    await conn.execute(
        _SEEN,
        {
            "name": name,
            "host": host,
            "pid": pid,
            "role": role,
            "epoch": epoch,
            "started_at": started_at,
        },
    )


async def controllers(conn: AsyncConnection, fresh_s: float = 5.0) -> list[Seen]:
    """The controllers seen in the last day; `alive` when seen in the last `fresh_s`."""
    rows = (await conn.execute(_CONTROLLERS, {"fresh": fresh_s})).all()
    return [
        Seen(r.name, r.host, r.pid, r.role, r.epoch, r.started_at, r.seen_at, r.alive) for r in rows
    ]
