"""Admin API handlers: operators, their state, queues, members, lines, tokens, audit.

Thin: check the role, parse the body (schemas), run the repository in one transaction
(db.admin), then tell the routing engine what changed through ON_CHANGE.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api import schemas
from hotline.api.auth import BUILTIN_ADMIN, hash_token, new_token, require, require_self_or
from hotline.api.schemas import NotFound
from hotline.db import admin as repo

log = logging.getLogger(__name__)

OnChange = Callable[[str, str], Awaitable[None]]
"""Called after a change commits, with the audit row's entity and key (see db.admin.Change)."""

ENGINE = web.AppKey("engine", AsyncEngine)
ON_CHANGE: web.AppKey[OnChange] = web.AppKey("on_change")


async def no_change(entity: str, key: str) -> None:
    """The default ON_CHANGE: nothing listens."""


def _reply(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status)


def _id(request: web.Request, name: str) -> int:
    raw = request.match_info[name]
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18):
        raise NotFound(name)
    return int(raw)


async def _read(request: web.Request, query: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
    async with request.app[ENGINE].connect() as conn:
        return await query(conn)


async def _change(
    request: web.Request, change: Callable[[AsyncConnection], Awaitable[repo.Outcome]]
) -> repo.Outcome:
    """Run `change` in one transaction; once committed, notify ON_CHANGE."""
    async with request.app[ENGINE].begin() as conn:
        outcome = await change(conn)
    if outcome.change is not None:
        entity, key = outcome.change.entity, outcome.change.key
        try:
            await request.app[ON_CHANGE](entity, key)
        except Exception:
            log.exception("on_change(%s, %s) failed; the change itself is committed", entity, key)
    return outcome


def _outcome(outcome: repo.Outcome) -> web.Response:
    if outcome.record is None:
        return web.Response(status=204)
    return _reply(outcome.record, 201 if outcome.created else 200)


# --- operators ---------------------------------------------------------------------------


async def list_operators(request: web.Request) -> web.Response:
    require(request, "admin", "supervisor")
    return _reply(await _read(request, repo.list_operators))


async def create_operator(request: web.Request) -> web.Response:
    actor = require(request, "admin").name
    body = schemas.parse(schemas.OperatorCreate, await request.read())
    return _outcome(await _change(request, lambda conn: repo.create_operator(conn, actor, body)))


async def get_operator(request: web.Request) -> web.Response:
    operator_id = _id(request, "id")
    require_self_or(request, operator_id, "admin", "supervisor")
    return _reply(await _read(request, lambda conn: repo.get_operator(conn, operator_id)))


async def update_operator(request: web.Request) -> web.Response:
    actor = require(request, "admin").name
    operator_id = _id(request, "id")
    patch = schemas.load_object(await request.read())

    async def change(conn: AsyncConnection) -> repo.Outcome:
        before = await repo.get_operator(conn, operator_id, lock=True)
        body = schemas.merge(schemas.OperatorUpdate, before, patch, fixed=("username",))
        return await repo.update_operator(conn, actor, before, body)

    return _outcome(await _change(request, change))


async def delete_operator(request: web.Request) -> web.Response:
    """204 when deleted; 200 with the record when history keeps it (deactivated instead)."""
    actor = require(request, "admin").name
    operator_id = _id(request, "id")
    return _outcome(
        await _change(request, lambda conn: repo.delete_operator(conn, actor, operator_id))
    )


async def set_state(request: web.Request) -> web.Response:
    operator_id = _id(request, "id")
    actor = require_self_or(request, operator_id, "admin", "supervisor").name
    body = schemas.parse(schemas.StateChange, await request.read())
    return _outcome(
        await _change(request, lambda conn: repo.set_state(conn, actor, operator_id, body))
    )


# --- queues and members ------------------------------------------------------------------


async def list_queues(request: web.Request) -> web.Response:
    return _reply(await _read(request, repo.list_queues))


async def get_queue(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    return _reply(await _read(request, lambda conn: repo.get_queue(conn, name)))


async def create_queue(request: web.Request) -> web.Response:
    actor = require(request, "admin").name
    body = schemas.parse(schemas.QueueConfig, await request.read())
    return _outcome(await _change(request, lambda conn: repo.create_queue(conn, actor, body)))


async def update_queue(request: web.Request) -> web.Response:
    actor = require(request, "admin").name
    name = request.match_info["name"]
    patch = schemas.load_object(await request.read())

    async def change(conn: AsyncConnection) -> repo.Outcome:
        before = await repo.get_queue(conn, name, lock=True)
        body = schemas.merge(schemas.QueueConfig, before, patch, fixed=("name",))
        return await repo.update_queue(conn, actor, before, body)

    return _outcome(await _change(request, change))


async def delete_queue(request: web.Request) -> web.Response:
    actor = require(request, "admin").name
    name = request.match_info["name"]
    return _outcome(await _change(request, lambda conn: repo.delete_queue(conn, actor, name)))


async def list_members(request: web.Request) -> web.Response:
    require(request, "admin", "supervisor")
    name = request.match_info["name"]
    return _reply(await _read(request, lambda conn: repo.list_members(conn, name)))


async def put_member(request: web.Request) -> web.Response:
    """201 when the operator joins the queue, 200 when its penalty changes (or not)."""
    actor = require(request, "admin").name
    name, operator_id = request.match_info["name"], _id(request, "operator_id")
    body = schemas.parse(schemas.MemberConfig, await request.read())
    return _outcome(
        await _change(request, lambda conn: repo.put_member(conn, actor, name, operator_id, body))
    )


async def delete_member(request: web.Request) -> web.Response:
    actor = require(request, "admin").name
    name, operator_id = request.match_info["name"], _id(request, "operator_id")
    return _outcome(
        await _change(request, lambda conn: repo.delete_member(conn, actor, name, operator_id))
    )


# --- lines, tokens, audit ----------------------------------------------------------------


async def list_lines(request: web.Request) -> web.Response:
    return _reply(await _read(request, repo.list_lines))


async def update_line(request: web.Request) -> web.Response:
    actor = require(request, "admin").name
    entry = request.match_info["entry"]
    patch = schemas.load_object(await request.read())

    async def change(conn: AsyncConnection) -> repo.Outcome:
        before = await repo.get_line(conn, entry, lock=True)
        body = schemas.merge(schemas.LineConfig, before, patch)
        return await repo.update_line(conn, actor, before, body)

    return _outcome(await _change(request, change))


async def create_token(request: web.Request) -> web.Response:
    """201 {"name", "role", "token"}: the token is shown this once; only its hash is kept."""
    actor = require(request, "admin").name
    body = schemas.parse(schemas.TokenCreate, await request.read())
    token = new_token()
    await _change(
        request,
        lambda conn: repo.create_token(
            conn, actor, body, hash_token(token), reserved=BUILTIN_ADMIN
        ),
    )
    return _reply({"name": body.name, "role": body.role, "token": token}, 201)


async def revoke_token(request: web.Request) -> web.Response:
    actor = require(request, "admin").name
    name = request.match_info["name"]
    return _outcome(await _change(request, lambda conn: repo.revoke_token(conn, actor, name)))


async def audit(request: web.Request) -> web.Response:
    require(request, "admin", "supervisor")
    limit = schemas.limit(request.query.get("limit"))
    return _reply(await _read(request, lambda conn: repo.audit_entries(conn, limit)))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/operators", list_operators)
    router.add_post("/api/operators", create_operator)
    router.add_get("/api/operators/{id}", get_operator)
    router.add_patch("/api/operators/{id}", update_operator)
    router.add_delete("/api/operators/{id}", delete_operator)
    router.add_put("/api/operators/{id}/state", set_state)
    router.add_get("/api/queues", list_queues)
    router.add_post("/api/queues", create_queue)
    router.add_get("/api/queues/{name}", get_queue)
    router.add_patch("/api/queues/{name}", update_queue)
    router.add_delete("/api/queues/{name}", delete_queue)
    router.add_get("/api/queues/{name}/members", list_members)
    router.add_put("/api/queues/{name}/members/{operator_id}", put_member)
    router.add_delete("/api/queues/{name}/members/{operator_id}", delete_member)
    router.add_get("/api/lines", list_lines)
    router.add_patch("/api/lines/{entry}", update_line)
    router.add_post("/api/tokens", create_token)
    router.add_delete("/api/tokens/{name}", revoke_token)
    router.add_get("/api/audit", audit)
