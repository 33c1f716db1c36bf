"""Routes of emergencies: the operator's steps (the call's own task does them), what a case
shows of its emergency, the conference recordings, and the set-up admins edit."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Literal

from aiohttp import web
from pydantic import BaseModel, Field, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.reads import logged
from hotline.api.replies import OnChange, change, outcome_reply, read, reply
from hotline.api.routes import ID, UUID, PathParam, Route
from hotline.ari import AriClient, AriError
from hotline.ari import NotFound as AriNotFound
from hotline.calls.asking import Ask, OnCall, allowed, asked
from hotline.cases.actions import readable
from hotline.core.errors import Forbidden, NotFound, Unavailable
from hotline.core.words import Role
from hotline.db.models import Case
from hotline.emergency import store
from hotline.emergency.plan import valid_route
from hotline.emergency.requests import Confirm, EndConference, OperatorStep, RepeatSummary

TAG = "emergencies"
AREA = PathParam(r"[^/\x00-\x1f]{1,64}|\*", "an area (an elder's district), or * for any other")
RECORDING = PathParam(r"emergency-[0-9a-f]{32}-[0-9a-f]{8}", "a conference recording's name")
Route_ = Annotated[str, Field(pattern=r"^(PJSIP/[A-Za-z0-9_.-]{1,40}|[0-9]{3,15})$")]


class StepReply(BaseModel):
    status: Literal["confirmed", "playing", "out", "in", "ended"]


class OperatorStepBody(bodies.Body):
    action: Literal["out", "in"]


class LegReply(BaseModel):
    id: uuid.UUID
    role: str
    label: str
    number: str | None
    tier: int | None
    attempt: int
    dialled_at: dt.datetime | None
    answered_at: dt.datetime | None
    acknowledged_at: dt.datetime | None
    left_at: dt.datetime | None
    end_cause: int | None
    end_reason: str | None


class AckReply(BaseModel):
    role: str
    label: str
    at: dt.datetime


class RecordingReply(BaseModel):
    name: str
    started_at: dt.datetime
    stopped_at: dt.datetime | None


class TaskReply(BaseModel):
    id: uuid.UUID
    kind: str
    due_at: dt.datetime
    owner_operator_id: int | None
    status: str


class AlarmReply(BaseModel):
    id: uuid.UUID
    received_at: dt.datetime
    ref: str | None
    device_type: str | None
    device_id: str | None
    status_code: int | None
    alarm_type: str | None
    priority: int | None
    location_code: str | None
    location_text: str | None
    latitude: float | None
    longitude: float | None


class EmergencyReply(BaseModel):
    case_id: uuid.UUID
    ambulance_reached: bool
    legs: list[LegReply]
    acknowledged: list[AckReply]
    recordings: list[RecordingReply]
    tasks: list[TaskReply]
    alarms: list[AlarmReply]


class RouteBody(bodies.Body):
    ambulance: Route_
    ambulance_alt: Route_ | None = None


class NewRouteBody(RouteBody):
    area: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^([^/\x00-\x1f]+|\*)$")]


class RouteReply(BaseModel):
    area: str
    ambulance: str
    ambulance_alt: str | None


class PartyBody(bodies.Body):
    area: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    elder_id: Annotated[int, Field(ge=1)] | None = None
    role: Literal["care_centre", "community", "district_office", "other"]
    name: Annotated[str, Field(min_length=1, max_length=200)]
    number: Route_
    mode: Literal["call", "notify"] = "call"

    @model_validator(mode="after")
    def _one_scope(self) -> PartyBody:
        if (self.area is None) == (self.elder_id is None):
            raise ValueError("name exactly one of area or elder_id")
        if not valid_route(self.number):
            raise ValueError("number: not a dialable number or PJSIP endpoint")
        return self


class PartyReply(BaseModel):
    id: int
    area: str | None
    elder_id: int | None
    role: str
    name: str
    number: str
    mode: str


def routes(
    engine: AsyncEngine, on_change: OnChange, ask: Ask, on_call: OnCall, ari: AriClient | None
) -> list[Route]:
    return [*_steps(ask, on_call), *_views(engine, ari), *_setup(engine, on_change)]


def _steps(ask: Ask, on_call: OnCall) -> list[Route]:
    async def confirm(request: web.Request) -> web.Response:
        call_id, actor = allowed(request, on_call)
        return reply({"status": await asked(ask, call_id, Confirm(by=actor))}, 202)

    async def repeat(request: web.Request) -> web.Response:
        call_id, actor = allowed(request, on_call)
        return reply({"status": await asked(ask, call_id, RepeatSummary(by=actor))})

    async def operator(request: web.Request) -> web.Response:
        call_id, actor = allowed(request, on_call)
        body = bodies.parse(OperatorStepBody, await request.read())
        step = OperatorStep(by=actor, action=body.action)
        return reply({"status": await asked(ask, call_id, step)})

    async def end(request: web.Request) -> web.Response:
        call_id, actor = allowed(request, on_call)
        return reply({"status": await asked(ask, call_id, EndConference(by=actor))})

    on_calls: tuple[Role, ...] = ("admin", "supervisor", "operator")
    call = {"call_id": UUID}
    step_errors = (403, 404, 409)
    return [
        Route(
            "POST",
            "/api/calls/{call_id}/emergency",
            confirm,
            "Confirm an emergency: 120, the family and the parties are called into one "
            "conference with the caller and the operator",
            TAG,
            roles=on_calls,
            params=call,
            reply=StepReply,
            status=202,
            errors=step_errors,
        ),
        Route(
            "POST",
            "/api/calls/{call_id}/emergency/summary",
            repeat,
            "Play the spoken summary of the elder into the conference again",
            TAG,
            roles=on_calls,
            params=call,
            reply=StepReply,
            errors=step_errors,
        ),
        Route(
            "POST",
            "/api/calls/{call_id}/emergency/operator",
            operator,
            "The operator steps out of the conference (hears music) or back in",
            TAG,
            roles=on_calls,
            params=call,
            body=OperatorStepBody,
            reply=StepReply,
            errors=(*step_errors, 422),
        ),
        Route(
            "POST",
            "/api/calls/{call_id}/emergency/end",
            end,
            "End the conference: everyone is hung up",
            TAG,
            roles=on_calls,
            params=call,
            reply=StepReply,
            errors=step_errors,
        ),
    ]


def _views(engine: AsyncEngine, ari: AriClient | None) -> list[Route]:
    async def view(request: web.Request) -> web.Response:
        case_id = uuid.UUID(request.match_info["case_id"])
        who = principal(request)
        async with engine.begin() as conn:
            await readable(conn, case_id, who)
            await logged(conn, who, "emergency", case_id=case_id)
            return reply(await store.case_emergency(conn, case_id))

    async def recording(request: web.Request) -> web.StreamResponse:
        """The conference's recording: supervisors and admins, and the case's owner."""
        name = request.match_info["recording"]
        who = principal(request)
        async with engine.connect() as conn:
            found = await store.recording_case(conn, name)
            if found is None:
                raise NotFound("recording", "no such recording")
            case_id, purged_at = found
            owner = await conn.scalar(select(Case.owner_operator_id).where(Case.id == case_id))
        if who.role == "operator" and (who.operator_id is None or who.operator_id != owner):
            raise Forbidden("recording", "only the case's owner and supervisors may listen to it")
        if purged_at is not None:
            raise NotFound("recording", "removed after its retention period (R27)")
        if ari is None:
            raise Unavailable("recording", "recordings are served by the running service")
        async with engine.begin() as conn:  # logged before a byte of it is served
            await logged(conn, who, "recording", case_id=case_id, target=name)
        try:
            data = await ari.recording_file(name)
        except AriNotFound:
            raise NotFound("recording", "the recording is not (yet) stored") from None
        except AriError as err:
            raise Unavailable(
                "name", f"Asterisk did not give the recording ({err.status})"
            ) from err
        return web.Response(
            body=data,
            content_type="audio/wav",
            headers={"Content-Disposition": f'attachment; filename="{name}.wav"'},
        )

    on_calls: tuple[Role, ...] = ("admin", "supervisor", "operator")
    return [
        Route(
            "GET",
            "/api/cases/{case_id}/emergency",
            view,
            "A case's emergency: every leg, who acknowledged, recordings, tasks, alarm data",
            TAG,
            params={"case_id": UUID},
            reply=EmergencyReply,
            errors=(403, 404),
        ),
        Route(
            "GET",
            "/api/recordings/{recording}",
            recording,
            "Download a conference recording (WAV)",
            TAG,
            roles=on_calls,
            params={"recording": RECORDING},
            content_type="audio/wav",
            errors=(403, 404, 503),
        ),
    ]


def _setup(engine: AsyncEngine, on_change: OnChange) -> list[Route]:
    async def list_routes(request: web.Request) -> web.Response:
        return reply(await read(engine, store.list_routes))

    async def create_route(request: web.Request) -> web.Response:
        actor = principal(request).name
        body = bodies.parse(NewRouteBody, await request.read())
        return outcome_reply(
            await change(
                engine,
                on_change,
                lambda c: store.create_route(
                    c, actor, body.area, body.ambulance, body.ambulance_alt
                ),
            )
        )

    async def update_route(request: web.Request) -> web.Response:
        actor, area = principal(request).name, request.match_info["area"]
        body = bodies.parse(RouteBody, await request.read())
        return outcome_reply(
            await change(
                engine,
                on_change,
                lambda c: store.update_route(c, actor, area, body.ambulance, body.ambulance_alt),
            )
        )

    async def delete_route(request: web.Request) -> web.Response:
        actor, area = principal(request).name, request.match_info["area"]
        return outcome_reply(
            await change(engine, on_change, lambda c: store.delete_route(c, actor, area))
        )

    async def list_parties(request: web.Request) -> web.Response:
        return reply(await read(engine, store.list_parties))

    async def create_party(request: web.Request) -> web.Response:
        actor = principal(request).name
        body = bodies.parse(PartyBody, await request.read())
        return outcome_reply(
            await change(
                engine, on_change, lambda c: store.create_party(c, actor, body.model_dump())
            )
        )

    async def delete_party(request: web.Request) -> web.Response:
        actor, party_id = principal(request).name, int(request.match_info["id"])
        return outcome_reply(
            await change(engine, on_change, lambda c: store.delete_party(c, actor, party_id))
        )

    admin: tuple[Role, ...] = ("admin",)
    return [
        Route(
            "GET",
            "/api/emergency/routes",
            list_routes,
            "120's routes per area",
            TAG,
            reply=list[RouteReply],
        ),
        Route(
            "POST",
            "/api/emergency/routes",
            create_route,
            "Give an area (an elder's district, or * for any other) its route to 120",
            TAG,
            roles=admin,
            body=NewRouteBody,
            reply=RouteReply,
            status=201,
            errors=(403, 409, 422),
        ),
        Route(
            "PUT",
            "/api/emergency/routes/{area}",
            update_route,
            "Change an area's route to 120 (and its second one)",
            TAG,
            roles=admin,
            params={"area": AREA},
            body=RouteBody,
            reply=RouteReply,
            errors=(403, 404, 422),
        ),
        Route(
            "DELETE",
            "/api/emergency/routes/{area}",
            delete_route,
            "Remove an area's route (the default applies)",
            TAG,
            roles=admin,
            params={"area": AREA},
            status=204,
            errors=(403, 404),
        ),
        Route(
            "GET",
            "/api/emergency/parties",
            list_parties,
            "Parties an emergency calls or notifies (R10)",
            TAG,
            reply=list[PartyReply],
        ),
        Route(
            "POST",
            "/api/emergency/parties",
            create_party,
            "Add a party to call or notify for an area or an elder",
            TAG,
            roles=admin,
            body=PartyBody,
            reply=PartyReply,
            status=201,
            errors=(403, 422),
        ),
        Route(
            "DELETE",
            "/api/emergency/parties/{id}",
            delete_party,
            "Remove a party",
            TAG,
            roles=admin,
            params={"id": ID},
            status=204,
            errors=(403, 404),
        ),
    ]
