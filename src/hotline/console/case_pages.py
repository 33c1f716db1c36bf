"""The case form: classify (R6), reasonable or not (R7), notes, the actions that hand the
case on (R15-R18) and closing; each through cases.actions, as the API does, so each is a
timeline step naming the operator. Shown to the case's owner and to supervisors (R14), and
to the operator on a live call of the case while its owner is being recorded."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api.auth import PRINCIPAL
from hotline.callbacks.promises import promise_callback
from hotline.callbacks.scheduler import Scheduler
from hotline.cases import actions, handling, store
from hotline.cases.deadlines import NoDeadline
from hotline.cases.orders_http import referral_options
from hotline.cases.schemas import CaseBody, CloseBody, NoteBody, ServiceOrderBody
from hotline.console.hub import Hub
from hotline.console.web import SESSION, guarded, lang, render
from hotline.console.words import word
from hotline.core.errors import Invalid, NotFound, Problem
from hotline.deadlines import store as deadlines
from hotline.directories import store as organisations
from hotline.workdays import WorkCalendar

Form = dict[str, str]
Action = Callable[[web.Request, AsyncConnection, uuid.UUID, Form], Awaitable[None]]


@dataclass(frozen=True)
class CasePages:
    engine: AsyncEngine
    tz: ZoneInfo
    hub: Hub
    calendar: WorkCalendar
    scheduler: Scheduler | None

    def add(self, app: web.Application) -> None:
        engine = self.engine
        one = "/console/cases/{case_id:[0-9a-f-]{36}}"
        app.router.add_get(one, guarded(engine, self.view))
        app.router.add_get(f"{one}/referral", guarded(engine, self.options))
        app.router.add_post(f"{one}/callback", guarded(engine, self.callback, form=True))
        for path, action in (
            ("classify", self.classify),
            ("note", self.note),
            ("close", self.close),
            ("order", self.order),
            ("complaint", self.complaint),
            ("extend", self.extend),
            ("refer/{org_id:[0-9]{1,18}}", self.refer),
            ("tasks/{task_id:[0-9a-f-]{36}}/done", self.task_done),
        ):
            app.router.add_post(f"{one}/{path}", guarded(engine, self.act(action), form=True))

    def may_view(self, request: web.Request, case: dict[str, Any]) -> None:
        me = request[SESSION]
        live = self.hub.current_call(me.operator_id)
        if live is not None and live.case_id == case["id"]:
            return
        handling.may_act(request[PRINCIPAL].role, me.operator_id, case["owner_operator_id"])

    async def panel(
        self,
        request: web.Request,
        case_id: uuid.UUID,
        message: str | None = None,
        failed: bool = False,
    ) -> web.StreamResponse:
        async with self.engine.connect() as conn:
            case = await store.case_for_change(conn, case_id)
            self.may_view(request, case)
            timeline = await store.case_timeline(conn, case_id)
            tasks = await actions.tasks_of(conn, case_id)
            orgs = await organisations.list_organisations(conn, None)
        active = [o for o in orgs if o["active"]]
        name = "_case.html" if request.headers.get("HX-Request") else "case.html"
        return render(
            request,
            name,
            self.tz,
            case=case,
            timeline=timeline,
            tasks=tasks,
            providers=[o for o in active if o["kind"] == "provider"],
            departments=[o for o in active if o["kind"] in ("department", "provider")],
            message=message,
            failed=failed,
        )

    async def view(self, request: web.Request) -> web.StreamResponse:
        case_id = uuid.UUID(request.match_info["case_id"])
        try:
            return await self.panel(request, case_id)
        except Problem as err:
            raise web.HTTPForbidden(text=err.detail or word("forbidden", lang(request))) from None

    def act(self, action: Action) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Run the action in one transaction and show the case again, with what happened."""

        async def handler(request: web.Request) -> web.StreamResponse:
            case_id = uuid.UUID(request.match_info["case_id"])
            form = {k: v for k, v in (await request.post()).items() if isinstance(v, str)}
            try:
                async with self.engine.begin() as conn:
                    await action(request, conn, case_id, form)
            except Problem as err:
                text = f"{word('invalid', lang(request))}: {err.field or ''} {err.detail or ''}"
                return await self.panel(request, case_id, text.strip(), failed=True)
            except ValidationError as err:
                first = err.errors()[0]
                where = ".".join(str(p) for p in first["loc"])
                text = f"{word('invalid', lang(request))}: {where} {first['msg']}"
                return await self.panel(request, case_id, text, failed=True)
            except NoDeadline as err:
                return await self.panel(request, case_id, str(err), failed=True)
            return await self.panel(request, case_id, word("done", lang(request)))

        return handler

    async def classify(
        self, request: web.Request, conn: AsyncConnection, case_id: uuid.UUID, form: Form
    ) -> None:
        reasonable = {"yes": True, "no": False}.get(form.get("reasonable", ""))
        why_not = (form.get("unreasonable_reason") or "").strip() or None
        body = CaseBody.model_validate(
            {
                "class": form.get("class") or None,
                "reasonable": reasonable,
                "unreasonable_reason": why_not if reasonable is False else None,
            }
        )
        await actions.classify(
            conn,
            case_id,
            request[PRINCIPAL],
            case_class=body.case_class,
            reasonable=body.reasonable,
            unreasonable_reason=body.unreasonable_reason,
        )

    async def note(
        self, request: web.Request, conn: AsyncConnection, case_id: uuid.UUID, form: Form
    ) -> None:
        body = NoteBody.model_validate({"text": form.get("text", "")})
        await actions.note(conn, case_id, request[PRINCIPAL], body.text)

    async def close(
        self, request: web.Request, conn: AsyncConnection, case_id: uuid.UUID, form: Form
    ) -> None:
        body = CloseBody.model_validate({"reason": form.get("reason", "")})
        now = dt.datetime.now(dt.UTC)
        await actions.close(conn, case_id, request[PRINCIPAL], body.reason, now)

    async def order(
        self, request: web.Request, conn: AsyncConnection, case_id: uuid.UUID, form: Form
    ) -> None:
        body = ServiceOrderBody.model_validate(
            {"org_id": _int(form.get("org_id")), "service": form.get("service", "")}
        )
        await actions.service_order(
            conn,
            case_id,
            request[PRINCIPAL],
            org_id=body.org_id,
            service=body.service,
            now=dt.datetime.now(dt.UTC),
        )

    async def complaint(
        self, request: web.Request, conn: AsyncConnection, case_id: uuid.UUID, form: Form
    ) -> None:
        await actions.complaint(
            conn,
            case_id,
            request[PRINCIPAL],
            org_id=_int(form.get("org_id")),
            calendar=self.calendar,
            tz=self.tz,
            now=dt.datetime.now(dt.UTC),
        )

    async def extend(
        self, request: web.Request, conn: AsyncConnection, case_id: uuid.UUID, form: Form
    ) -> None:
        await actions.extend_callback(
            conn,
            case_id,
            request[PRINCIPAL],
            days=_int(form.get("days")),
            reason=(form.get("reason") or "").strip()[:200] or "—",
            caller_told=form.get("caller_told") == "yes",
            calendar=self.calendar,
            tz=self.tz,
            now=dt.datetime.now(dt.UTC),
        )

    async def refer(
        self, request: web.Request, conn: AsyncConnection, case_id: uuid.UUID, form: Form
    ) -> None:
        org_id = int(request.match_info["org_id"])
        await actions.refer(conn, case_id, request[PRINCIPAL], org_id)

    async def task_done(
        self, request: web.Request, conn: AsyncConnection, case_id: uuid.UUID, form: Form
    ) -> None:
        """A deadline's task done (a complaint handled, the caller told, a follow-up made):
        the owner records it; kept or not is decided by its due time."""
        who = request[PRINCIPAL]
        await actions.acting(conn, case_id, who)
        task_id = uuid.UUID(request.match_info["task_id"])
        found = await deadlines.task_case(conn, task_id)
        if found is None or found[0] != case_id:
            raise NotFound("task_id", "no such task on this case")
        if await deadlines.done(conn, task_id, who.name, dt.datetime.now(dt.UTC)) is None:
            raise Invalid("task_id", "the task is not open")

    async def callback(self, request: web.Request) -> web.StreamResponse:
        case_id = uuid.UUID(request.match_info["case_id"])
        try:
            await promise_callback(
                self.engine,
                self.scheduler,
                case_id,
                request[PRINCIPAL],
                None,
                calendar=self.calendar,
                tz=self.tz,
            )
        except Problem as err:
            return await self.panel(request, case_id, f"{err.field}: {err.detail}", failed=True)
        return await self.panel(request, case_id, word("done", lang(request)))

    async def options(self, request: web.Request) -> web.StreamResponse:
        case_id = uuid.UUID(request.match_info["case_id"])
        service = (request.query.get("service") or "").strip()[:60] or None
        today = dt.datetime.now(self.tz).date()
        try:
            homes = await referral_options(self.engine, case_id, request[PRINCIPAL], service, today)
        except Problem as err:
            raise web.HTTPForbidden(text=err.detail or "") from None
        return render(request, "_referral.html", self.tz, homes=homes, case_id=case_id)


def _int(raw: str | None) -> int:
    return int(raw) if raw and raw.isdigit() and len(raw) <= 18 else 0
