"""Routes of supervision: a supervisor listens to an operator's call, whispers to the
operator, or barges in; switches between them; and ends it. The work is done by the
supervision's own task; these handlers only check who asks and ask it."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import read, reply
from hotline.api.routes import ID, UUID, Route
from hotline.core.errors import Conflict, NotFound
from hotline.core.words import Role
from hotline.supervision import store
from hotline.supervision.checks import supervisor_refusal
from hotline.supervision.service import Supervisions
from hotline.supervision.stasis import Supervision

TAG = "supervision"
ModeName = Literal["listen", "whisper", "barge"]


class SupervisionBody(bodies.Body):
    supervisor_id: Annotated[int, Field(ge=1)]
    mode: ModeName = "listen"


class ModeBody(bodies.Body):
    mode: ModeName


class SupervisionReply(BaseModel):
    id: uuid.UUID
    call_id: uuid.UUID
    operator_id: int
    supervisor_id: int
    mode: ModeName
    status: Literal["ringing", "on", "ended"]


def _shown(supervision: Supervision) -> dict[str, object]:
    t = supervision.target
    return {
        "id": t.supervision_id,
        "call_id": t.call_id,
        "operator_id": t.operator_id,
        "supervisor_id": t.supervisor_id,
        "mode": supervision.mode,
        "status": supervision.status,
    }


def routes(engine: AsyncEngine, supervisions: Supervisions) -> list[Route]:
    async def start(request: web.Request) -> web.Response:
        who = principal(request)
        operator_id = int(request.match_info["operator_id"])
        body = bodies.parse(SupervisionBody, await request.read())
        if not await read(engine, lambda c: store.operator_exists(c, operator_id)):
            raise NotFound("operator_id", "no such operator")
        found = await read(engine, lambda c: store.supervisor(c, body.supervisor_id))
        why = supervisor_refusal(found)
        if why is not None:
            raise Conflict("supervisor_id", why)
        assert found is not None and found.endpoint is not None
        supervision = await supervisions.start(
            operator_id, found.id, found.endpoint, body.mode, by=who.name, role=who.role
        )
        return reply(_shown(supervision), 202)

    async def change_mode(request: web.Request) -> web.Response:
        supervision_id = uuid.UUID(request.match_info["supervision_id"])
        body = bodies.parse(ModeBody, await request.read())
        supervisions.get(supervision_id)  # 404 before anything else
        who = principal(request)
        changed = await supervisions.change(supervision_id, body.mode, who.name, who.role)
        return reply(_shown(changed))

    async def stop(request: web.Request) -> web.Response:
        supervision_id = uuid.UUID(request.match_info["supervision_id"])
        stopped = await supervisions.stop(supervision_id, principal(request).name)
        return reply(_shown(stopped))

    roles: tuple[Role, ...] = ("admin", "supervisor")
    one = {"supervision_id": UUID}
    return [
        Route(
            "POST",
            "/api/operators/{operator_id}/supervision",
            start,
            "Supervise an operator's call: the supervisor's softphone rings, then they listen, "
            "whisper to the operator (the caller does not hear), or barge in (both hear)",
            TAG,
            roles=roles,
            params={"operator_id": ID},
            body=SupervisionBody,
            reply=SupervisionReply,
            status=202,
            errors=(403, 404, 409, 422),
        ),
        Route(
            "PATCH",
            "/api/supervision/{supervision_id}",
            change_mode,
            "Switch a supervision between listen, whisper and barge (nobody is rung again)",
            TAG,
            roles=roles,
            params=one,
            body=ModeBody,
            reply=SupervisionReply,
            errors=(403, 404, 409, 422),
        ),
        Route(
            "DELETE",
            "/api/supervision/{supervision_id}",
            stop,
            "End a supervision: the supervisor's leg, the snoop and their bridge are gone",
            TAG,
            roles=roles,
            params=one,
            reply=SupervisionReply,
            errors=(403, 404, 409),
        ),
    ]
