"""Routes of cases: the latest cases, one case's timeline, and handling a case: its class
(R6), whether it is reasonable (R7), notes, closing it. Each is a timeline step naming who."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.reads import logged
from hotline.api.replies import read, reply
from hotline.api.routes import UUID, Route
from hotline.cases import actions, orders_http, store
from hotline.cases.routing import case_id_of
from hotline.cases.schemas import (
    HANDLERS,
    LIMIT,
    ONE,
    TAG,
    CaseBody,
    CaseDetailReply,
    CaseReply,
    CloseBody,
    NoteBody,
    TimelineEntry,
)
from hotline.workdays import WorkCalendar


def routes(engine: AsyncEngine, tz: ZoneInfo, calendar: WorkCalendar) -> list[Route]:
    return [*_reads(engine), *_handling(engine), *orders_http.routes(engine, tz, calendar)]


def _reads(engine: AsyncEngine) -> list[Route]:
    async def cases(request: web.Request) -> web.Response:
        limit = bodies.limit(request.query.get("limit"))
        who = principal(request)
        # an operator lists the cases they own (R14, R27); supervisors and admins every case
        owner = (who.operator_id or -1) if who.role == "operator" else None
        return reply(await read(engine, lambda c: store.recent_cases(c, limit, owner)))

    async def timeline(request: web.Request) -> web.Response:
        case_id = uuid.UUID(request.match_info["case_id"])
        who = principal(request)
        async with engine.begin() as conn:
            await actions.readable(conn, case_id, who)
            await logged(conn, who, "timeline", case_id=case_id)
            return reply(await store.case_timeline(conn, case_id))

    return [
        Route(
            "GET",
            "/api/cases",
            cases,
            "The latest cases (an operator: the cases they own)",
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
            errors=(403, 404),
        ),
    ]


def _handling(engine: AsyncEngine) -> list[Route]:
    async def change_case(request: web.Request) -> web.Response:
        body = bodies.parse(CaseBody, await request.read())
        async with engine.begin() as conn:
            case = await actions.classify(
                conn,
                case_id_of(request),
                principal(request),
                case_class=body.case_class,
                reasonable=body.reasonable,
                unreasonable_reason=body.unreasonable_reason,
            )
        return reply(case)

    async def note(request: web.Request) -> web.Response:
        body = bodies.parse(NoteBody, await request.read())
        async with engine.begin() as conn:
            case = await actions.note(conn, case_id_of(request), principal(request), body.text)
        return reply(case, 201)

    async def close(request: web.Request) -> web.Response:
        body = bodies.parse(CloseBody, await request.read())
        now = dt.datetime.now(dt.UTC)
        async with engine.begin() as conn:
            case = await actions.close(
                conn, case_id_of(request), principal(request), body.reason, now
            )
        return reply(case)

    return [
        Route(
            "PATCH",
            "/api/cases/{case_id}",
            change_case,
            "Classify a case (R6) and say whether the request is reasonable (R7)",
            TAG,
            roles=HANDLERS,
            params=ONE,
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
            roles=HANDLERS,
            params=ONE,
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
            roles=HANDLERS,
            params=ONE,
            body=CloseBody,
            reply=CaseDetailReply,
            errors=(403, 404, 409, 422),
        ),
    ]
