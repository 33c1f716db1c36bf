"""The console's pages on the service's own HTTP app (no separate web server, no build)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api.replies import OnChange
from hotline.calendars.service import Calendars
from hotline.calendars.watch import LIBRARY_VERSION
from hotline.callbacks.scheduler import Scheduler
from hotline.calls.asking import Ask, OnCall
from hotline.console import (
    admin_pages,
    case_pages,
    elder_pages,
    floor_pages,
    login,
    operator_pages,
    report_pages,
    sessions,
)
from hotline.console.floor_pages import Supervise
from hotline.console.hub import Hub
from hotline.console.login import Gate
from hotline.console.web import IDLE
from hotline.events.live import FloorSnapshot
from hotline.workdays import WorkCalendar


@dataclass(frozen=True)
class ConsoleParts:
    hub: Hub
    snapshot: Callable[[], FloorSnapshot]
    calendar: WorkCalendar
    session_lifetime: dt.timedelta
    on_change: OnChange
    gate: Gate
    idle: dt.timedelta = sessions.DEFAULT_IDLE
    ask: Ask | None = None
    on_call: OnCall | None = None
    scheduler: Scheduler | None = None
    supervise: Supervise | None = None


def install(app: web.Application, engine: AsyncEngine, tz: ZoneInfo, parts: ConsoleParts) -> None:
    app[IDLE] = parts.idle
    login.LoginPages(engine, tz, parts.session_lifetime, parts.gate).add(app)
    operator_pages.OperatorPages(
        engine, tz, parts.hub, parts.snapshot, parts.on_change, parts.ask, parts.on_call
    ).add(app)
    case_pages.CasePages(engine, tz, parts.hub, parts.calendar, parts.scheduler).add(app)
    elder_pages.ElderPages(engine, tz, parts.hub, parts.gate.publish).add(app)
    floor_pages.add(app, engine, tz, parts.snapshot, parts.supervise)
    report_pages.add(app, engine, tz)
    calendars = Calendars(engine, parts.on_change, parts.calendar, tz, LIBRARY_VERSION)
    admin_pages.AdminPages(calendars, tz).add(app)
