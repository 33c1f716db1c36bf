"""Routes of deadlines: the open ones (due soon, overdue), and a task done. (The working-day
calendar's routes are hotline.calendars'.)"""

from __future__ import annotations

import datetime as dt
import uuid

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api.auth import principal
from hotline.api.replies import read, reply
from hotline.api.routes import UUID, PathParam, Query, Route
from hotline.cases import actions
from hotline.core.errors import Invalid, NotFound
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


def routes(engine: AsyncEngine) -> list[Route]:
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
    ]
