"""Routes of the satisfaction survey: hand a talking caller to it (the call's own task does
the work; this handler only asks)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import BaseModel

from hotline.api.replies import reply
from hotline.api.routes import UUID, Route
from hotline.calls.asking import Ask, OnCall, allowed, asked
from hotline.core.words import Role
from hotline.survey.requests import Survey

TAG = "survey"


class SurveyReply(BaseModel):
    status: Literal["surveying"]


def routes(ask: Ask, on_call: OnCall) -> list[Route]:
    async def survey(request: web.Request) -> web.Response:
        call_id, actor = allowed(request, on_call)
        return reply({"status": await asked(ask, call_id, Survey(by=actor))}, 202)

    roles: tuple[Role, ...] = ("admin", "supervisor", "operator")
    return [
        Route(
            "POST",
            "/api/calls/{call_id}/survey",
            survey,
            "Hand a connected caller to the satisfaction survey (R21): the operator is free "
            "at once, the caller answers on the keypad",
            TAG,
            roles=roles,
            params={"call_id": UUID},
            reply=SurveyReply,
            status=202,
            errors=(403, 404, 409),
        ),
    ]
