"""Routes of cases: the latest cases and one case's timeline."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.replies import read, reply
from hotline.api.routes import UUID, Query, Route
from hotline.cases import store
from hotline.core.errors import NotFound

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

    return [
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
