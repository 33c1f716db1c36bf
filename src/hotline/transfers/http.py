"""Routes of transfers: the call's own task does the work; these handlers only ask it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator

from hotline.api import bodies
from hotline.api.replies import reply
from hotline.api.routes import UUID, Route
from hotline.calls.asking import Ask, OnCall, allowed, asked
from hotline.core.words import Role
from hotline.transfers.requests import Transfer, TransferStep

Media = Annotated[str, Field(pattern=r"^(sound|recording|digits|number):[A-Za-z0-9_./-]{1,80}$")]
TAG = "transfers"


class TransferBody(bodies.Body):
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


class TransferReply(BaseModel):
    status: Literal["transferring", "consulting", "completed", "cancelled"]


def routes(ask: Ask, on_call: OnCall) -> list[Route]:
    async def transfer(request: web.Request) -> web.Response:
        call_id, actor = allowed(request, on_call)
        body = bodies.parse(TransferBody, await request.read())
        what = Transfer(
            by=actor,
            mode=body.mode,
            queue=body.queue,
            operator_id=body.operator_id,
            number=body.number,
        )
        if body.announce:
            what.announce = tuple(body.announce)
        return reply({"status": await asked(ask, call_id, what)}, 202)

    def step(
        action: Literal["complete", "cancel"],
    ) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(request: web.Request) -> web.Response:
            call_id, actor = allowed(request, on_call)
            return reply(
                {"status": await asked(ask, call_id, TransferStep(by=actor, action=action))}
            )

        return handler

    roles: tuple[Role, ...] = ("admin", "supervisor", "operator")
    one = {"call_id": UUID}
    return [
        Route(
            "POST",
            "/api/calls/{call_id}/transfer",
            transfer,
            "Transfer a connected call: "
            "blind to a queue, an operator or a number, or attended (consult first)",
            TAG,
            roles=roles,
            params=one,
            body=TransferBody,
            reply=TransferReply,
            status=202,
            errors=(403, 404, 409, 422),
        ),
        Route(
            "POST",
            "/api/calls/{call_id}/transfer/complete",
            step("complete"),
            "Complete an attended transfer: the caller meets the target",
            TAG,
            roles=roles,
            params=one,
            reply=TransferReply,
            errors=(403, 404, 409),
        ),
        Route(
            "POST",
            "/api/calls/{call_id}/transfer/cancel",
            step("cancel"),
            "Cancel an attended transfer: the caller returns to the operator",
            TAG,
            roles=roles,
            params=one,
            reply=TransferReply,
            errors=(403, 404, 409),
        ),
    ]
