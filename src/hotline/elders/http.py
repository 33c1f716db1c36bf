"""Routes of elders' records (R22, R27): search (summaries only), the full record as
elders.access allows or opened with a reason, edits (audited), and the access log.

Personal data never goes in a URL: records are named by id. The one exception is the
search text `?q=` (a name or a number); the service logs no query strings (no access log;
errors log the path alone).
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.reads import logged
from hotline.api.replies import reply
from hotline.api.routes import ID, Query, Route
from hotline.core.errors import Invalid
from hotline.core.words import Role
from hotline.elders import service, store
from hotline.elders.schemas import (
    AccessEntry,
    ElderBody,
    ElderRecord,
    ElderSummary,
    OpenBody,
    SearchBody,
)
from hotline.elders.service import Publish

TAG = "elders"
LONGEST_QUERY = 100
ELDER = Query("elder_id", "only looks at this elder's record", {"type": "integer"})
OPERATOR = Query("operator_id", "only this operator's looks", {"type": "integer"})
LOG_LIMIT = Query("limit", "at most this many (1-1000, default 100)", {"type": "integer"})
ONE = {"elder_id": ID}
ANYONE: tuple[Role, ...] = ("admin", "supervisor", "operator")
KEEPERS: tuple[Role, ...] = ("admin", "supervisor")


def _id(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 18 and int(raw) >= 1):
        raise Invalid(name, "Input should be a numeric id")
    return int(raw)


def _shown(record: ElderRecord) -> web.Response:
    return reply(record.model_dump(mode="json", by_alias=True))


def routes(engine: AsyncEngine, tz: ZoneInfo, publish: Publish | None = None) -> list[Route]:
    def today() -> dt.date:
        return dt.datetime.now(tz).date()

    async def found(request: web.Request) -> web.Response:
        """A POST: what is looked for (a name, a number) is personal data, kept out of URLs."""
        body = bodies.parse(SearchBody, await request.read())
        q = body.q.strip()
        if not q:
            raise Invalid("q", f"a name, a number or an id: 1 to {LONGEST_QUERY} characters")
        async with engine.begin() as conn:
            await logged(conn, principal(request), "search", why="search", target=q)
            hits = await store.search(conn, q, today=today(), limit=body.limit)
        return reply(hits)

    async def look(request: web.Request, reason: str | None) -> web.Response:
        who, elder_id = principal(request), int(request.match_info["elder_id"])
        async with engine.begin() as conn:
            record = await service.look(
                conn,
                who,
                elder_id,
                now=dt.datetime.now(dt.UTC),
                today=today(),
                reason=reason,
                publish=publish,
            )
        return _shown(record)

    async def one(request: web.Request) -> web.Response:
        return await look(request, None)

    async def opened(request: web.Request) -> web.Response:
        body = bodies.parse(OpenBody, await request.read())
        return await look(request, body.reason)

    async def patch(request: web.Request) -> web.Response:
        who, elder_id = principal(request), int(request.match_info["elder_id"])
        body = bodies.parse(ElderBody, await request.read())
        async with engine.begin() as conn:
            record = await service.edit(
                conn, who, elder_id, body.changes(), now=dt.datetime.now(dt.UTC), today=today()
            )
        return _shown(record)

    async def looks(request: web.Request) -> web.Response:
        elder_id, operator_id = _id(request, "elder_id"), _id(request, "operator_id")
        limit = bodies.limit(request.query.get("limit"), default=100)
        async with engine.begin() as conn:
            await logged(conn, principal(request), "access_log", elder_id=elder_id)
            entries = await store.access_log(
                conn, elder_id=elder_id, operator_id=operator_id, limit=limit
            )
        return reply(entries)

    return [
        Route(
            "POST",
            "/api/elders/search",
            found,
            "Find elders by name, phone number or id: summaries only (no health, no address)",
            TAG,
            roles=ANYONE,
            body=SearchBody,
            reply=list[ElderSummary],
            errors=(422,),
        ),
        Route(
            "GET",
            "/api/elders/{elder_id}",
            one,
            "An elder's full record (R22), for an operator only with a tie to the elder "
            "(a call offered, a case owned); the look is logged (R27)",
            TAG,
            roles=ANYONE,
            params=ONE,
            reply=ElderRecord,
        ),
        Route(
            "POST",
            "/api/elders/{elder_id}/open",
            opened,
            "Open an elder's full record with a reason (logged with it and shown to the "
            "supervisors, R27; an operator at most 10 an hour, then 429)",
            TAG,
            roles=ANYONE,
            params=ONE,
            body=OpenBody,
            reply=ElderRecord,
            errors=(404, 422, 429),
        ),
        Route(
            "PATCH",
            "/api/elders/{elder_id}",
            patch,
            "Change an elder's record: only the fields sent; who may see it without a reason; "
            "high_risk by supervisors only (audited: who, before and after of what changed)",
            TAG,
            roles=ANYONE,
            params=ONE,
            body=ElderBody,
            reply=ElderRecord,
            errors=(403, 404, 422),
        ),
        Route(
            "GET",
            "/api/record-access",
            looks,
            "Who looked at which elder's record, when and why (R27), newest first",
            TAG,
            roles=KEEPERS,
            query=(ELDER, OPERATOR, LOG_LIMIT),
            reply=list[AccessEntry],
            errors=(422,),
        ),
    ]
