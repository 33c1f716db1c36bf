"""What the owner of a case (or a supervisor) does with it, one transaction each, each a step
on the timeline naming who (R13, R14). The API and the console both call these.

Classify (R6), say whether reasonable (R7), note, close; and the actions that hand the case
on: a callback with its deadline (R15), a service order to a provider (R16), a referral to an
institution (R17), a complaint to a department with its deadline (R18).
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.api.auth import Principal
from hotline.cases import deadlines, handling, store
from hotline.core.errors import Conflict, Invalid, NotFound
from hotline.db.models import CaseTask
from hotline.directories import store as organisations
from hotline.workdays import WorkCalendar

Case = dict[str, Any]


async def acting(conn: AsyncConnection, case_id: uuid.UUID, who: Principal) -> Case:
    """The case, locked, once `who` may act on it (R14); a closed one refuses changes."""
    case = await store.case_for_change(conn, case_id)
    handling.may_act(who.role, who.operator_id, case["owner_operator_id"])
    return case


async def readable(conn: AsyncConnection, case_id: uuid.UUID, who: Principal) -> None:
    """A case's timeline and details: supervisors, admins and the case's owner (R14, R27);
    NotFound when there is no such case."""
    owner = await store.owner_of(conn, case_id)
    if owner is None:
        raise NotFound("case_id", "no such case")
    handling.may_act(who.role, who.operator_id, owner[0])


async def classify(
    conn: AsyncConnection,
    case_id: uuid.UUID,
    who: Principal,
    *,
    case_class: str | None,
    reasonable: bool | None,
    unreasonable_reason: str | None,
) -> Case:
    case = await acting(conn, case_id, who)
    handling.may_change(case["status"])
    wanted = handling.changes(case, case_class, reasonable, unreasonable_reason)
    if wanted:
        case = await store.update_case(conn, case["id"], wanted)
        await store.step(conn, case["id"], who.name, "classified", wanted)
    return case


async def note(conn: AsyncConnection, case_id: uuid.UUID, who: Principal, text: str) -> Case:
    case = await acting(conn, case_id, who)
    await store.step(conn, case["id"], who.name, "note", {"text": text})
    return case


async def close(
    conn: AsyncConnection, case_id: uuid.UUID, who: Principal, reason: str, now: dt.datetime
) -> Case:
    case = await acting(conn, case_id, who)
    handling.may_close(case["status"], case["class"])
    case = await store.update_case(
        conn, case["id"], {"status": "closed", "closed_at": now, "close_reason": reason}
    )
    await conn.execute(
        update(CaseTask)
        .where(CaseTask.case_id == case["id"], CaseTask.status == "open")
        .values(status="cancelled", done_at=now)
    )
    await store.step(conn, case["id"], who.name, "closed", {"reason": reason})
    return case


async def refer(conn: AsyncConnection, case_id: uuid.UUID, who: Principal, org_id: int) -> Case:
    """The institution the elder chose (R17); a case with no class yet becomes a referral."""
    case = await acting(conn, case_id, who)
    handling.may_change(case["status"])
    home = await organisations.get_organisation(conn, org_id)
    if home["kind"] != "institution" or not home["active"]:
        raise Invalid("org_id", "not an institution taking referrals")
    if case["class"] is None:
        case = await store.update_case(conn, case["id"], {"class": "referral"})
    detail = {"organisation_id": org_id, "name": home["name"]}
    await store.step(conn, case["id"], who.name, "referred", detail)
    return case


async def _task(
    conn: AsyncConnection,
    case: Case,
    kind: str,
    due_at: dt.datetime,
    now: dt.datetime,
    *,
    org_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A deadline on the case, owned by the case's first operator (R14)."""
    task_id = uuid.uuid4()
    await conn.execute(
        insert(CaseTask).values(
            id=task_id,
            case_id=case["id"],
            kind=kind,
            due_at=due_at,
            owner_operator_id=case["owner_operator_id"],
            created_at=now,
            org_id=org_id,
            detail=detail or {},
        )
    )
    return {"id": str(task_id), "kind": kind, "due_at": due_at.isoformat(), "org_id": org_id}


async def _organisation(conn: AsyncConnection, org_id: int, kinds: tuple[str, ...]) -> Case:
    org = await organisations.get_organisation(conn, org_id)
    if org["kind"] not in kinds or not org["active"]:
        raise Invalid("org_id", f"not an active {' or '.join(kinds)}")
    return org


async def service_order(
    conn: AsyncConnection,
    case_id: uuid.UUID,
    who: Principal,
    *,
    org_id: int,
    service: str,
    now: dt.datetime,
) -> dict[str, Any]:
    """A service order (派工单) to a provider, at once (R16); followed up after 3 days (R20).
    A case with no class yet is life help from now on."""
    case = await acting(conn, case_id, who)
    handling.may_change(case["status"])
    provider = await _organisation(conn, org_id, ("provider",))
    if case["class"] is None:
        case = await store.update_case(conn, case["id"], {"class": "life_help"})
    task = await _task(
        conn,
        case,
        "service_order",
        now + deadlines.SERVICE_FOLLOW_UP,
        now,
        org_id=org_id,
        detail={"service": service},
    )
    await store.update_case(conn, case["id"], {"status": "follow_up"})
    await store.step(
        conn,
        case["id"],
        who.name,
        "service_ordered",
        {"organisation_id": org_id, "name": provider["name"], "service": service, **task},
    )
    return task


async def complaint(
    conn: AsyncConnection,
    case_id: uuid.UUID,
    who: Principal,
    *,
    org_id: int,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    now: dt.datetime,
) -> dict[str, Any]:
    """Hand a complaint to the responsible department or provider with a deadline of 3
    working days, and a deadline of 3 working days to tell the caller (R18)."""
    case = await acting(conn, case_id, who)
    handling.may_change(case["status"])
    org = await _organisation(conn, org_id, ("department", "provider"))
    handle_by = deadlines.working_days(calendar, now, deadlines.COMPLAINT_DAYS, tz)
    reply_by = deadlines.working_days(calendar, now, deadlines.COMPLAINT_REPLY_DAYS, tz)
    if case["class"] is None:
        case = await store.update_case(conn, case["id"], {"class": "complaint"})
    handling_task = await _task(conn, case, "complaint_handling", handle_by, now, org_id=org_id)
    reply_task = await _task(conn, case, "complaint_reply", reply_by, now)
    detail = {
        "organisation_id": org_id,
        "name": org["name"],
        "due_at": handle_by.isoformat(),
        "reply_due_at": reply_by.isoformat(),
    }
    await store.step(conn, case["id"], who.name, "complaint_handed", detail)
    return {"handling": handling_task, "reply": reply_task}


async def callback(
    conn: AsyncConnection,
    case_id: uuid.UUID,
    who: Principal,
    *,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    now: dt.datetime,
) -> dict[str, Any]:
    """The caller will be called back within 1 working day (R15): the deadline on the case;
    the call itself is the callbacks feature's (scheduled by the caller of this)."""
    case = await acting(conn, case_id, who)
    handling.may_change(case["status"])
    open_task = await _open_callback(conn, case["id"])
    if open_task is not None:
        raise Conflict("case_id", "a callback is already due on this case")
    due = deadlines.working_days(calendar, now, deadlines.CALLBACK_DAYS, tz)
    task = await _task(conn, case, "callback", due, now, detail={"asked_at": now.isoformat()})
    await store.update_case(conn, case["id"], {"status": "callback_due"})
    await store.step(conn, case["id"], who.name, "callback_promised", task)
    return task


async def extend_callback(
    conn: AsyncConnection,
    case_id: uuid.UUID,
    who: Principal,
    *,
    days: int,
    reason: str,
    caller_told: bool,
    calendar: WorkCalendar,
    tz: ZoneInfo,
    now: dt.datetime,
) -> dict[str, Any]:
    """Once, to at most 10 working days from the request, with the reason and the caller
    told (R15)."""
    case = await acting(conn, case_id, who)
    handling.may_change(case["status"])
    task = await _open_callback(conn, case["id"])
    if task is None:
        raise Conflict("case_id", "no callback is due on this case")
    if not caller_told:
        raise Invalid("caller_told", "tell the caller before extending the callback (R15)")
    refused = deadlines.extension_allowed(days, task["extensions"])
    if refused is not None:
        raise Invalid("days", refused)
    asked = task["created_at"]
    due = deadlines.working_days(calendar, asked, days, tz)
    await conn.execute(
        update(CaseTask)
        .where(CaseTask.id == task["id"])
        # a new due time: warned and escalated afresh (deadlines/watch.py)
        .values(due_at=due, extensions=task["extensions"] + 1, warned_at=None, escalated_at=None)
    )
    detail = {
        "task_id": str(task["id"]),
        "due_at": due.isoformat(),
        "was_due_at": task["due_at"].isoformat(),
        "days": days,
        "reason": reason,
        "caller_told": True,
    }
    await store.step(conn, case["id"], who.name, "callback_extended", detail)
    return detail


async def _open_callback(conn: AsyncConnection, case_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        await conn.execute(
            select(CaseTask.id, CaseTask.due_at, CaseTask.created_at, CaseTask.extensions)
            .where(
                CaseTask.case_id == case_id,
                CaseTask.kind == "callback",
                CaseTask.status == "open",
            )
            .with_for_update()
        )
    ).first()
    return None if row is None else dict(row._mapping)


async def tasks_of(conn: AsyncConnection, case_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await conn.execute(
        select(
            CaseTask.id,
            CaseTask.kind,
            CaseTask.due_at,
            CaseTask.status,
            CaseTask.org_id,
            CaseTask.owner_operator_id,
            CaseTask.extensions,
            CaseTask.detail,
        )
        .where(CaseTask.case_id == case_id)
        .order_by(CaseTask.due_at)
    )
    return [dict(r._mapping) for r in rows]
