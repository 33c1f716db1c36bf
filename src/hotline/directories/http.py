"""Routes of the directories: organisations by kind (admins change them, audited; anyone
reads), and marking a record checked (R23)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import OnChange, change, read, reply
from hotline.api.routes import ID, Query, Route
from hotline.core.errors import Invalid
from hotline.core.words import Role
from hotline.db.audit import Outcome, Record
from hotline.directories import store
from hotline.directories.checks import MONTHS, with_check_due
from hotline.directories.schemas import OrganisationBody, OrganisationReply

TAG = "directories"
KIND = Query("kind", "only organisations of this kind", {"enum": sorted(MONTHS)})


def routes(engine: AsyncEngine, on_change: OnChange, tz: ZoneInfo) -> list[Route]:
    def shown(record: Record) -> Record:
        return with_check_due(record, dt.datetime.now(tz).date())

    def done(outcome: Outcome) -> web.Response:
        if outcome.record is None:
            return web.Response(status=204)
        return reply(shown(outcome.record), 201 if outcome.created else 200)

    async def listed(request: web.Request) -> web.Response:
        kind = request.query.get("kind")
        if kind is not None and kind not in MONTHS:
            raise Invalid("kind", f"one of {', '.join(sorted(MONTHS))}")
        found = await read(engine, lambda c: store.list_organisations(c, kind))
        return reply([shown(r) for r in found])

    async def one(request: web.Request) -> web.Response:
        org_id = int(request.match_info["org_id"])
        return reply(shown(await read(engine, lambda c: store.get_organisation(c, org_id))))

    async def create(request: web.Request) -> web.Response:
        actor = principal(request).name
        body = bodies.parse(OrganisationBody, await request.read())
        return done(
            await change(engine, on_change, lambda c: store.create_organisation(c, actor, body))
        )

    async def patch(request: web.Request) -> web.Response:
        actor, org_id = principal(request).name, int(request.match_info["org_id"])
        raw = bodies.load_object(await request.read())

        async def apply(conn: AsyncConnection) -> Outcome:
            before = await store.get_organisation(conn, org_id, lock=True)
            body = bodies.merge(OrganisationBody, before, raw, fixed=("kind",))
            return await store.update_organisation(conn, actor, before, body)

        return done(await change(engine, on_change, apply))

    async def checked(request: web.Request) -> web.Response:
        actor, org_id = principal(request).name, int(request.match_info["org_id"])
        today = dt.datetime.now(tz).date()

        async def apply(conn: AsyncConnection) -> Outcome:
            before = await store.get_organisation(conn, org_id, lock=True)
            return await store.mark_checked(conn, actor, before, today)

        return done(await change(engine, on_change, apply))

    async def remove(request: web.Request) -> web.Response:
        actor, org_id = principal(request).name, int(request.match_info["org_id"])
        return done(
            await change(engine, on_change, lambda c: store.delete_organisation(c, actor, org_id))
        )

    admin: tuple[Role, ...] = ("admin",)
    keepers: tuple[Role, ...] = ("admin", "supervisor")
    one_id = {"org_id": ID}
    return [
        Route(
            "GET",
            "/api/organisations",
            listed,
            "Service providers, institutions, departments, communities, streets, offices",
            TAG,
            query=(KIND,),
            reply=list[OrganisationReply],
            errors=(422,),
        ),
        Route(
            "POST",
            "/api/organisations",
            create,
            "Add an organisation to the directories",
            TAG,
            roles=admin,
            body=OrganisationBody,
            reply=OrganisationReply,
            status=201,
            errors=(409,),
        ),
        Route(
            "GET",
            "/api/organisations/{org_id}",
            one,
            "One organisation",
            TAG,
            params=one_id,
            reply=OrganisationReply,
        ),
        Route(
            "PATCH",
            "/api/organisations/{org_id}",
            patch,
            "Change an organisation's record",
            TAG,
            roles=admin,
            params=one_id,
            body=OrganisationBody,
            reply=OrganisationReply,
            fixed=("kind",),
            errors=(409,),
        ),
        Route(
            "POST",
            "/api/organisations/{org_id}/checked",
            checked,
            "The record was checked today (R23: monthly, or every three months)",
            TAG,
            roles=keepers,
            params=one_id,
            reply=OrganisationReply,
        ),
        Route(
            "DELETE",
            "/api/organisations/{org_id}",
            remove,
            "Remove an organisation",
            TAG,
            roles=admin,
            params=one_id,
            status=204,
        ),
    ]
