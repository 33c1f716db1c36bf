"""Leadership at the HTTP edge: a standby answers only who leads; everything else waits for
the leader (503 with Retry-After), so a load balancer or an operator's browser retries
there. `GET /api/leader` is 200 on the leader and 503 on a standby: the check a load
balancer (or keepalived) points at."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from hotline.api.replies import reply
from hotline.api.routes import Route

OPEN_ON_STANDBY = frozenset({"/healthz", "/api/leader", "/api/openapi.json"})
TAG = "service"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class ControllerSeen(BaseModel):
    name: str
    host: str
    role: str
    alive: bool


class LeaderReply(BaseModel):
    role: str
    name: str
    epoch: int | None
    leader: str | None
    controllers: list[ControllerSeen]


def gate(leading: Callable[[], bool]) -> object:
    """The middleware: on a standby, only OPEN_ON_STANDBY is served."""

    @web.middleware
    async def standby(request: web.Request, handler: Handler) -> web.StreamResponse:
        if leading() or request.path in OPEN_ON_STANDBY:
            return await handler(request)
        return web.json_response(
            {"error": "standby", "detail": "this controller stands by: ask the leader"},
            status=503,
            headers={"Retry-After": "1"},
        )

    return standby


def routes(view: Callable[[], dict[str, Any]]) -> list[Route]:
    async def leader(request: web.Request) -> web.Response:
        seen = view()
        return reply(seen, 200 if seen["role"] == "leader" else 503)

    return [
        Route(
            "GET",
            "/api/leader",
            leader,
            "Does this controller lead (200) or stand by (503); the controllers seen",
            TAG,
            access="public",
            reply=LeaderReply,
            errors=(503,),
        )
    ]
