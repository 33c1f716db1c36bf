"""The operator's page: their state, the screen pop and the current call over a WebSocket,
their cases and deadlines; the state buttons and the call's controls."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import WSCloseCode, WSMsgType, web
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api.replies import OnChange, change
from hotline.calls.asking import Ask, OnCall
from hotline.calls.controls import HangUp, Hold
from hotline.calls.messages import Refused, Request
from hotline.console.hub import Hub
from hotline.console.web import SESSION, guarded, lang, render, same_origin
from hotline.core.errors import Invalid
from hotline.db.models import Case, CaseTask
from hotline.emergency.requests import Confirm
from hotline.events.live import FloorSnapshot
from hotline.operators import store as operators
from hotline.operators.schemas import StateChangeBody
from hotline.survey.requests import Survey
from hotline.transfers.requests import Transfer

SESSION_ENDED = 4001  # the WebSocket's close code when its login has ended
PAUSE_REASONS = ("break", "training", "meeting", "admin", "wrap_up")


async def mine(
    engine: AsyncEngine, operator_id: int, now: dt.datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The operator's open cases and open deadlines (R14)."""
    async with engine.connect() as conn:
        cases = await conn.execute(
            select(Case.id, Case.number, Case.case_class.label("case_class"), Case.status)
            .where(Case.owner_operator_id == operator_id, Case.status != "closed")
            .order_by(Case.opened_at.desc())
            .limit(20)
        )
        tasks = await conn.execute(
            select(CaseTask.kind, CaseTask.due_at, Case.number.label("case_number"))
            .join(Case, Case.id == CaseTask.case_id)
            .where(CaseTask.owner_operator_id == operator_id, CaseTask.status == "open")
            .order_by(CaseTask.due_at)
            .limit(20)
        )
        return (
            [dict(r._mapping) for r in cases],
            [{**r._mapping, "overdue": r.due_at < now} for r in tasks],
        )


@dataclass(frozen=True)
class OperatorPages:
    engine: AsyncEngine
    tz: ZoneInfo
    hub: Hub
    snapshot: Callable[[], FloorSnapshot]
    on_change: OnChange
    ask: Ask | None
    on_call: OnCall | None

    def add(self, app: web.Application) -> None:
        engine = self.engine
        app.router.add_get("/console", guarded(engine, self.page))
        app.router.add_get("/console/ws", guarded(engine, self.socket))
        app.router.add_post("/console/state", guarded(engine, self.set_state, form=True))
        calls = "/console/calls/{call_id:[0-9a-f-]{36}}"
        for path, make in (
            ("hold", _hold),
            ("resume", _resume),
            ("hangup", _hang_up),
            ("survey", _survey),
            ("emergency", _emergency),
            ("transfer", _transfer),
        ):
            app.router.add_post(f"{calls}/{path}", guarded(engine, self.control(make), form=True))

    async def page(self, request: web.Request) -> web.StreamResponse:
        me = request[SESSION]
        if me.admin:  # an admin takes no calls: their home is the set-up
            raise web.HTTPSeeOther("/console/admin")
        ops = self.snapshot().operators
        state = next((o for o in ops if o.operator_id == me.operator_id), None)
        cases, tasks = await mine(self.engine, me.operator_id, dt.datetime.now(dt.UTC))
        return render(
            request,
            "operator.html",
            self.tz,
            state=state,
            call=self.hub.current_call(me.operator_id),
            mine=cases,
            tasks=tasks,
        )

    async def socket(self, request: web.Request) -> web.StreamResponse:
        """Pops, state and call controls pushed as HTML fragments (htmx-ext-ws swaps them by
        id). A tab too slow to read is closed with 1012, so its browser reconnects."""
        me = request[SESSION]
        if not same_origin(request):
            raise web.HTTPForbidden(text="cross-site WebSocket refused")
        ws = web.WebSocketResponse(heartbeat=30.0)
        await ws.prepare(request)
        attached = self.hub.attach(
            me.operator_id, lang(request), supervisor=me.supervisor, session=me.key
        )
        sender = asyncio.create_task(_send(ws, attached.queue), name="console-send")
        reader = asyncio.create_task(_read(ws), name="console-read")
        dropped = asyncio.create_task(attached.dropped.wait(), name="console-dropped")
        tasks = {sender, reader, dropped}
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            self.hub.detach(attached)
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        if not ws.closed:
            if attached.ended:  # logged out, expired, idle or ended by an admin: log in again
                await ws.close(code=SESSION_ENDED, message=b"session ended")
            else:
                await ws.close(code=WSCloseCode.SERVICE_RESTART)
        return ws

    async def set_state(self, request: web.Request) -> web.StreamResponse:
        me = request[SESSION]
        form = await request.post()
        wanted, reason = form.get("state"), form.get("reason")
        if wanted == "wrap_up":  # an operator's own wrap-up time: a pause that says so
            wanted, reason = "paused", "wrap_up"
        if wanted not in ("ready", "paused", "logged_out"):
            raise web.HTTPBadRequest(text="state: ready, paused, wrap_up or logged_out")
        if wanted == "paused" and reason not in PAUSE_REASONS:
            raise web.HTTPBadRequest(text="reason: " + ", ".join(PAUSE_REASONS))
        body = StateChangeBody.model_validate(
            {"state": wanted, "reason": reason if wanted == "paused" else None}
        )
        await change(
            self.engine,
            self.on_change,
            lambda c: operators.set_state(c, me.username, me.operator_id, body),
        )
        return web.Response(status=204)

    def control(self, make: MakeRequest) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            me = request[SESSION]
            call_id = uuid.UUID(request.match_info["call_id"])
            if self.ask is None or self.on_call is None:
                raise web.HTTPServiceUnavailable(text="no calls in this process")
            if not self.on_call(me.operator_id, call_id):
                raise web.HTTPForbidden(text="you are not on this call")
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
            try:
                status = await self.ask(call_id, make(me.username, form))
            except Invalid as err:
                raise web.HTTPBadRequest(text=f"{err.field}: {err.detail}") from None
            except Refused as err:
                raise web.HTTPConflict(text=str(err)) from None
            return web.Response(text=status)

        return handler


MakeRequest = Callable[[str, dict[str, str]], Request]


def _hold(by: str, form: dict[str, str]) -> Request:
    return Hold(by=by, on=True)


def _resume(by: str, form: dict[str, str]) -> Request:
    return Hold(by=by, on=False)


def _hang_up(by: str, form: dict[str, str]) -> Request:
    return HangUp(by=by)


def _survey(by: str, form: dict[str, str]) -> Request:
    return Survey(by=by)


def _emergency(by: str, form: dict[str, str]) -> Request:
    return Confirm(by=by)


def _transfer(by: str, form: dict[str, str]) -> Request:
    """Blind, to an operator (their number), an outside number, or a queue (its name)."""
    target = form.get("target", "").strip()
    if target.isdigit() and len(target) <= 6:
        return Transfer(by=by, mode="blind", operator_id=int(target))
    if target.removeprefix("+").isdigit():
        return Transfer(by=by, mode="blind", number=target)
    if target and target.replace("_", "").isalnum():
        return Transfer(by=by, mode="blind", queue=target)
    raise Invalid("target", "a queue's name, an operator's number or a phone number")


async def _send(ws: web.WebSocketResponse, queue: asyncio.Queue[str]) -> None:
    while True:
        await ws.send_str(await queue.get())


async def _read(ws: web.WebSocketResponse) -> None:
    async for msg in ws:  # the console sends nothing we act on; this keeps pings going
        if msg.type == WSMsgType.ERROR:
            return
