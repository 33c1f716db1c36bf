"""Routes about the service itself: health, the OpenAPI document, the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.openapi import document
from hotline.api.reads import logged
from hotline.api.replies import reply
from hotline.api.routes import Query, Route
from hotline.db.audit import audit_entries

TAG = "service"


class ControllerSeen(BaseModel):
    name: str
    host: str
    role: str
    alive: bool


class Health(BaseModel):
    status: str
    role: str | None = None  # leader or standby (issue 16)
    name: str | None = None
    epoch: int | None = None
    leader: str | None = None
    controllers: list[ControllerSeen] = []
    ari_connected: bool
    live_calls: int
    records_queued: int
    event_subscribers: int
    callbacks_pending: int
    uptime_s: float


class AuditEntryReply(BaseModel):
    id: int
    at: dt.datetime
    actor: str
    action: str
    entity: str
    entity_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def routes(
    engine: AsyncEngine,
    health: Callable[[], dict[str, Any]],
    version: str,
    others: Sequence[Route],
) -> list[Route]:
    """`others` and the meta routes; the OpenAPI document describes them all."""
    doc: dict[str, Any] = {}

    async def healthz(request: web.Request) -> web.Response:
        return reply(health())

    async def openapi(request: web.Request) -> web.Response:
        return reply(doc)

    async def audit(request: web.Request) -> web.Response:
        limit = bodies.limit(request.query.get("limit"))
        async with engine.begin() as conn:
            await logged(conn, principal(request), "audit")
            return reply(await audit_entries(conn, limit))

    limit = Query("limit", "at most this many (1-1000, default 50)", {"type": "integer"})
    mine = [
        Route(
            "GET",
            "/healthz",
            healthz,
            "Is the service up, and connected to Asterisk",
            TAG,
            access="public",
            reply=Health,
        ),
        Route(
            "GET",
            "/api/openapi.json",
            openapi,
            "This document",
            TAG,
            access="public",
            reply=dict[str, Any],
        ),
        Route(
            "GET",
            "/api/audit",
            audit,
            "The audit log: every admin change, the latest first",
            "access",
            roles=("admin", "supervisor"),
            query=(limit,),
            reply=list[AuditEntryReply],
            errors=(422,),
        ),
    ]
    everything = [*others, *mine]
    doc.update(document(everything, title="Hotline call controller", version=version))
    return everything
