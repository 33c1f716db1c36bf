"""Replies and admin changes, shared by every feature's HTTP handlers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.db.audit import Outcome

log = logging.getLogger(__name__)

OnChange = Callable[[str, str], Awaitable[None]]
"""Called after an admin change commits, with the audit row's entity and key."""


async def no_change(entity: str, key: str) -> None:
    """The default OnChange: nothing listens."""


def _default(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, frozenset | tuple | set):
        return list(value)
    raise TypeError(type(value).__name__)


def dumps(data: object) -> str:
    return json.dumps(data, default=_default, ensure_ascii=False)


def reply(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


def outcome_reply(outcome: Outcome) -> web.Response:
    if outcome.record is None:
        return web.Response(status=204)
    return reply(outcome.record, 201 if outcome.created else 200)


async def read(engine: AsyncEngine, query: Callable[[AsyncConnection], Awaitable[Any]]) -> Any:
    async with engine.connect() as conn:
        return await query(conn)


async def change(
    engine: AsyncEngine,
    on_change: OnChange,
    fn: Callable[[AsyncConnection], Awaitable[Outcome]],
) -> Outcome:
    """Run `fn` in one transaction; once committed, tell `on_change`."""
    async with engine.begin() as conn:
        outcome = await fn(conn)
    if outcome.change is not None:
        entity, key = outcome.change.entity, outcome.change.key
        try:
            await on_change(entity, key)
        except Exception:
            log.exception("on_change(%s, %s) failed; the change itself is committed", entity, key)
    return outcome
