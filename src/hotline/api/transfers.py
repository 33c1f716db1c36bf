"""Transfers of a connected call (R5): blind or attended, to a queue, an operator or an
outside number. The call's own task does the work; these handlers only ask it."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from aiohttp import web
from pydantic import Field, model_validator

from hotline.api.auth import require
from hotline.api.schemas import Body, Conflict, Forbidden, Invalid, NotFound, parse
from hotline.calls.signals import Transfer, TransferRefused, TransferStep

Media = Annotated[str, Field(pattern=r"^(sound|recording|digits|number):[A-Za-z0-9_./-]{1,80}$")]
Ask = Callable[[uuid.UUID, Transfer | TransferStep], Awaitable[str]]
OnCall = Callable[[int, uuid.UUID], bool]

ASK: web.AppKey[Ask] = web.AppKey("transfer_ask")
ON_CALL: web.AppKey[OnCall] = web.AppKey("transfer_on_call")


class TransferBody(Body):
    mode: Literal["blind", "attended"] = "blind"
    queue: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,31}$")] | None = None
    operator_id: Annotated[int, Field(ge=1)] | None = None
    number: Annotated[str, Field(pattern=r"^\+?[0-9]{3,15}$")] | None = None
    # What the caller hears about who takes over: a recording naming the organisation,
    # the person and their role (R5). Default: a generic "transferring" prompt.
    announce: Annotated[list[Media], Field(min_length=1, max_length=5)] | None = None

    @model_validator(mode="after")
    def _one_target(self) -> TransferBody:
        if sum(x is not None for x in (self.queue, self.operator_id, self.number)) != 1:
            raise ValueError("name exactly one target: queue, operator_id or number")
        return self


def _call_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["call_id"])
    except ValueError:
        raise Invalid("call_id", "not a UUID") from None


def _allowed(request: web.Request, call_id: uuid.UUID) -> str:
    """Admins and supervisors; an operator only for a call they are on."""
    who = require(request, "admin", "supervisor", "operator")
    if who.role == "operator" and (
        who.operator_id is None or not request.app[ON_CALL](who.operator_id, call_id)
    ):
        raise Forbidden("call_id", "you are not on this call")
    return who.name


async def _ask(request: web.Request, call_id: uuid.UUID, what: Transfer | TransferStep) -> str:
    try:
        return await request.app[ASK](call_id, what)
    except TransferRefused as err:
        if "no such call" in str(err):
            raise NotFound("call_id", str(err)) from None
        raise Conflict("call_id", str(err)) from None


async def transfer(request: web.Request) -> web.Response:
    call_id = _call_id(request)
    actor = _allowed(request, call_id)
    body = parse(TransferBody, await request.read())
    request_ = Transfer(
        mode=body.mode,
        by=actor,
        queue=body.queue,
        operator_id=body.operator_id,
        number=body.number,
    )
    if body.announce:
        request_.announce = tuple(body.announce)
    status = await _ask(request, call_id, request_)
    return web.json_response({"status": status}, status=202)


def _step(
    action: Literal["complete", "cancel"],
) -> Callable[[web.Request], Awaitable[web.Response]]:
    async def handler(request: web.Request) -> web.Response:
        call_id = _call_id(request)
        actor = _allowed(request, call_id)
        status = await _ask(request, call_id, TransferStep(action, actor))
        return web.json_response({"status": status})

    return handler


def add_routes(app: web.Application, ask: Ask, on_call: OnCall) -> None:
    app[ASK] = ask
    app[ON_CALL] = on_call
    app.router.add_post("/api/calls/{call_id}/transfer", transfer)
    app.router.add_post("/api/calls/{call_id}/transfer/complete", _step("complete"))
    app.router.add_post("/api/calls/{call_id}/transfer/cancel", _step("cancel"))
