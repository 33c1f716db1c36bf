"""The HTTP app, built from the features' route lists.

Every error is JSON ({"error", "field"?, "detail"?}). Every route but the public ones needs
`Authorization: Bearer <token>`; a route's roles are checked before its handler runs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from aiohttp import web
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import auth
from hotline.api.replies import reply
from hotline.api.routes import Handler, Route
from hotline.core.errors import Forbidden, Problem

log = logging.getLogger(__name__)

ROUTES: web.AppKey[tuple[Route, ...]] = web.AppKey("routes")


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error as JSON: our Problems, aiohttp's own (404, 405, 413), and the rest."""
    try:
        return await handler(request)
    except Problem as err:
        return reply(err.body(), err.status)
    except web.HTTPException as err:
        if err.status < 400:
            raise
        answer = reply({"error": (err.reason or "error").lower().replace(" ", "_")}, err.status)
        if "Allow" in err.headers:
            answer.headers["Allow"] = err.headers["Allow"]
        return answer
    except (OperationalError, InterfaceError, OSError) as err:
        log.warning("database unavailable for %s %s: %s", request.method, request.path, err)
        return reply({"error": "unavailable", "detail": "the database is unavailable"}, 503)
    except DBAPIError as err:
        if _data_error(err):  # a value PostgreSQL cannot take: the input is wrong
            return reply({"error": "invalid", "detail": "a value cannot be stored as given"}, 422)
        log.exception("database error in %s %s", request.method, request.path)
        return reply({"error": "internal"}, 500)
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return reply({"error": "internal"}, 500)


def _data_error(err: DBAPIError) -> bool:
    """SQLSTATE class 22 (data exception: a NUL byte in a text, a number out of range).
    asyncpg's errors reach SQLAlchemy as a plain DBAPIError, not DataError."""
    return str(getattr(err.orig, "sqlstate", None) or "").startswith("22")


def _guarded(route: Route, engine: AsyncEngine, token: str) -> Handler:
    """Authenticate, check the role, check the path parameters, then run the handler."""
    handler = route.checked()
    if route.access == "public":
        return handler

    async def guarded(request: web.Request) -> web.StreamResponse:
        header = request.headers.get("Authorization", "")
        who = await auth.authenticate(engine, token, header)
        if who is None:
            return reply({"error": "unauthorized", "detail": "send Authorization: Bearer"}, 401)
        request[auth.PRINCIPAL] = who
        own: int | None = None
        raw = request.match_info.get("id", "")
        if route.self_operator and raw.isdigit() and len(raw) <= 18:
            own = int(raw)
        if not auth.allowed(who, route.roles, own):
            raise Forbidden(detail=f"the {who.role} role may not do this")
        return await handler(request)

    return guarded


@web.middleware
async def _unknown_api(request: web.Request, handler: Handler) -> web.StreamResponse:
    """An unknown /api/ path without a token is 401, as a known one would be: the set of
    routes is not told to strangers."""
    resource = request.match_info.route.resource
    if (
        resource is None
        and request.path.startswith("/api/")
        and (
            await auth.authenticate(
                request.app[_ENGINE], request.app[_TOKEN], request.headers.get("Authorization", "")
            )
            is None
        )
    ):
        return reply({"error": "unauthorized", "detail": "send Authorization: Bearer"}, 401)
    return await handler(request)


_ENGINE = web.AppKey("engine", AsyncEngine)
_TOKEN = web.AppKey("token", str)


def make_app(
    engine: AsyncEngine,
    token: str,
    routes: Sequence[Route],
    *,
    outside: object = None,
    before: Sequence[object] = (),
) -> web.Application:
    """`token` (HOTLINE_API_TOKEN) acts as the built-in admin "env-admin"; empty disables it.
    `outside`: the edge's middleware (api.edge), first, so every part sees the request as
    the outside made it; then `before` (a standby's gate), then the API's own."""
    first = [*([outside] if outside is not None else []), *before]
    app = web.Application(middlewares=[*first, _errors, _unknown_api])  # type: ignore[list-item]
    app[_ENGINE] = engine
    app[_TOKEN] = token
    app[ROUTES] = tuple(routes)
    seen: set[tuple[str, str]] = set()
    for route in routes:
        key = (route.method, route.path)
        if key in seen:
            raise ValueError(f"route {route.method} {route.path} listed twice")
        seen.add(key)
        app.router.add_route(route.method, route.path, _guarded(route, engine, token))
    return app
