"""Routes of the working-day calendar: the official years (published by an admin from the
government's notice, or carried by the `holidays` package), the warnings, a working-day sum as
the deadlines count it, and the centre's local exceptions. Changes are admins', audited, and
applied to the next deadlines before the reply."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import OnChange, change, outcome_reply, read, reply
from hotline.api.routes import PathParam, Query, Route
from hotline.calendars import store
from hotline.calendars.service import Calendars
from hotline.calendars.views import (
    NoticeBody,
    WorkingDayReply,
    YearReply,
    YearsReply,
    notice_of,
    runs_of,
)
from hotline.core.errors import Invalid, NotFound
from hotline.db.audit import Outcome

TAG = "calendar"
DAY = PathParam(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", "a date, YYYY-MM-DD")
YEAR = PathParam(r"(19|2[0-9])[0-9]{2}", "a year, YYYY", integer=True)
AFTER = Query("after", "the day counted from (YYYY-MM-DD), not itself", {"type": "string"}, True)
DAYS = Query("days", "how many working days (1-30)", {"type": "integer"}, True)


def routes(calendars: Calendars) -> list[Route]:
    def _year(request: web.Request) -> int:
        return int(request.match_info["year"])

    async def years(request: web.Request) -> web.Response:
        return reply(await calendars.years())

    async def one_year(request: web.Request) -> web.Response:
        return reply(await calendars.year(_year(request)))

    async def _notice(request: web.Request) -> tuple[NoticeBody, int]:
        year = calendars.publishable(_year(request))
        return bodies.parse(NoticeBody, await request.read()), year

    async def preview(request: web.Request) -> web.Response:
        """What publishing would publish, and how it compares with the library: nothing saved."""
        body, year = await _notice(request)
        return reply(calendars.preview(notice_of(year, *runs_of(body))))

    async def publish(request: web.Request) -> web.Response:
        body, year = await _notice(request)
        notice = notice_of(year, *runs_of(body))
        shown, created = await calendars.publish(principal(request).name, notice, body.notice)
        return reply(shown, 201 if created else 200)

    async def accept_library(request: web.Request) -> web.Response:
        shown = await calendars.withdraw(
            principal(request).name, _year(request), accept_library=True
        )
        return reply(shown)

    async def delete_year(request: web.Request) -> web.Response:
        await calendars.withdraw(principal(request).name, _year(request), accept_library=False)
        return web.Response(status=204)

    async def working_days(request: web.Request) -> web.Response:
        try:
            after = dt.date.fromisoformat(request.query.get("after", ""))
        except ValueError:
            raise Invalid("after", "a date, YYYY-MM-DD") from None
        text = request.query.get("days", "")
        if not text.isdigit() or not 1 <= int(text) <= 30:
            raise Invalid("days", "a whole number of working days, 1-30")
        day = calendars.working_day(after, int(text))
        return reply(WorkingDayReply(after=after, days=int(text), day=day))

    one = {"year": YEAR}
    return [
        *exception_routes(calendars.engine, calendars.on_change),
        Route(
            "GET",
            "/api/calendar/years",
            years,
            "The official years: those admins published (who, from which notice, how the "
            "library compares), the library's range, and the warnings",
            TAG,
            reply=YearsReply,
        ),
        Route(
            "GET",
            "/api/calendar/years/{year}",
            one_year,
            "One year's official schedule (days off, weekend days worked) and its source",
            TAG,
            params=one,
            reply=YearReply,
            errors=(404,),
        ),
        Route(
            "POST",
            "/api/calendar/years/{year}/preview",
            preview,
            "Check a year's notice and show what publishing it would publish (nothing saved)",
            TAG,
            roles=("admin",),
            params=one,
            body=NoticeBody,
            reply=YearReply,
            errors=(404, 422),
        ),
        Route(
            "PUT",
            "/api/calendar/years/{year}",
            publish,
            "Publish a year's schedule from the government's notice (replaces an earlier "
            "publication of the year); audited; deadlines into the year are computed at once",
            TAG,
            roles=("admin",),
            params=one,
            body=NoticeBody,
            reply=YearReply,
            also=(201,),
            errors=(404, 422),
        ),
        Route(
            "POST",
            "/api/calendar/years/{year}/accept-library",
            accept_library,
            "Take the holidays package's data for a year an admin published (the admin's "
            "entry is removed, audited)",
            TAG,
            roles=("admin",),
            params=one,
            reply=YearReply,
            errors=(404, 409),
        ),
        Route(
            "DELETE",
            "/api/calendar/years/{year}",
            delete_year,
            "Withdraw an admin's publication of a year (audited)",
            TAG,
            roles=("admin",),
            params=one,
            status=204,
            errors=(404, 409),
        ),
        Route(
            "GET",
            "/api/calendar/working-days",
            working_days,
            "The n-th working day after a day, as the deadlines count it (409 naming the "
            "year when its schedule is not published)",
            TAG,
            query=(AFTER, DAYS),
            reply=WorkingDayReply,
            errors=(409, 422),
        ),
    ]


class ExceptionBody(bodies.Body):
    kind: Literal["holiday", "workday"]
    note: Annotated[str, Field(min_length=1, max_length=200)] | None = None


class NewExceptionBody(ExceptionBody):
    day: Annotated[dt.date, Field(strict=False)]  # "2026-12-31"


class ExceptionReply(BaseModel):
    day: dt.date
    kind: str
    note: str | None


def exception_routes(engine: AsyncEngine, on_change: OnChange) -> list[Route]:
    """The centre's own days off and days worked (admins; audited)."""

    def _day(request: web.Request) -> dt.date:
        try:
            return dt.date.fromisoformat(request.match_info["day"])
        except ValueError:
            raise NotFound("day", "no such day") from None

    async def exceptions(request: web.Request) -> web.Response:
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
            "/api/calendar/exceptions",
            exceptions,
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
