"""Asking a call's own task to do something from an HTTP handler (a transfer, an
emergency's steps): who may ask, and how a refusal becomes an HTTP error."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiohttp import web

from hotline.api.auth import principal
from hotline.calls.messages import Refused, Request
from hotline.core.errors import Conflict, Forbidden, NotFound

Ask = Callable[[uuid.UUID, Request], Awaitable[str]]
"""Hand a request to a call's task and wait for its answer (Switchboard.request)."""
OnCall = Callable[[int, uuid.UUID], bool]
"""Is this operator on this call (the desk)."""


def allowed(request: web.Request, on_call: OnCall) -> tuple[uuid.UUID, str]:
    """The call and who asks: admins and supervisors; an operator only for a call they are on."""
    call_id = uuid.UUID(request.match_info["call_id"])
    who = principal(request)
    if who.role == "operator" and (
        who.operator_id is None or not on_call(who.operator_id, call_id)
    ):
        raise Forbidden("call_id", "you are not on this call")
    return call_id, who.name


async def asked(ask: Ask, call_id: uuid.UUID, what: Request) -> str:
    """The call's answer; a call that is gone is a 404, a refusal a 409 saying why."""
    try:
        return await ask(call_id, what)
    except Refused as err:
        if "no such call" in str(err):
            raise NotFound("call_id", str(err)) from None
        raise Conflict("call_id", str(err)) from None
