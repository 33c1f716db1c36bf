"""Routes of the actions that hand a case on: a referral (R17), a service order (R16), a
complaint to a department (R18); and the deadlines on a case. (A callback promised within a
working day, R15, is the callbacks feature's: callbacks/promises.py.)"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import reply
from hotline.api.routes import ID, Route
from hotline.cases import actions, store
from hotline.cases.deadlines import NoDeadline, no_deadline
from hotline.cases.routing import case_action, case_id_of
from hotline.cases.schemas import (
    HANDLERS,
    ONE,
    SERVICE,
    TAG,
    CaseDetailReply,
    ComplaintBody,
    ComplaintMade,
    ServiceOrderBody,
    TaskMade,
    TaskReply,
)
from hotline.core.errors import Invalid
from hotline.directories import referral
from hotline.directories import store as organisations
from hotline.directories.checks import with_check_due
from hotline.directories.schemas import OrganisationReply
from hotline.workdays import WorkCalendar

log = logging.getLogger(__name__)


async def referral_options(
    engine: AsyncEngine, case_id: uuid.UUID, who: Any, service: str | None, today: dt.date
) -> list[dict[str, Any]]:
    """Two or three institutions to offer the elder (R17), the elder's district first."""
    async with engine.connect() as conn:
        case = await actions.acting(conn, case_id, who)
        district = await store.elder_district(conn, case["elder_id"])
        homes = await organisations.list_organisations(conn, "institution")
    chosen = referral.choose(homes, district=district, service=service)
    return [with_check_due(home, today) for home in chosen]


def routes(engine: AsyncEngine, tz: ZoneInfo, calendar: WorkCalendar) -> list[Route]:
    async def options(request: web.Request) -> web.Response:
        service = request.query.get("service")
        if service is not None and not 1 <= len(service.strip()) <= 60:
            raise Invalid("service", "a service's name, 1 to 60 characters")
        today = dt.datetime.now(tz).date()
        return reply(
            await referral_options(engine, case_id_of(request), principal(request), service, today)
        )

    async def refer(request: web.Request) -> web.Response:
        org_id = int(request.match_info["org_id"])
        async with engine.begin() as conn:
            case = await actions.refer(conn, case_id_of(request), principal(request), org_id)
        return reply(case)

    async def order(request: web.Request) -> web.Response:
        body = bodies.parse(ServiceOrderBody, await request.read())
        now = dt.datetime.now(dt.UTC)
        async with engine.begin() as conn:
            task = await actions.service_order(
                conn,
                case_id_of(request),
                principal(request),
                org_id=body.org_id,
                service=body.service,
                now=now,
            )
        return reply(task, 201)

    async def complaint(request: web.Request) -> web.Response:
        body = bodies.parse(ComplaintBody, await request.read())
        now = dt.datetime.now(dt.UTC)
        try:
            async with engine.begin() as conn:
                tasks = await actions.complaint(
                    conn,
                    case_id_of(request),
                    principal(request),
                    org_id=body.org_id,
                    calendar=calendar,
                    tz=tz,
                    now=now,
                )
        except NoDeadline as err:
            raise no_deadline(err) from None
        return reply(tasks, 201)

    async def tasks(request: web.Request) -> web.Response:
        async with engine.connect() as conn:
            await actions.acting(conn, case_id_of(request), principal(request))
            return reply(await actions.tasks_of(conn, case_id_of(request)))

    return [
        Route(
            "GET",
            "/api/cases/{case_id}/referral",
            options,
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
        case_action(
            "/service-order",
            order,
            "Send a service order to a provider at once (R16); followed up after 3 days",
            ServiceOrderBody,
            TaskMade,
        ),
        case_action(
            "/complaint",
            complaint,
            "Hand a complaint to a department with its 3-working-day deadlines (R18)",
            ComplaintBody,
            ComplaintMade,
        ),
        Route(
            "GET",
            "/api/cases/{case_id}/tasks",
            tasks,
            "The deadlines on a case, soonest first",
            TAG,
            roles=HANDLERS,
            params=ONE,
            reply=list[TaskReply],
            errors=(403, 404),
        ),
    ]
