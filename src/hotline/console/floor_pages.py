"""The supervisor's live floor (queues, waiting calls and their waits, operators by state,
today's service level, callbacks due), pushed over the console's socket as it changes; and
from there listening to, whispering to or barging into an operator's call (R26)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.console.web import SESSION, guarded, render, render_text
from hotline.console.words import Lang
from hotline.core.errors import Problem
from hotline.db.models import Operator
from hotline.deadlines import store as deadlines
from hotline.events.live import FloorSnapshot
from hotline.floor.view import view

Supervise = Callable[[int, int, str, str], Awaitable[str]]
"""(operator id, supervisor's operator id, mode, who) -> a status; Problem when refused."""


async def _overdue(engine: AsyncEngine) -> list[dict[str, object]]:
    now = dt.datetime.now(dt.UTC)
    async with engine.connect() as conn:
        return await deadlines.listed(conn, now=now, state="overdue", operator_id=None, limit=20)


async def _names(engine: AsyncEngine) -> dict[int, str]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(Operator.id, Operator.display_name))
        return {row.id: row.display_name for row in rows}


def floor_html(
    engine: AsyncEngine, snapshot: Callable[[], FloorSnapshot], tz: ZoneInfo
) -> Callable[[Lang], Awaitable[str]]:
    async def html(lang: Lang) -> str:
        return render_text(
            "_floor.html",
            lang,
            tz,
            snap=snapshot(),
            view=await view(engine, snapshot, tz),
            names=await _names(engine),
            overdue=await _overdue(engine),
        )

    return html


def add(
    app: web.Application,
    engine: AsyncEngine,
    tz: ZoneInfo,
    snapshot: Callable[[], FloorSnapshot],
    supervise: Supervise | None,
) -> None:
    async def page(request: web.Request) -> web.StreamResponse:
        return render(
            request,
            "floor.html",
            tz,
            snap=snapshot(),
            view=await view(engine, snapshot, tz, dt.datetime.now(dt.UTC)),
            names=await _names(engine),
            overdue=await _overdue(engine),
        )

    async def start(request: web.Request) -> web.StreamResponse:
        if supervise is None:
            raise web.HTTPServiceUnavailable(text="supervision is not available here")
        me = request[SESSION]
        operator_id = int(request.match_info["operator_id"])
        try:
            status = await supervise(
                operator_id, me.operator_id, request.match_info["mode"], me.username
            )
        except Problem as err:
            raise web.HTTPConflict(text=f"{err.field}: {err.detail}") from None
        return web.Response(text=status)

    app.router.add_get("/console/floor", guarded(engine, page, supervisor=True))
    app.router.add_post(
        "/console/supervise/{operator_id:[0-9]{1,18}}/{mode:listen|whisper|barge}",
        guarded(engine, start, supervisor=True, form=True),
    )
