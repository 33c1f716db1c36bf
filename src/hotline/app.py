"""The HTTP app assembled from every feature's routes. Parts that need the running call
controller (transfers, callbacks, the event stream) are added when they are given, so the
admin API can also be served alone (tests, tooling)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline import __version__
from hotline.api import meta, tokens
from hotline.api.app import make_app
from hotline.api.auth import BUILTIN_ADMIN
from hotline.api.edge import Network, middleware
from hotline.api.replies import OnChange, no_change
from hotline.api.routes import Route
from hotline.ari import AriClient
from hotline.calendars import http as calendars_http
from hotline.calendars.service import Calendars
from hotline.calendars.watch import LIBRARY_VERSION
from hotline.callbacks import http as callbacks_http
from hotline.callbacks import promises
from hotline.callbacks.scheduler import Scheduler
from hotline.calls import http as calls_http
from hotline.calls.asking import Ask, OnCall
from hotline.cases import http as cases_http
from hotline.console.routes import ConsoleParts, install
from hotline.core.passwords import Passwords
from hotline.deadlines import http as deadlines_http
from hotline.directories import http as directories_http
from hotline.elders import http as elders_http
from hotline.emergency import http as emergency_http
from hotline.events import http as events_http
from hotline.events.bus import Bus
from hotline.floor import http as floor_http
from hotline.floor.view import Snapshot, empty_snapshot
from hotline.leadership import http as leadership_http
from hotline.operators import http as operators_http
from hotline.queues import http as queues_http
from hotline.reports import http as reports_http
from hotline.retention import http as retention_http
from hotline.retention.job import RetentionJob
from hotline.supervision import http as supervision_http
from hotline.supervision.service import Supervisions
from hotline.survey import http as survey_http
from hotline.transfers import http as transfers_http
from hotline.workdays import WorkCalendar

DEFAULT_TZ = ZoneInfo("Asia/Shanghai")


class Leading(Protocol):
    def acting(self) -> bool: ...

    def view(self) -> dict[str, Any]: ...


def http_app(
    engine: AsyncEngine,
    token: str,
    health: Callable[[], dict[str, Any]],
    *,
    on_change: OnChange = no_change,
    snapshot: Snapshot = empty_snapshot,
    tz: dt.tzinfo = DEFAULT_TZ,
    ask: Ask | None = None,
    on_call: OnCall | None = None,
    ari: AriClient | None = None,
    scheduler: Scheduler | None = None,
    bus: Bus | None = None,
    supervisions: Supervisions | None = None,
    calendar: WorkCalendar | None = None,
    console: ConsoleParts | None = None,
    passwords: Passwords | None = None,
    edge: tuple[tuple[Network, ...], bool] = ((), False),
    retention: RetentionJob | None = None,
    leadership: Leading | None = None,
) -> web.Application:
    """`edge`: the trusted proxies and whether the service serves TLS (hotline.api.edge).
    `leadership`: whether this controller leads, and what it knows of the others; on a
    standby only who leads is answered (hotline.leadership.http)."""
    zone = tz if isinstance(tz, ZoneInfo) else DEFAULT_TZ
    routes: list[Route] = [
        *operators_http.routes(engine, on_change, passwords or Passwords()),
        *queues_http.routes(engine, on_change),
        *tokens.routes(engine, on_change, BUILTIN_ADMIN),
        *calls_http.routes(engine),
        *cases_http.routes(engine, zone, calendar or WorkCalendar("CN")),
        *directories_http.routes(engine, on_change, zone),
        *deadlines_http.routes(engine),
        *calendars_http.routes(
            Calendars(engine, on_change, calendar or WorkCalendar("CN"), zone, LIBRARY_VERSION)
        ),
        *elders_http.routes(engine, zone, bus.publish if bus is not None else None),
        *floor_http.routes(engine, snapshot, zone, health),
        *reports_http.routes(engine, zone),
    ]
    if ask is not None and on_call is not None:
        routes += transfers_http.routes(ask, on_call)
        routes += emergency_http.routes(engine, on_change, ask, on_call, ari)
        routes += survey_http.routes(ask, on_call)
    if supervisions is not None:
        routes += supervision_http.routes(engine, supervisions)
    if scheduler is not None:
        routes += callbacks_http.routes(engine, scheduler)
        routes += promises.routes(engine, zone, calendar or WorkCalendar("CN"), scheduler)
    if bus is not None:
        routes += events_http.routes(bus, snapshot)
    if retention is not None:
        routes += retention_http.routes(engine, retention)
    gates: list[object] = []
    if leadership is not None:
        routes += leadership_http.routes(leadership.view)
        gates.append(leadership_http.gate(leadership.acting))
    everything = meta.routes(engine, health, __version__, routes)
    app = make_app(
        engine, token, everything, outside=middleware(edge[0], tls=edge[1]), before=gates
    )
    if console is not None:  # the operators' console: HTML pages beside the API
        install(app, engine, zone, console)
    return app
