"""Elder records in the console: search (summaries only), the full record (R22) when the
access rules allow or with a reason that is recorded (R27), edits (audited), quick creation
of an unknown caller's record during the call, and the access log for supervisors."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from aiohttp import web
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api.auth import PRINCIPAL
from hotline.cases import store as cases
from hotline.console.web import SESSION, fields, guarded, lang, render
from hotline.console.words import word
from hotline.core.errors import Forbidden, Problem
from hotline.elders import store as elders
from hotline.elders.access import Granted
from hotline.elders.schemas import EDITABLE, ElderBody, OpenBody

LONG_FIELDS = ("health_conditions", "medical_history", "medication", "life_events")
SHOWN = tuple(f for f in EDITABLE if f != "high_risk")


@dataclass(frozen=True)
class ElderPages:
    engine: AsyncEngine
    tz: ZoneInfo

    def add(self, app: web.Application) -> None:
        engine = self.engine
        one = "/console/elders/{elder_id:[0-9]{1,18}}"
        app.router.add_get("/console/elders", guarded(engine, self.search))
        app.router.add_post("/console/elders/search", guarded(engine, self.search, form=True))
        app.router.add_post("/console/elders", guarded(engine, self.quick_create, form=True))
        app.router.add_get(one, guarded(engine, self.view))
        app.router.add_post(f"{one}/open", guarded(engine, self.open_, form=True))
        app.router.add_post(one, guarded(engine, self.edit, form=True))
        app.router.add_get("/console/access", guarded(engine, self.access, supervisor=True))

    def today(self) -> dt.date:
        return dt.datetime.now(self.tz).date()

    async def search(self, request: web.Request) -> web.StreamResponse:
        q = ((await fields(request)).get("q") or "").strip()[:100]  # POST: names stay out of URLs
        found = []
        if q:
            async with self.engine.connect() as conn:
                found = await elders.search(conn, q, today=self.today(), limit=20)
        return render(request, "elders.html", self.tz, q=q, found=found)

    async def show(
        self,
        request: web.Request,
        elder_id: int,
        reason: str | None = None,
        message: str | None = None,
        failed: bool = False,
    ) -> web.StreamResponse:
        who = request[PRINCIPAL]
        try:
            async with self.engine.begin() as conn:
                record = await elders.view(
                    conn,
                    actor=who.name,
                    role=who.role,
                    operator_id=who.operator_id,
                    elder_id=elder_id,
                    now=dt.datetime.now(dt.UTC),
                    today=self.today(),
                    reason=reason,
                )
        except Forbidden:
            record = None  # a reason is needed: the page asks for one
        except Problem as err:
            raise web.HTTPNotFound(text=word("not_found", lang(request))) from err
        return render(
            request,
            "elder.html",
            self.tz,
            record=record,
            elder_id=elder_id,
            fields=SHOWN,
            long_fields=LONG_FIELDS,
            message=message,
            failed=failed,
            reason=reason,
        )

    async def view(self, request: web.Request) -> web.StreamResponse:
        return await self.show(request, int(request.match_info["elder_id"]))

    async def open_(self, request: web.Request) -> web.StreamResponse:
        form = await fields(request)
        try:
            body = OpenBody.model_validate({"reason": form.get("reason", "")})
        except ValidationError:
            raise web.HTTPBadRequest(text="reason: 3 to 200 characters") from None
        return await self.show(request, int(request.match_info["elder_id"]), reason=body.reason)

    async def edit(self, request: web.Request) -> web.StreamResponse:
        elder_id = int(request.match_info["elder_id"])
        who = request[PRINCIPAL]
        form = await fields(request)
        raw: dict[str, object] = {k: (form.get(k) or "").strip() or None for k in SHOWN}
        raw["high_risk"] = form.get("high_risk") == "yes"
        try:
            body = ElderBody.model_validate(raw)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            text = f"{word('invalid', lang(request))}: {where} {first['msg']}"
            again = (form.get("reason") or "").strip() or None
            return await self.show(request, elder_id, again, message=text, failed=True)
        changes = body.model_dump(exclude_unset=False)
        changes = {k: v for k, v in changes.items() if k in EDITABLE}
        if changes.get("full_name") is None:
            changes.pop("full_name", None)
        reason = (form.get("reason") or "").strip() or None
        async with self.engine.begin() as conn:
            granted = await elders.decide(
                conn, who.role, who.operator_id, elder_id, dt.datetime.now(dt.UTC)
            )
            if not isinstance(granted, Granted):
                # Opened with a reason (an explicit search): the edit is one more look for
                # that reason, and is recorded as such (R27).
                if reason is None or not 3 <= len(reason) <= 200:
                    raise web.HTTPForbidden(text=word("forbidden", lang(request)))
                await elders.note_access(
                    conn,
                    actor=who.name,
                    operator_id=who.operator_id,
                    elder_id=elder_id,
                    why="search",
                    reason=reason,
                )
            await elders.update_elder(conn, who.name, elder_id, changes)
        if isinstance(granted, Granted):
            reason = None
        return await self.show(
            request, elder_id, reason=reason, message=word("done", lang(request))
        )

    async def quick_create(self, request: web.Request) -> web.StreamResponse:
        """An unknown caller's record, made while the call is on: name, address, district,
        and the number they call from."""
        me = request[SESSION]
        form = await fields(request)
        try:
            body = ElderBody.model_validate(
                {
                    "full_name": form.get("full_name", "").strip(),
                    "address": form.get("address", "").strip() or None,
                    "district": form.get("district", "").strip() or None,
                }
            )
        except ValidationError:
            raise web.HTTPBadRequest(text="full_name: 1 to 200 characters") from None
        call_id = _uuid(form.get("call_id"))
        async with self.engine.begin() as conn:
            elder_id = await elders.create_elder(
                conn,
                me.username,
                body.model_dump(exclude_none=True),
                number=form.get("number") or None,
            )
            await elders.note_access(
                conn,
                actor=me.username,
                operator_id=me.operator_id,
                elder_id=elder_id,
                why="offered",
                call_id=call_id,
            )
            if call_id is not None:
                await cases.link_elder(conn, call_id, elder_id, me.username)
        if request.headers.get("HX-Request"):
            return web.Response(
                text=f'<section id="pop" class="card pop"><p class="ok">#{elder_id} '
                f'<a href="/console/elders/{elder_id}">{word("open_record", lang(request))}'
                "</a></p></section>",
                content_type="text/html",
            )
        raise web.HTTPSeeOther(f"/console/elders/{elder_id}")

    async def access(self, request: web.Request) -> web.StreamResponse:
        async with self.engine.connect() as conn:
            entries = await elders.access_log(conn, limit=200)
        return render(request, "access.html", self.tz, entries=entries)


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None
