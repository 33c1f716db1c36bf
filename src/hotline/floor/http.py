"""Routes of the floor: the supervisors' live view and the Prometheus metrics."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import hdrs, web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api.replies import reply
from hotline.api.routes import Route
from hotline.floor import metrics
from hotline.floor.view import FloorReply, Snapshot, view

TAG = "floor"


def routes(
    engine: AsyncEngine, snapshot: Snapshot, tz: ZoneInfo, health: Callable[[], dict[str, Any]]
) -> list[Route]:
    async def floor(request: web.Request) -> web.Response:
        return reply((await view(engine, snapshot, tz)).model_dump(mode="json"))

    async def prometheus(request: web.Request) -> web.Response:
        """Any role: Prometheus scrapes with a bearer token of its own."""
        text = metrics.render(metrics.collect(await view(engine, snapshot, tz), health()))
        return web.Response(body=text.encode(), headers={hdrs.CONTENT_TYPE: metrics.CONTENT_TYPE})

    return [
        Route(
            "GET",
            "/api/floor",
            floor,
            "The live floor: queues, waiting calls, operators, today's figures",
            TAG,
            roles=("admin", "supervisor"),
            reply=FloorReply,
        ),
        Route(
            "GET",
            "/metrics",
            prometheus,
            "The floor and the service's health in Prometheus' text format",
            TAG,
            content_type=metrics.CONTENT_TYPE,
            reply=str,
        ),
    ]
