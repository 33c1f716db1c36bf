"""The audit log (every admin change: who, when, before, after) and the shapes every admin
store returns. A store function runs in the caller's transaction and writes exactly one
audit row per change; no password, SIP credential or token hash ever goes into one."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, insert, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import AuditEntry

Record = dict[str, Any]


@dataclass(frozen=True)
class Change:
    """What changed, as written to the audit log: ("queue", "general"), ("operator", "7")."""

    entity: str
    key: str


@dataclass(frozen=True)
class Outcome:
    record: Record | None  # None once deleted
    change: Change | None  # None when the request changed nothing
    created: bool = False


def plain(value: object) -> object:
    if isinstance(value, dt.date):  # a datetime too
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return value


def as_record(row: Row[*tuple[Any, ...]]) -> Record:
    return {key: plain(value) for key, value in row._mapping.items()}


def pick(record: Record, keys: tuple[str, ...]) -> Record:
    return {key: record[key] for key in keys}


async def one(conn: AsyncConnection, query: Select[*tuple[Any, ...]]) -> Record | None:
    row = (await conn.execute(query)).first()
    return None if row is None else as_record(row)


async def any_of(conn: AsyncConnection, *conditions: ColumnElement[bool]) -> bool:
    return bool(await conn.scalar(select(or_(*conditions))))


async def audit(
    conn: AsyncConnection,
    actor: str,
    action: str,
    entity: str,
    key: str,
    *,
    before: Record | None,
    after: Record | None,
) -> Change:
    await conn.execute(
        insert(AuditEntry).values(
            actor=actor, action=action, entity=entity, entity_id=key, before=before, after=after
        )
    )
    return Change(entity, key)


async def audit_entries(conn: AsyncConnection, limit: int) -> list[Record]:
    query = (
        select(
            AuditEntry.id,
            AuditEntry.at,
            AuditEntry.actor,
            AuditEntry.action,
            AuditEntry.entity,
            AuditEntry.entity_id,
            AuditEntry.before,
            AuditEntry.after,
        )
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    )
    return [as_record(row) for row in await conn.execute(query)]
