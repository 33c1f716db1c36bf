"""Routes of cases: the latest cases, one case's timeline, and handling a case: its class
(R6), whether it is reasonable (R7), notes, closing it. Each is a timeline step naming who."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import read, reply
from hotline.api.routes import ID, UUID, Query, Route
from hotline.cases import handling, store
from hotline.core.errors import Invalid, NotFound
from hotline.core.words import Role
from hotline.directories import referral
from hotline.directories import store as organisations
from hotline.directories.checks import with_check_due
from hotline.directories.schemas import OrganisationReply

TAG = "cases"
LIMIT = Query("limit", "at most this many (1-1000, default 50)", {"type": "integer"})
SERVICE = Query("service", "only institutions offering this service", {"type": "string"})


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
    elder_id: int | None
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    close_reason: str | None


HANDLERS: tuple[Role, ...] = ("admin", "supervisor", "operator")
ONE = {"case_id": UUID}


async def _acting(request: web.Request, conn: AsyncConnection) -> tuple[dict[str, Any], str]:
    """The case (locked) and who acts on it, once they may (R14)."""
    case = await store.case_for_change(conn, uuid.UUID(request.match_info["case_id"]))
    who = principal(request)
    handling.may_act(who.role, who.operator_id, case["owner_operator_id"])
    return case, who.name


def routes(engine: AsyncEngine, tz: ZoneInfo) -> list[Route]:
    return [*_reads(engine), *_handling(engine), *_referrals(engine, tz)]


def _reads(engine: AsyncEngine) -> list[Route]:
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


def _handling(engine: AsyncEngine) -> list[Route]:
    async def change_case(request: web.Request) -> web.Response:
        body = bodies.parse(CaseBody, await request.read())
        async with engine.begin() as conn:
            case, actor = await _acting(request, conn)
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
            case, actor = await _acting(request, conn)
            await store.step(conn, case["id"], actor, "note", {"text": body.text})
        return reply(case, 201)

    async def close(request: web.Request) -> web.Response:
        body = bodies.parse(CloseBody, await request.read())
        async with engine.begin() as conn:
            case, actor = await _acting(request, conn)
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


def _referrals(engine: AsyncEngine, tz: ZoneInfo) -> list[Route]:
    async def referral_options(request: web.Request) -> web.Response:
        """Two or three institutions to offer the elder (R17)."""
        service = request.query.get("service")
        if service is not None and not 1 <= len(service.strip()) <= 60:
            raise Invalid("service", "a service's name, 1 to 60 characters")
        async with engine.connect() as conn:
            case, _ = await _acting(request, conn)
            district = await store.elder_district(conn, case["elder_id"])
            homes = await organisations.list_organisations(conn, "institution")
        today = dt.datetime.now(tz).date()
        chosen = referral.choose(homes, district=district, service=service)
        return reply([with_check_due(home, today) for home in chosen])

    async def refer(request: web.Request) -> web.Response:
        """The institution the elder chose: on the timeline; a case with no class yet is a
        referral from now on."""
        org_id = int(request.match_info["org_id"])
        async with engine.begin() as conn:
            case, actor = await _acting(request, conn)
            handling.may_change(case["status"])
            home = await organisations.get_organisation(conn, org_id)
            if home["kind"] != "institution" or not home["active"]:
                raise Invalid("org_id", "not an institution taking referrals")
            if case["class"] is None:
                case = await store.update_case(conn, case["id"], {"class": "referral"})
            detail = {"organisation_id": org_id, "name": home["name"]}
            await store.step(conn, case["id"], actor, "referred", detail)
        return reply(case)

    return [
        Route(
            "GET",
            "/api/cases/{case_id}/referral",
            referral_options,
            "Institutions to offer the elder in a referral: two or three (R17)",
            TAG,
            roles=HANDLERS,
            params=ONE,
            query=(SERVICE,),
            reply=list[OrganisationReply],
            errors=(403, 422),
        ),
        Route(
            "POST",
            "/api/cases/{case_id}/referral/{org_id}",
            refer,
            "Record the institution the elder chose (R17)",
            TAG,
            roles=HANDLERS,
            params={**ONE, "org_id": ID},
            reply=CaseDetailReply,
            errors=(403, 409, 422),
        ),
    ]
