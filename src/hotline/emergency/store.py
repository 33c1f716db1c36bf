"""The emergency feature's tables: what a conference needs to know of an elder, what a case
shows of its emergency, and the set-up admins edit (120's routes, the parties of R10)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.core.errors import Conflict, Invalid, NotFound
from hotline.db.audit import Outcome, Record, as_record, audit, one
from hotline.db.models import (
    Alarm,
    CaseRecording,
    CaseTask,
    Contact,
    Elder,
    EmergencyLeg,
    EmergencyParty,
    EmergencyRoute,
)
from hotline.emergency.plan import Contact as Reach
from hotline.emergency.plan import Facts, OtherParty, routes_for
from hotline.speech.summary import ElderFacts, age_on


async def facts_for(
    conn: AsyncConnection, elder_id: int | None, *, default_route: str, today: dt.date
) -> Facts:
    """An elder's facts for an emergency; an unknown elder gets 120's default route only."""
    table = {
        row.area: (row.ambulance, row.ambulance_alt)
        for row in await conn.execute(select(EmergencyRoute))
    }
    elder = None
    if elder_id is not None:
        elder = (await conn.execute(select(Elder).where(Elder.id == elder_id))).first()
    if elder is None:
        return Facts(None, routes=routes_for(None, table, default_route))
    e = elder
    contacts = [
        Reach(c.id, c.relation, c.tier, c.number)
        for c in await conn.execute(select(Contact).where(Contact.elder_id == elder_id))
    ]
    scope = [EmergencyParty.elder_id == elder_id]
    if e.district:
        scope.append(EmergencyParty.area == e.district)
    parties = [
        OtherParty(p.role, p.name, p.number, p.mode)
        for p in await conn.execute(
            select(EmergencyParty).where(or_(*scope)).order_by(EmergencyParty.id)
        )
    ]
    about = ElderFacts(
        full_name=e.full_name,
        age=age_on(e.birth_date, today),
        address=e.address,
        district=e.district,
        health_conditions=e.health_conditions,
        medication=e.medication,
        living_situation=e.living_situation,
    )
    return Facts(
        elder_id,
        high_risk=bool(e.high_risk),
        district=e.district,
        contacts=tuple(contacts),
        parties=tuple(parties),
        routes=routes_for(e.district, table, default_route),
        about=about,
    )


async def case_emergency(conn: AsyncConnection, case_id: uuid.UUID) -> dict[str, Any]:
    """Everything a case shows of its emergency: legs, recordings, tasks, alarm data."""
    legs = await conn.execute(
        select(
            EmergencyLeg.id,
            EmergencyLeg.role,
            EmergencyLeg.label,
            EmergencyLeg.number,
            EmergencyLeg.tier,
            EmergencyLeg.attempt,
            EmergencyLeg.dialled_at,
            EmergencyLeg.answered_at,
            EmergencyLeg.acknowledged_at,
            EmergencyLeg.left_at,
            EmergencyLeg.end_cause,
            EmergencyLeg.end_reason,
        )
        .where(EmergencyLeg.case_id == case_id)
        .order_by(EmergencyLeg.dialled_at.nulls_first(), EmergencyLeg.id)
    )
    recordings = await conn.execute(
        select(CaseRecording.name, CaseRecording.started_at, CaseRecording.stopped_at)
        .where(CaseRecording.case_id == case_id)
        .order_by(CaseRecording.started_at)
    )
    tasks = await conn.execute(
        select(
            CaseTask.id,
            CaseTask.kind,
            CaseTask.due_at,
            CaseTask.owner_operator_id,
            CaseTask.status,
        )
        .where(CaseTask.case_id == case_id)
        .order_by(CaseTask.due_at)
    )
    alarms = await conn.execute(
        select(
            Alarm.id,
            Alarm.received_at,
            Alarm.ref,
            Alarm.device_type,
            Alarm.device_id,
            Alarm.status_code,
            Alarm.alarm_type,
            Alarm.priority,
            Alarm.location_code,
            Alarm.location_text,
            Alarm.latitude,
            Alarm.longitude,
        )
        .where(Alarm.case_id == case_id)
        .order_by(Alarm.received_at)
    )
    leg_rows = [dict(r._mapping) for r in legs]
    return {
        "case_id": case_id,
        "legs": leg_rows,
        "ambulance_reached": any(
            r["role"] == "ambulance" and r["answered_at"] is not None for r in leg_rows
        ),
        "acknowledged": [
            {"role": r["role"], "label": r["label"], "at": r["acknowledged_at"]}
            for r in leg_rows
            if r["acknowledged_at"] is not None
        ],
        "recordings": [dict(r._mapping) for r in recordings],
        "tasks": [dict(r._mapping) for r in tasks],
        "alarms": [dict(r._mapping) for r in alarms],
    }


async def recording_case(
    conn: AsyncConnection, name: str
) -> tuple[uuid.UUID, dt.datetime | None] | None:
    """(its case, when it was purged or None), or None: no such recording."""
    row = (
        await conn.execute(
            select(CaseRecording.case_id, CaseRecording.purged_at).where(CaseRecording.name == name)
        )
    ).first()
    return None if row is None else (row[0], row[1])


# --- the set-up admins edit (audited) -------------------------------------------------------

_ROUTE_COLUMNS = (EmergencyRoute.area, EmergencyRoute.ambulance, EmergencyRoute.ambulance_alt)
_PARTY_COLUMNS = (
    EmergencyParty.id,
    EmergencyParty.area,
    EmergencyParty.elder_id,
    EmergencyParty.role,
    EmergencyParty.name,
    EmergencyParty.number,
    EmergencyParty.mode,
)


async def list_routes(conn: AsyncConnection) -> list[Record]:
    rows = await conn.execute(select(*_ROUTE_COLUMNS).order_by(EmergencyRoute.area))
    return [as_record(r) for r in rows]


async def create_route(
    conn: AsyncConnection, actor: str, area: str, ambulance: str, alt: str | None
) -> Outcome:
    after = {"area": area, "ambulance": ambulance, "ambulance_alt": alt}
    query = (
        pg_insert(EmergencyRoute)
        .values(area=area, ambulance=ambulance, ambulance_alt=alt)
        .on_conflict_do_nothing()
        .returning(EmergencyRoute.area)
    )
    if (await conn.execute(query)).first() is None:
        raise Conflict("area", "this area has a route: change it with PUT")
    change = await audit(conn, actor, "create", "emergency_route", area, before=None, after=after)
    return Outcome(after, change, created=True)


async def update_route(
    conn: AsyncConnection, actor: str, area: str, ambulance: str, alt: str | None
) -> Outcome:
    before = await one(
        conn, select(*_ROUTE_COLUMNS).where(EmergencyRoute.area == area).with_for_update()
    )
    if before is None:
        raise NotFound("area", "no route for this area")
    after = {"area": area, "ambulance": ambulance, "ambulance_alt": alt}
    if before == after:
        return Outcome(before, None)
    await conn.execute(
        update(EmergencyRoute)
        .where(EmergencyRoute.area == area)
        .values(ambulance=ambulance, ambulance_alt=alt, updated_at=func.now())
    )
    change = await audit(conn, actor, "update", "emergency_route", area, before=before, after=after)
    return Outcome(after, change)


async def delete_route(conn: AsyncConnection, actor: str, area: str) -> Outcome:
    before = await one(conn, select(*_ROUTE_COLUMNS).where(EmergencyRoute.area == area))
    if before is None:
        raise NotFound("area", "no route for this area")
    await conn.execute(delete(EmergencyRoute).where(EmergencyRoute.area == area))
    change = await audit(conn, actor, "delete", "emergency_route", area, before=before, after=None)
    return Outcome(None, change)


async def list_parties(conn: AsyncConnection) -> list[Record]:
    rows = await conn.execute(select(*_PARTY_COLUMNS).order_by(EmergencyParty.id))
    return [as_record(r) for r in rows]


async def create_party(conn: AsyncConnection, actor: str, values: Record) -> Outcome:
    if values.get("elder_id") is not None and not await conn.scalar(
        select(Elder.id).where(Elder.id == values["elder_id"])
    ):
        raise Invalid("elder_id", "no such elder")
    row = (
        await conn.execute(insert(EmergencyParty).values(**values).returning(*_PARTY_COLUMNS))
    ).first()
    assert row is not None
    record = as_record(row)
    change = await audit(
        conn, actor, "create", "emergency_party", str(record["id"]), before=None, after=record
    )
    return Outcome(record, change, created=True)


async def delete_party(conn: AsyncConnection, actor: str, party_id: int) -> Outcome:
    before = await one(conn, select(*_PARTY_COLUMNS).where(EmergencyParty.id == party_id))
    if before is None:
        raise NotFound("id", "no such party")
    await conn.execute(delete(EmergencyParty).where(EmergencyParty.id == party_id))
    change = await audit(
        conn, actor, "delete", "emergency_party", str(party_id), before=before, after=None
    )
    return Outcome(None, change)
