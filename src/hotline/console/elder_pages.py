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
from hotline.api.reads import logged
from hotline.cases import store as cases
from hotline.console.hub import Hub
from hotline.console.web import SESSION, fields, guarded, lang, render
from hotline.console.words import word
from hotline.core.errors import Forbidden, Problem, TooMany
from hotline.elders import service
from hotline.elders import store as elders
from hotline.elders.schemas import EDITABLE, ElderBody, OpenBody
from hotline.elders.service import Publish

LONG_FIELDS = ("health_conditions", "medical_history", "medication", "life_events")
SHOWN = tuple(f for f in EDITABLE if f != "high_risk")


@dataclass(frozen=True)
class ElderPages:
    engine: AsyncEngine
    tz: ZoneInfo
    hub: Hub
    publish: Publish | None = None

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
            async with self.engine.begin() as conn:
                await logged(conn, request[PRINCIPAL], "search", why="search", target=q)
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
                record = await service.look(
                    conn,
                    who,
                    elder_id,
                    now=dt.datetime.now(dt.UTC),
                    today=self.today(),
                    reason=reason,
                    publish=self.publish,
                )
        except Forbidden:
            record = None  # a reason is needed: the page asks for one
        except TooMany as err:
            raise web.HTTPTooManyRequests(text=word("too_many_opened", lang(request))) from err
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
            editable=record is not None and (reason is None or who.role != "operator"),
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
        """The same rules as the API's PATCH (elders.service.edit): only with a tie to the
        elder (or as a supervisor), only the fields on the form, high risk by supervisors."""
        elder_id = int(request.match_info["elder_id"])
        who = request[PRINCIPAL]
        form = await fields(request)
        raw: dict[str, object] = {k: form[k].strip() or None for k in SHOWN if k in form}
        if "high_risk_shown" in form:  # an unticked box sends nothing: the marker says it was there
            raw["high_risk"] = form.get("high_risk") == "yes"
        try:
            body = ElderBody.model_validate(raw)
        except ValidationError as err:
            first = err.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            text = f"{word('invalid', lang(request))}: {where} {first['msg']}"
            return await self.show(request, elder_id, message=text, failed=True)
        try:
            async with self.engine.begin() as conn:
                await service.edit(
                    conn,
                    who,
                    elder_id,
                    body.changes(),
                    now=dt.datetime.now(dt.UTC),
                    today=self.today(),
                )
        except Forbidden as err:
            raise web.HTTPForbidden(text=word("forbidden", lang(request))) from err
        return await self.show(request, elder_id, message=word("done", lang(request)))

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
        # The call must be one offered to (or taken by) this operator now; its number is the
        # call's, never the form's (a form can say anything).
        call_id = _uuid(form.get("call_id"))
        facts = self.hub.call_of(me.operator_id, call_id) if call_id is not None else None
        if facts is None:
            raise web.HTTPForbidden(text=word("forbidden", lang(request)))
        async with self.engine.begin() as conn:
            elder_id = await elders.create_elder(
                conn,
                me.username,
                body.model_dump(exclude_none=True),
                number=facts.number,
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
        async with self.engine.begin() as conn:
            await logged(conn, request[PRINCIPAL], "access_log")
            entries = await elders.access_log(conn, limit=200)
        return render(request, "access.html", self.tz, entries=entries)


def _uuid(raw: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None
