"""Organisations in PostgreSQL, as the admin API changes them; one audit row per change."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.core.errors import Conflict, NotFound
from hotline.db.audit import Outcome, Record, as_record, audit, one, pick
from hotline.db.models import Organisation
from hotline.directories.schemas import OrganisationBody

_COLUMNS = (
    Organisation.id,
    Organisation.kind,
    Organisation.name,
    Organisation.person_in_charge,
    Organisation.phone,
    Organisation.address,
    Organisation.district,
    Organisation.services,
    Organisation.grade,
    Organisation.floor_area_m2,
    Organisation.member,
    Organisation.active,
    Organisation.checked_on,
    Organisation.updated_at,
)
_AUDIT = tuple(c.key for c in _COLUMNS if c.key not in ("id", "updated_at"))


async def list_organisations(conn: AsyncConnection, kind: str | None) -> list[Record]:
    query = select(*_COLUMNS).order_by(Organisation.kind, Organisation.name)
    if kind is not None:
        query = query.where(Organisation.kind == kind)
    return [as_record(row) for row in await conn.execute(query)]


async def get_organisation(conn: AsyncConnection, org_id: int, *, lock: bool = False) -> Record:
    query = select(*_COLUMNS).where(Organisation.id == org_id)
    record = await one(conn, query.with_for_update() if lock else query)
    if record is None:
        raise NotFound("org_id", "no such organisation")
    return record


async def create_organisation(conn: AsyncConnection, actor: str, body: OrganisationBody) -> Outcome:
    query = (
        pg_insert(Organisation)
        .values(**body.model_dump())
        .on_conflict_do_nothing()
        .returning(*_COLUMNS)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise Conflict("name", f"a {body.kind} with this name exists")
    record = as_record(row)
    change = await audit(
        conn,
        actor,
        "create",
        "organisation",
        str(record["id"]),
        before=None,
        after=pick(record, _AUDIT),
    )
    return Outcome(record, change, created=True)


async def update_organisation(
    conn: AsyncConnection, actor: str, before: Record, body: OrganisationBody
) -> Outcome:
    values = {k: v for k, v in body.model_dump().items() if v != before[k]}
    if not values:
        return Outcome(before, None)
    if "name" in values and await conn.scalar(
        select(Organisation.id).where(
            Organisation.kind == body.kind,
            Organisation.name == body.name,
            Organisation.id != before["id"],
        )
    ):
        raise Conflict("name", f"a {body.kind} with this name exists")
    return await _update(conn, actor, before, values)


async def mark_checked(conn: AsyncConnection, actor: str, before: Record, day: dt.date) -> Outcome:
    """The record was checked today (R23): due again a month or three months on."""
    return await _update(conn, actor, before, {"checked_on": day})


async def _update(
    conn: AsyncConnection, actor: str, before: Record, values: dict[str, object]
) -> Outcome:
    query = (
        update(Organisation)
        .where(Organisation.id == before["id"])
        .values(**values, updated_at=func.now())
        .returning(*_COLUMNS)
    )
    record = as_record((await conn.execute(query)).one())
    change = await audit(
        conn,
        actor,
        "update",
        "organisation",
        str(record["id"]),
        before=pick(before, _AUDIT),
        after=pick(record, _AUDIT),
    )
    return Outcome(record, change)


async def delete_organisation(conn: AsyncConnection, actor: str, org_id: int) -> Outcome:
    before = await get_organisation(conn, org_id, lock=True)
    await conn.execute(delete(Organisation).where(Organisation.id == org_id))
    change = await audit(
        conn, actor, "delete", "organisation", str(org_id), before=pick(before, _AUDIT), after=None
    )
    return Outcome(None, change)
