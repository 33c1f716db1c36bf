"""Routes of queues, their members and the lines."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import OnChange, change, outcome_reply, read, reply
from hotline.api.routes import ID, SLUG, PathParam, Route
from hotline.core.words import Role
from hotline.db.audit import Outcome
from hotline.queues import store
from hotline.queues.schemas import (
    LineBody,
    LineReply,
    MemberBody,
    MemberReply,
    QueueBody,
    QueueReply,
)

TAG = "queues"
ENTRY = PathParam(r"hotline|lifehelp|terminal|web|visit", "a line: hotline, lifehelp, terminal")


def routes(engine: AsyncEngine, on_change: OnChange) -> list[Route]:
    async def list_queues(request: web.Request) -> web.Response:
        return reply(await read(engine, store.list_queues))

    async def get_queue(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return reply(await read(engine, lambda c: store.get_queue(c, name)))

    async def create_queue(request: web.Request) -> web.Response:
        actor = principal(request).name
        body = bodies.parse(QueueBody, await request.read())
        return outcome_reply(
            await change(engine, on_change, lambda c: store.create_queue(c, actor, body))
        )

    async def update_queue(request: web.Request) -> web.Response:
        actor, name = principal(request).name, request.match_info["name"]
        patch = bodies.load_object(await request.read())

        async def apply(conn: AsyncConnection) -> Outcome:
            before = await store.get_queue(conn, name, lock=True)
            body = bodies.merge(QueueBody, before, patch, fixed=("name",))
            return await store.update_queue(conn, actor, before, body)

        return outcome_reply(await change(engine, on_change, apply))

    async def delete_queue(request: web.Request) -> web.Response:
        actor, name = principal(request).name, request.match_info["name"]
        return outcome_reply(
            await change(engine, on_change, lambda c: store.delete_queue(c, actor, name))
        )

    async def list_members(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        return reply(await read(engine, lambda c: store.list_members(c, name)))

    async def put_member(request: web.Request) -> web.Response:
        """201 when the operator joins the queue, 200 when its penalty changes (or not)."""
        actor = principal(request).name
        name, operator_id = request.match_info["name"], int(request.match_info["operator_id"])
        body = bodies.parse(MemberBody, await request.read())
        return outcome_reply(
            await change(
                engine, on_change, lambda c: store.put_member(c, actor, name, operator_id, body)
            )
        )

    async def delete_member(request: web.Request) -> web.Response:
        actor = principal(request).name
        name, operator_id = request.match_info["name"], int(request.match_info["operator_id"])
        return outcome_reply(
            await change(
                engine, on_change, lambda c: store.delete_member(c, actor, name, operator_id)
            )
        )

    async def list_lines(request: web.Request) -> web.Response:
        return reply(await read(engine, store.list_lines))

    async def update_line(request: web.Request) -> web.Response:
        actor, entry = principal(request).name, request.match_info["entry"]
        patch = bodies.load_object(await request.read())

        async def apply(conn: AsyncConnection) -> Outcome:
            before = await store.get_line(conn, entry, lock=True)
            body = bodies.merge(LineBody, before, patch)
            return await store.update_line(conn, actor, before, body)

        return outcome_reply(await change(engine, on_change, apply))

    admin: tuple[Role, ...] = ("admin",)
    queue = {"name": SLUG}
    member = {"name": SLUG, "operator_id": ID}
    return [
        Route("GET", "/api/queues", list_queues, "List queues", TAG, reply=list[QueueReply]),
        Route(
            "POST",
            "/api/queues",
            create_queue,
            "Create a queue",
            TAG,
            roles=admin,
            body=QueueBody,
            reply=QueueReply,
            status=201,
            errors=(409,),
        ),
        Route(
            "GET", "/api/queues/{name}", get_queue, "One queue", TAG, params=queue, reply=QueueReply
        ),
        Route(
            "PATCH",
            "/api/queues/{name}",
            update_queue,
            "Change a queue's settings",
            TAG,
            roles=admin,
            params=queue,
            body=QueueBody,
            reply=QueueReply,
            fixed=("name",),
        ),
        Route(
            "DELETE",
            "/api/queues/{name}",
            delete_queue,
            "Delete a queue nothing refers to",
            TAG,
            roles=admin,
            params=queue,
            status=204,
            errors=(409,),
        ),
        Route(
            "GET",
            "/api/queues/{name}/members",
            list_members,
            "A queue's members",
            TAG,
            roles=("admin", "supervisor"),
            params=queue,
            reply=list[MemberReply],
        ),
        Route(
            "PUT",
            "/api/queues/{name}/members/{operator_id}",
            put_member,
            "Add an operator to a queue, or change their penalty",
            TAG,
            roles=admin,
            params=member,
            body=MemberBody,
            reply=MemberReply,
            also=(201,),
        ),
        Route(
            "DELETE",
            "/api/queues/{name}/members/{operator_id}",
            delete_member,
            "Remove an operator from a queue",
            TAG,
            roles=admin,
            params=member,
            status=204,
        ),
        Route(
            "GET",
            "/api/lines",
            list_lines,
            "The lines: their queue and hours",
            TAG,
            reply=list[LineReply],
        ),
        Route(
            "PATCH",
            "/api/lines/{entry}",
            update_line,
            "Change a line's queue or hours",
            TAG,
            roles=admin,
            params={"entry": ENTRY},
            body=LineBody,
            reply=LineReply,
        ),
    ]
