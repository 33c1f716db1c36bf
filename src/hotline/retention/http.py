"""Routes of retention: the periods and the last purge, a purge now (admins), and the legal
hold on a case (supervisors and admins), each audited."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, StringConstraints
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import reply
from hotline.api.routes import UUID, Route
from hotline.core.errors import NotFound
from hotline.retention import store
from hotline.retention.job import RetentionJob

TAG = "retention"


class HoldBody(bodies.Body):
    hold: bool
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class HoldReply(BaseModel):
    case_id: uuid.UUID
    hold: bool


class PurgeReply(BaseModel):
    at: dt.datetime
    by: str
    recordings: int
    access_rows: int
    sessions: int
    problems: list[str]


class RetentionReply(BaseModel):
    recordings_days: int
    access_days: int
    sessions_days: int
    next_run: dt.datetime
    last: PurgeReply | None


def routes(engine: AsyncEngine, job: RetentionJob) -> list[Route]:
    async def show(_request: web.Request) -> web.Response:
        periods = job.periods
        return reply(
            {
                "recordings_days": periods.recordings_days,
                "access_days": periods.access_days,
                "sessions_days": periods.sessions_days,
                "next_run": job.next_run().isoformat(),
                "last": job.last.shown() if job.last else None,
            }
        )

    async def run(request: web.Request) -> web.Response:
        return reply((await job.purge(principal(request).name)).shown())

    async def hold(request: web.Request) -> web.Response:
        case_id = uuid.UUID(request.match_info["case_id"])
        body = bodies.parse(HoldBody, await request.read())
        async with engine.begin() as conn:
            held = await store.set_hold(
                conn, case_id, body.hold, principal(request).name, body.reason
            )
        if held is None:
            raise NotFound("case_id", "no such case")
        return reply({"case_id": str(case_id), "hold": held})

    return [
        Route(
            "GET",
            "/api/retention",
            show,
            "How long recordings, the access log and console sessions are kept; the last purge",
            TAG,
            roles=("admin",),
            reply=RetentionReply,
        ),
        Route(
            "POST",
            "/api/retention/run",
            run,
            "Purge now what is past its period (cases on hold keep theirs); each purge audited",
            TAG,
            roles=("admin",),
            reply=PurgeReply,
        ),
        Route(
            "PUT",
            "/api/cases/{case_id}/hold",
            hold,
            "Put a case under a legal hold, or lift it: its recordings and access rows stay",
            TAG,
            roles=("admin", "supervisor"),
            params={"case_id": UUID},
            body=HoldBody,
            reply=HoldReply,
            errors=(404, 422),
        ),
    ]
