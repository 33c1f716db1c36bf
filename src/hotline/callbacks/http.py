"""Routes of callbacks: list them, ask for one (number, case, when), cancel one."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import read, reply
from hotline.api.routes import UUID, Query, Route
from hotline.callbacks import policy, store
from hotline.callbacks.scheduler import Scheduler
from hotline.calls.messages import Refused
from hotline.core.errors import Conflict, Invalid, NotFound
from hotline.core.phone import try_normalise
from hotline.core.words import Role

TAG = "callbacks"
Status = Literal["pending", "talked", "given_up", "cancelled"]


class CallbackBody(bodies.Body):
    number: Annotated[str, Field(pattern=r"^\+?[0-9][0-9 ()-]{2,20}$")]
    # JSON has no UUID or time type: these two are taken from their text forms
    case_id: Annotated[uuid.UUID, Field(strict=False)]
    due_at: Annotated[AwareDatetime, Field(strict=False)] | None = None  # default: now
    queue: bodies.QueueName | None = None  # default: the case's last call's queue, or general
    # A number that is none of the case's parties (its calls, elder, contacts): supervisors
    any_number: bool = False


class CallbackReply(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    case_number: int | None = None
    call_id: uuid.UUID | None = None
    number: str | None
    reason: str
    status: Status
    queue: str | None
    created_at: dt.datetime | None = None
    due_at: dt.datetime
    attempts: int
    max_attempts: int
    last_outcome: str | None = None
    done_at: dt.datetime | None = None
    done_by: int | None = None
    requested_by: str | None = None


def routes(engine: AsyncEngine, scheduler: Scheduler) -> list[Route]:
    async def listing(request: web.Request) -> web.Response:
        status = request.query.get("status")
        if status is not None and status not in ("pending", "talked", "given_up", "cancelled"):
            raise Invalid("status", "one of pending, talked, given_up, cancelled")
        limit = bodies.limit(request.query.get("limit"))
        who = principal(request)
        # an operator sees the callbacks of the cases they own (R14), not every number
        owner = (who.operator_id or -1) if who.role == "operator" else None
        return reply(
            await read(engine, lambda c: store.listed(c, status=status, limit=limit, owner=owner))
        )

    async def ask(request: web.Request) -> web.Response:
        who = principal(request)
        body = bodies.parse(CallbackBody, await request.read())
        number = try_normalise(body.number)
        if number is None or number.startswith("+"):
            raise Invalid("number", "not a number the carrier trunk can dial")
        async with engine.connect() as conn:
            case = await store.case_parties(conn, body.case_id)
            if case is None:
                raise Invalid("case_id", "no such case")
            policy.may_ask(who.role, who.operator_id, case, number, body.any_number)
            queue = body.queue or await store.case_queue(conn, body.case_id) or "general"
        if scheduler.queue_config(queue) is None:
            raise Invalid("queue", "no such queue")
        try:
            due = body.due_at.astimezone(dt.UTC) if body.due_at else dt.datetime.now(dt.UTC)
        except OverflowError:  # 0001-01-01T00:00+01:00 is before the first UTC day
            raise Invalid("due_at", "out of the range of dates") from None
        cb = scheduler.ask(
            case_id=body.case_id,
            number=number,
            queue=queue,
            due_at=due,
            by=who.name,
            owner=case.owner,  # offered to the case's owner first (R14)
        )
        created = CallbackReply(
            id=cb.callback_id,
            case_id=cb.case_id,
            number=cb.number,
            reason=cb.reason,
            status="pending",
            queue=cb.queue,
            due_at=cb.due_at,
            attempts=cb.attempt - 1,
            max_attempts=cb.max_attempts,
            requested_by=who.name,
        )
        return reply(created.model_dump(mode="json"), 201)

    async def cancel(request: web.Request) -> web.Response:
        callback_id = uuid.UUID(request.match_info["callback_id"])
        try:
            scheduler.cancel(callback_id, principal(request).name)
        except KeyError:
            raise NotFound("callback_id", "no pending callback with this id") from None
        except Refused as err:
            raise Conflict("callback_id", str(err)) from None
        return reply({"status": "cancelled"})

    roles: tuple[Role, ...] = ("admin", "supervisor", "operator")
    status_query = Query(
        "status",
        "only callbacks in this state",
        {"enum": ["pending", "talked", "given_up", "cancelled"]},
    )
    limit_query = Query("limit", "at most this many (1-1000, default 50)", {"type": "integer"})
    return [
        Route(
            "GET",
            "/api/callbacks",
            listing,
            "Callbacks, the latest due first",
            TAG,
            roles=roles,
            query=(status_query, limit_query),
            reply=list[CallbackReply],
            errors=(422,),
        ),
        Route(
            "POST",
            "/api/callbacks",
            ask,
            "Ask for a callback on a case you own (supervisors: any case): one of its parties'"
            " numbers, or any number with any_number (supervisors); never on a closed case",
            TAG,
            roles=roles,
            body=CallbackBody,
            reply=CallbackReply,
            status=201,
            errors=(403, 409, 422),
        ),
        Route(
            "POST",
            "/api/callbacks/{callback_id}/cancel",
            cancel,
            "Cancel a pending callback",
            TAG,
            roles=("admin", "supervisor"),
            params={"callback_id": UUID},
            reply=CancelReply,
            errors=(404, 409),
        ),
    ]


class CancelReply(BaseModel):
    status: Literal["cancelled"]
