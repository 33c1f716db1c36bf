"""A callback promised on a case (R15): the deadline of 1 working day on the case (and its
one extension, to at most 10 working days, the caller told), and the call itself queued for
the deadline's morning through the scheduler."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.auth import Principal, principal
from hotline.api.replies import reply
from hotline.api.routes import Route
from hotline.callbacks.policy import may_ask
from hotline.callbacks.scheduler import Scheduler
from hotline.callbacks.store import case_parties, case_queue
from hotline.cases import actions, store
from hotline.cases.deadlines import NoDeadline, no_deadline
from hotline.cases.routing import case_action, case_id_of
from hotline.cases.schemas import (
    CallbackExtendBody,
    CallbackExtended,
    CallbackPromiseBody,
    CallbackPromised,
)
from hotline.core.phone import try_normalise
from hotline.workdays import WorkCalendar


async def promise_callback(
    engine: AsyncEngine,
    scheduler: Scheduler | None,
    case_id: uuid.UUID,
    who: Principal,
    number: str | None,
    *,
    calendar: WorkCalendar,
    tz: ZoneInfo,
) -> dict[str, Any]:
    """The deadline on the case, and the call itself queued for the deadline's morning (or
    at once when that has passed) through the callbacks feature."""
    now = dt.datetime.now(dt.UTC)
    try:
        async with engine.begin() as conn:
            task = await actions.callback(conn, case_id, who, calendar=calendar, tz=tz, now=now)
            if number is not None:  # another of the case's numbers: its own parties only
                parties = await case_parties(conn, case_id)
                if parties is not None:
                    wanted = try_normalise(number) or number
                    may_ask(who.role, who.operator_id, parties, wanted, who.role != "operator")
            dial = number or await store.case_number(conn, case_id)
            queue = await case_queue(conn, case_id) or "general"
            owner = await store.owner_of(conn, case_id)
    except NoDeadline as err:
        raise no_deadline(err) from None
    due = dt.datetime.fromisoformat(task["due_at"])
    morning = dt.datetime.combine(due.astimezone(tz).date(), dt.time(9, 0), tzinfo=tz)
    at = max(now, morning.astimezone(dt.UTC))
    dial = try_normalise(dial) if dial else None
    if scheduler is not None and dial is not None and not dial.startswith("+"):
        scheduler.ask(
            case_id=case_id,
            number=dial,
            queue=queue,
            due_at=at,
            by=who.name,
            owner=None if owner is None else owner[0],  # the promise is the owner's (R14)
        )
        task["call_at"] = at.isoformat()
    return task


def routes(
    engine: AsyncEngine, tz: ZoneInfo, calendar: WorkCalendar, scheduler: Scheduler
) -> list[Route]:
    async def callback(request: web.Request) -> web.Response:
        body = bodies.parse(CallbackPromiseBody, await request.read())
        task = await promise_callback(
            engine,
            scheduler,
            case_id_of(request),
            principal(request),
            body.number,
            calendar=calendar,
            tz=tz,
        )
        return reply(task, 201)

    async def extend(request: web.Request) -> web.Response:
        body = bodies.parse(CallbackExtendBody, await request.read())
        try:
            async with engine.begin() as conn:
                done = await actions.extend_callback(
                    conn,
                    case_id_of(request),
                    principal(request),
                    days=body.days,
                    reason=body.reason,
                    caller_told=body.caller_told,
                    calendar=calendar,
                    tz=tz,
                    now=dt.datetime.now(dt.UTC),
                )
        except NoDeadline as err:
            raise no_deadline(err) from None
        return reply(done)

    return [
        case_action(
            "/callback",
            callback,
            "Promise a callback within 1 working day (R15); the call is queued for then",
            CallbackPromiseBody,
            CallbackPromised,
        ),
        case_action(
            "/callback/extend",
            extend,
            "Extend the callback once, to at most 10 working days, the caller told (R15)",
            CallbackExtendBody,
            CallbackExtended,
            status=200,
        ),
    ]
