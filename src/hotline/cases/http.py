"""Routes of cases: the latest cases, one case's timeline, and handling a case: its class
(R6), whether it is reasonable (R7), notes, closing it. Each is a timeline step naming who."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import read, reply
from hotline.api.routes import UUID, Query, Route
from hotline.cases import handling, store
from hotline.core.errors import NotFound
from hotline.core.words import Role

TAG = "cases"
LIMIT = Query("limit", "at most this many (1-1000, default 50)", {"type": "integer"})


class CaseReply(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    number: int
    opened_at: dt.datetime
    case_class: str | None = Field(alias="class")
    status: str
    channel: str
    elder_id: int | None
    identified: bool
    steps: int


class TimelineEntry(BaseModel):
    at: dt.datetime
    actor: str
    kind: str
    detail: dict[str, Any]


CaseClass = Literal[
    "emergency",
    "consultation_service",
    "consultation_affairs",
    "consultation_legal",
    "consultation_other",
    "life_help",
    "referral",
    "complaint",
]
Text = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000), bodies.Storable
]


class CaseBody(bodies.Body):
    """What the operator says of a case: its class (R6), whether it is reasonable (R7)."""

    case_class: CaseClass | None = Field(default=None, alias="class")
    reasonable: bool | None = None
    unreasonable_reason: bodies.Reason | None = None

    @model_validator(mode="after")
    def _why_not(self) -> CaseBody:
        if self.reasonable is False and self.unreasonable_reason is None:
            raise ValueError("unreasonable_reason: say why the request is not reasonable (R7)")
        if self.reasonable is not False and self.unreasonable_reason is not None:
            raise ValueError("unreasonable_reason: only for a request that is not reasonable")
        return self


class NoteBody(bodies.Body):
    text: Text


class CloseBody(bodies.Body):
    reason: bodies.Reason


class CaseDetailReply(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: uuid.UUID
    number: int
    status: str
    case_class: str | None = Field(alias="class")
    reasonable: bool | None
    unreasonable_reason: str | None
    owner_operator_id: int | None
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    close_reason: str | None


def routes(engine: AsyncEngine) -> list[Route]:
    async def cases(request: web.Request) -> web.Response:
        limit = bodies.limit(request.query.get("limit"))
        return reply(await read(engine, lambda c: store.recent_cases(c, limit)))

    async def timeline(request: web.Request) -> web.Response:
        case_id = uuid.UUID(request.match_info["case_id"])
        async with engine.connect() as conn:
            if not await store.case_exists(conn, case_id):
                raise NotFound("case_id", "no such case")
            return reply(await store.case_timeline(conn, case_id))

    async def acting(request: web.Request, conn: AsyncConnection) -> tuple[dict[str, Any], str]:
        """The case (locked) and who acts on it, once they may (R14)."""
        case = await store.case_for_change(conn, uuid.UUID(request.match_info["case_id"]))
        who = principal(request)
        handling.may_act(who.role, who.operator_id, case["owner_operator_id"])
        return case, who.name

    async def change_case(request: web.Request) -> web.Response:
        body = bodies.parse(CaseBody, await request.read())
        async with engine.begin() as conn:
            case, actor = await acting(request, conn)
            handling.may_change(case["status"])
            wanted = handling.changes(
                case, body.case_class, body.reasonable, body.unreasonable_reason
            )
            if wanted:
                case = await store.update_case(conn, case["id"], wanted)
                await store.step(conn, case["id"], actor, "classified", wanted)
        return reply(case)

    async def note(request: web.Request) -> web.Response:
        body = bodies.parse(NoteBody, await request.read())
        async with engine.begin() as conn:
            case, actor = await acting(request, conn)
            await store.step(conn, case["id"], actor, "note", {"text": body.text})
        return reply(case, 201)

    async def close(request: web.Request) -> web.Response:
        body = bodies.parse(CloseBody, await request.read())
        async with engine.begin() as conn:
            case, actor = await acting(request, conn)
            handling.may_close(case["status"], case["class"])
            case = await store.update_case(
                conn,
                case["id"],
                {
                    "status": "closed",
                    "closed_at": dt.datetime.now(dt.UTC),
                    "close_reason": body.reason,
                },
            )
            await store.step(conn, case["id"], actor, "closed", {"reason": body.reason})
        return reply(case)

    handlers: tuple[Role, ...] = ("admin", "supervisor", "operator")
    one = {"case_id": UUID}
    return [
        Route(
            "PATCH",
            "/api/cases/{case_id}",
            change_case,
            "Classify a case (R6) and say whether the request is reasonable (R7)",
            TAG,
            roles=handlers,
            params=one,
            body=CaseBody,
            reply=CaseDetailReply,
            errors=(403, 404, 409, 422),
        ),
        Route(
            "POST",
            "/api/cases/{case_id}/notes",
            note,
            "Add a note to a case's timeline",
            TAG,
            roles=handlers,
            params=one,
            body=NoteBody,
            reply=CaseDetailReply,
            status=201,
            errors=(403, 404, 422),
        ),
        Route(
            "POST",
            "/api/cases/{case_id}/close",
            close,
            "Close a case with a reason (a request that comes back is a new case, R20)",
            TAG,
            roles=handlers,
            params=one,
            body=CloseBody,
            reply=CaseDetailReply,
            errors=(403, 404, 409, 422),
        ),
        Route(
            "GET",
            "/api/cases",
            cases,
            "The latest cases",
            TAG,
            query=(LIMIT,),
            reply=list[CaseReply],
            errors=(422,),
        ),
        Route(
            "GET",
            "/api/cases/{case_id}/timeline",
            timeline,
            "Every step of one case, in order",
            TAG,
            params={"case_id": UUID},
            reply=list[TimelineEntry],
        ),
    ]
