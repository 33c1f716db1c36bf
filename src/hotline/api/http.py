"""Thin HTTP handlers; every /api route needs the bearer token."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.db import queries

ENGINE = web.AppKey("engine", AsyncEngine)
TOKEN = web.AppKey("token", str)
HEALTH: web.AppKey[Callable[[], dict[str, Any]]] = web.AppKey("health")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def _default(value: object) -> str:
    if isinstance(value, dt.datetime | uuid.UUID):
        return str(value)
    raise TypeError(type(value).__name__)


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda d: json.dumps(d, default=_default))


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/"):
        token = request.app[TOKEN]
        given = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if not token or not hmac.compare_digest(given.encode(), token.encode()):
            return _json({"error": "unauthorized", "detail": "send Authorization: Bearer"}, 401)
    return await handler(request)


def _limit(request: web.Request) -> int:
    raw = request.query.get("limit", "50")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise web.HTTPUnprocessableEntity(
            text=json.dumps({"error": "invalid", "field": "limit", "detail": "1..1000"}),
            content_type="application/json",
        )
    return int(raw)


async def health(request: web.Request) -> web.Response:
    return _json(request.app[HEALTH]())


async def calls(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        return _json(await queries.recent_calls(conn, _limit(request)))


async def cases(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        return _json(await queries.recent_cases(conn, _limit(request)))


async def timeline(request: web.Request) -> web.Response:
    try:
        case_id = uuid.UUID(request.match_info["case_id"])
    except ValueError:
        return _json({"error": "invalid", "field": "case_id", "detail": "not a UUID"}, 422)
    async with request.app[ENGINE].connect() as conn:
        return _json(await queries.case_timeline(conn, case_id))


def make_app(
    engine: AsyncEngine, token: str, health_fn: Callable[[], dict[str, Any]]
) -> web.Application:
    app = web.Application(middlewares=[_auth])
    app[ENGINE] = engine
    app[TOKEN] = token
    app[HEALTH] = health_fn
    app.router.add_get("/healthz", health)
    app.router.add_get("/api/calls", calls)
    app.router.add_get("/api/cases", cases)
    app.router.add_get("/api/cases/{case_id}/timeline", timeline)
    return app
