"""Routes of calls: the latest calls."""

from __future__ import annotations

import datetime as dt
import uuid

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.replies import read, reply
from hotline.api.routes import Query, Route
from hotline.calls import store

TAG = "calls"


class CallReply(BaseModel):
    id: uuid.UUID
    started_at: dt.datetime
    entry: str
    caller_kind: str | None
    elder_id: int | None
    answered_at: dt.datetime | None
    ended_at: dt.datetime | None
    ended_by: str | None
    end_cause: int | None
    case_number: int | None


def routes(engine: AsyncEngine) -> list[Route]:
    async def calls(request: web.Request) -> web.Response:
        limit = bodies.limit(request.query.get("limit"))
        return reply(await read(engine, lambda c: store.recent_calls(c, limit)))

    limit = Query("limit", "at most this many (1-1000, default 50)", {"type": "integer"})
    return [
        Route(
            "GET",
            "/api/calls",
            calls,
            "The latest calls",
            TAG,
            query=(limit,),
            reply=list[CallReply],
            errors=(422,),
        ),
    ]
