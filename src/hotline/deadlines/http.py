"""Routes of deadlines: the open ones (due soon, overdue), a task done, and the working-day
calendar's local exceptions (admins; audited)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import OnChange, change, outcome_reply, read, reply
from hotline.api.routes import UUID, PathParam, Query, Route
from hotline.cases import actions
from hotline.core.errors import Invalid, NotFound
from hotline.db.audit import Outcome
from hotline.deadlines import store

TAG = "deadlines"
DAY = PathParam(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date, YYYY-MM-DD")
STATE = Query("state", "open (default), due_soon or overdue", {"type": "string"})
States = ("open", "due_soon", "overdue")


class DeadlineReply(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    case_number: int
    kind: str
    due_at: dt.datetime
    owner_operator_id: int | None
    warned_at: dt.datetime | None
    escalated_at: dt.datetime | None


class DoneReply(BaseModel):
    case_id: uuid.UUID
    task_id: uuid.UUID
    kind: str
    kept: bool | None


class ExceptionBody(bodies.Body):
    kind: Literal["holiday", "workday"]
    note: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class NewExceptionBody(ExceptionBody):
    day: Annotated[dt.date, Field(strict=False)]  # "2026-12-31"


class ExceptionReply(BaseModel):
    day: dt.date
    kind: str
    note: str | None


def _day(request: web.Request) -> dt.date:
    try:
        return dt.date.fromisoformat(request.match_info["day"])
    except ValueError:
        raise NotFound("day", "no such day") from None


def routes(engine: AsyncEngine, on_change: OnChange) -> list[Route]:
    async def listing(request: web.Request) -> web.Response:
        """Supervisors see everyone's; an operator their own."""
        state = request.query.get("state", "open")
        if state not in States:
            raise Invalid("state", "open, due_soon or overdue")
        who = principal(request)
        mine = who.operator_id if who.role == "operator" else None
        now = dt.datetime.now(dt.UTC)
        return reply(
            await read(engine, lambda c: store.listed(c, now=now, state=state, operator_id=mine))
        )

    async def done(request: web.Request) -> web.Response:
        task_id = uuid.UUID(request.match_info["task_id"])
        who = principal(request)
        async with engine.begin() as conn:
            found = await store.task_case(conn, task_id)
            if found is None:
                raise NotFound("task_id", "no such task")
            await actions.acting(conn, found[0], who)  # the case's owner or a supervisor
            result = await store.done(conn, task_id, who.name, dt.datetime.now(dt.UTC))
        if result is None:
            raise Invalid("task_id", "the task is not open")
        return reply(result)

    async def calendar(request: web.Request) -> web.Response:
        return reply(await read(engine, store.exceptions))

    async def create(request: web.Request) -> web.Response:
        actor = principal(request).name
        body = bodies.parse(NewExceptionBody, await request.read())
        return outcome_reply(
            await change(
                engine,
                on_change,
                lambda c: store.create_exception(c, actor, body.day, body.kind, body.note),
            )
        )

    async def put(request: web.Request) -> web.Response:
        actor, day = principal(request).name, _day(request)
        body = bodies.parse(ExceptionBody, await request.read())
        return outcome_reply(
            await change(
                engine,
                on_change,
                lambda c: store.update_exception(c, actor, day, body.kind, body.note),
            )
        )

    async def remove(request: web.Request) -> web.Response:
        actor, day = principal(request).name, _day(request)

        async def gone(conn: AsyncConnection) -> Outcome:
            outcome = await store.delete_exception(conn, actor, day)
            if outcome is None:
                raise NotFound("day", "no local exception on this day")
            return outcome

        return outcome_reply(await change(engine, on_change, gone))

    return [
        Route(
            "GET",
            "/api/deadlines",
            listing,
            "Open deadlines on cases, soonest first: all, due soon or overdue",
            TAG,
            query=(STATE,),
            reply=list[DeadlineReply],
            errors=(422,),
        ),
        Route(
            "POST",
            "/api/case-tasks/{task_id}/done",
            done,
            "A deadline's task done (kept if by its due time): the case's owner or a supervisor",
            TAG,
            roles=("admin", "supervisor", "operator"),
            params={"task_id": UUID},
            reply=DoneReply,
            errors=(403, 404, 422),
        ),
        Route(
            "GET",
            "/api/calendar/exceptions",
            calendar,
            "The centre's own days off and days worked, beside the official calendar",
            TAG,
            reply=list[ExceptionReply],
        ),
        Route(
            "POST",
            "/api/calendar/exceptions",
            create,
            "A local day off (holiday) or day worked (workday); audited",
            TAG,
            roles=("admin",),
            body=NewExceptionBody,
            reply=ExceptionReply,
            status=201,
            errors=(409, 422),
        ),
        Route(
            "PUT",
            "/api/calendar/exceptions/{day}",
            put,
            "Change a local exception; audited",
            TAG,
            roles=("admin",),
            params={"day": DAY},
            body=ExceptionBody,
            reply=ExceptionReply,
            errors=(404, 422),
        ),
        Route(
            "DELETE",
            "/api/calendar/exceptions/{day}",
            remove,
            "Remove a local exception; audited",
            TAG,
            roles=("admin",),
            params={"day": DAY},
            status=204,
            errors=(404,),
        ),
    ]
