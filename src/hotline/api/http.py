"""The HTTP app: health, read access to calls and cases, the admin API (api.admin), the
supervisors' floor (api.floor) and Prometheus metrics (api.metrics).

Every /api/ route and /metrics need `Authorization: Bearer <token>` (api.auth); every error
is JSON.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import hdrs, web
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import admin, auth, metrics, schemas
from hotline.api import floor as floor_view
from hotline.api.admin import ENGINE, ON_CHANGE, OnChange, no_change
from hotline.api.floor import DEFAULT_TZ, FLOOR, TZ, Snapshot, empty_snapshot
from hotline.db import queries

__all__ = ["ENGINE", "FLOOR", "HEALTH", "ON_CHANGE", "TOKEN", "TZ", "OnChange", "make_app"]

log = logging.getLogger(__name__)

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
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error as JSON: our Problems, aiohttp's own (404, 405, 413), and the rest."""
    try:
        return await handler(request)
    except schemas.Problem as err:
        return _json(err.body(), err.status)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        reply = _json({"error": (err.reason or "error").lower().replace(" ", "_")}, err.status)
        if "Allow" in err.headers:
            reply.headers["Allow"] = err.headers["Allow"]
        return reply
    except (OperationalError, InterfaceError, OSError) as err:
        log.warning("database unavailable for %s %s: %s", request.method, request.path, err)
        return _json({"error": "unavailable", "detail": "the database is unavailable"}, 503)
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return _json({"error": "internal"}, 500)


@web.middleware
async def _auth(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith("/api/") or request.path == "/metrics":
        header = request.headers.get("Authorization", "")
        principal = await auth.authenticate(request.app[ENGINE], request.app[TOKEN], header)
        if principal is None:
            return _json({"error": "unauthorized", "detail": "send Authorization: Bearer"}, 401)
        request[auth.PRINCIPAL] = principal
    return await handler(request)


async def health(request: web.Request) -> web.Response:
    return _json(request.app[HEALTH]())


async def calls(request: web.Request) -> web.Response:
    limit = schemas.limit(request.query.get("limit"))
    async with request.app[ENGINE].connect() as conn:
        return _json(await queries.recent_calls(conn, limit))


async def cases(request: web.Request) -> web.Response:
    limit = schemas.limit(request.query.get("limit"))
    async with request.app[ENGINE].connect() as conn:
        return _json(await queries.recent_cases(conn, limit))


async def timeline(request: web.Request) -> web.Response:
    try:
        case_id = uuid.UUID(request.match_info["case_id"])
    except ValueError:
        return _json({"error": "invalid", "field": "case_id", "detail": "not a UUID"}, 422)
    async with request.app[ENGINE].connect() as conn:
        return _json(await queries.case_timeline(conn, case_id))


async def floor(request: web.Request) -> web.Response:
    auth.require(request, "admin", "supervisor")
    app = request.app
    return _json(await floor_view.view(app[ENGINE], app[FLOOR], app[TZ]))


async def prometheus(request: web.Request) -> web.Response:
    """Any role: Prometheus scrapes with a bearer token of its own."""
    app = request.app
    view = await floor_view.view(app[ENGINE], app[FLOOR], app[TZ])
    text = metrics.render(metrics.collect(view, app[HEALTH]()))
    return web.Response(body=text.encode(), headers={hdrs.CONTENT_TYPE: metrics.CONTENT_TYPE})


def make_app(
    engine: AsyncEngine,
    token: str,
    health_fn: Callable[[], dict[str, Any]],
    *,
    on_change: OnChange = no_change,
    floor_fn: Snapshot = empty_snapshot,
    tz: ZoneInfo = DEFAULT_TZ,
) -> web.Application:
    """`token` (HOTLINE_API_TOKEN) acts as the built-in admin "env-admin"; empty disables it.
    `on_change(entity, key)` is awaited after each admin change commits. `floor_fn` is the
    desk's live snapshot (Desk.snapshot); `tz` the hotline's time zone, whose midnight starts
    the figures "today"."""
    app = web.Application(middlewares=[_errors, _auth])
    app[ENGINE] = engine
    app[TOKEN] = token
    app[HEALTH] = health_fn
    app[ON_CHANGE] = on_change
    app[FLOOR] = floor_fn
    app[TZ] = tz
    app.router.add_get("/healthz", health)
    app.router.add_get("/api/calls", calls)
    app.router.add_get("/api/cases", cases)
    app.router.add_get("/api/cases/{case_id}/timeline", timeline)
    app.router.add_get("/api/floor", floor)
    app.router.add_get("/metrics", prometheus)
    admin.add_routes(app.router)
    return app
