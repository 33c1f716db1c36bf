"""The admins' pages of the console (role admin): the set-up's warnings, and the official
calendar, where an admin publishes a year's holiday notice (the list of days off and weekend
days worked, previewed as a calendar of the year before it is saved), accepts the library's
version of a year or withdraws a publication. Every action goes through the same code as its
API route (hotline.calendars.service) and is audited there."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import web

from hotline.calendars.service import Calendars
from hotline.calendars.views import months, notice_of
from hotline.console.web import SESSION, fields, guarded, render
from hotline.core.errors import Invalid, Problem
from hotline.workdays import Notice, NoticeError
from hotline.workdays.notice import as_lines, as_runs, parse_lines

CALENDAR = "/console/admin/calendar"
YEARS_AHEAD = 2  # the form offers this year and the next two


@dataclass(frozen=True)
class AdminPages:
    calendars: Calendars
    tz: ZoneInfo

    def add(self, app: web.Application) -> None:
        engine = self.calendars.engine
        app.router.add_get("/console/admin", guarded(engine, self.home, admin=True))
        app.router.add_get(CALENDAR, guarded(engine, self.calendar, admin=True))
        app.router.add_post(
            f"{CALENDAR}/preview", guarded(engine, self.preview, admin=True, form=True)
        )
        app.router.add_post(
            f"{CALENDAR}/publish", guarded(engine, self.publish, admin=True, form=True)
        )
        year = "{year:(19|2[0-9])[0-9]{2}}"
        app.router.add_post(
            f"{CALENDAR}/{year}/accept", guarded(engine, self.accept, admin=True, form=True)
        )
        app.router.add_post(
            f"{CALENDAR}/{year}/withdraw", guarded(engine, self.withdraw, admin=True, form=True)
        )

    def _years(self) -> list[int]:
        this = dt.datetime.now(self.tz).year
        return list(range(this, this + YEARS_AHEAD + 1))

    async def home(self, request: web.Request) -> web.StreamResponse:
        return render(
            request, "admin.html", self.tz, warnings=await self.calendars.stored_warnings()
        )

    async def calendar(self, request: web.Request) -> web.StreamResponse:
        """The years and the form; `?year=` shows that year's calendar and fills the form
        with it (to correct a publication)."""
        shown: Notice | None = None
        form = {"year": "", "notice": "", "holidays": "", "workdays": ""}
        asked = request.query.get("year", "")
        if asked.isdigit() and len(asked) == 4:
            shown = self.calendars.calendar.schedule(int(asked))
            if shown is not None:
                published = await self.calendars.year(shown.year)
                form = {**_form_of(shown), "notice": published.notice or ""}
        return await self._page(request, form=form, shown=shown, done=request.query.get("done"))

    async def _page(
        self,
        request: web.Request,
        *,
        form: dict[str, str],
        shown: Notice | None = None,
        preview: bool = False,
        error: Problem | None = None,
        done: str | None = None,
        status: int = 200,
    ) -> web.StreamResponse:
        reply = self.calendars.preview(shown) if preview and shown is not None else None
        return render(
            request,
            "admin_calendar.html",
            self.tz,
            status=status,
            years=await self.calendars.years(),
            offered=self._years(),
            form=form,
            shown=shown,
            grid=months(shown) if shown is not None else [],
            preview=reply,
            error=error,
            done=done,
        )

    def _notice(self, form: dict[str, str]) -> Notice:
        year_text = form.get("year", "")
        if not year_text.isdigit() or int(year_text) not in self._years():
            raise Invalid("year", "choose a year")
        try:
            holidays = parse_lines(form.get("holidays", ""), "holidays")
            workdays = parse_lines(form.get("workdays", ""), "workdays")
        except NoticeError as err:
            raise Invalid(err.field, err.detail) from None
        reference = form.get("notice", "").strip()
        if not 3 <= len(reference) <= 200:
            raise Invalid("notice", "name the notice (its title or number), 3-200 characters")
        return notice_of(int(year_text), holidays, workdays)

    async def preview(self, request: web.Request) -> web.StreamResponse:
        form = await fields(request)
        try:
            notice = self._notice(form)
        except Problem as err:
            return await self._page(request, form=form, error=err, status=422)
        return await self._page(request, form=form, shown=notice, preview=True)

    async def publish(self, request: web.Request) -> web.StreamResponse:
        form = await fields(request)
        try:
            notice = self._notice(form)
            await self.calendars.publish(request[SESSION].username, notice, form["notice"].strip())
        except Problem as err:
            return await self._page(request, form=form, error=err, status=err.status)
        raise web.HTTPSeeOther(f"{CALENDAR}?year={notice.year}&done=published")

    async def accept(self, request: web.Request) -> web.StreamResponse:
        year = int(request.match_info["year"])
        try:
            await self.calendars.withdraw(request[SESSION].username, year, accept_library=True)
        except Problem as err:
            return await self._page(request, form=_blank(), error=err, status=err.status)
        raise web.HTTPSeeOther(f"{CALENDAR}?year={year}&done=accepted")

    async def withdraw(self, request: web.Request) -> web.StreamResponse:
        year = int(request.match_info["year"])
        try:
            await self.calendars.withdraw(request[SESSION].username, year, accept_library=False)
        except Problem as err:
            return await self._page(request, form=_blank(), error=err, status=err.status)
        raise web.HTTPSeeOther(f"{CALENDAR}?done=withdrawn")


def _blank() -> dict[str, str]:
    return {"year": "", "notice": "", "holidays": "", "workdays": ""}


def _form_of(notice: Notice) -> dict[str, str]:
    return {
        "year": str(notice.year),
        "holidays": as_lines(as_runs(notice.holidays, notice.names)),
        "workdays": as_lines(as_runs(notice.workdays, notice.names)),
    }
