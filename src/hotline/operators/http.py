"""Routes of the operators: CRUD for admins, state for admins, supervisors and the operator."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api import bodies
from hotline.api.auth import principal
from hotline.api.replies import OnChange, change, outcome_reply, read, reply
from hotline.api.routes import ID, Route
from hotline.core.errors import Unavailable
from hotline.core.passwords import Busy, Passwords
from hotline.db.audit import Outcome
from hotline.operators import store
from hotline.operators.schemas import (
    ConsolePassword,
    OperatorCreateBody,
    OperatorReply,
    OperatorUpdateBody,
    StateChangeBody,
)

TAG = "operators"


class PasswordBody(bodies.Body):
    console_password: ConsolePassword


async def _hashed(passwords: Passwords, password: str | None) -> str | None:
    """The console password's hash, made before the change's transaction opens."""
    if password is None:
        return None
    try:
        return await passwords.hash(password)
    except Busy:
        raise Unavailable(
            "console_password", "too many passwords being checked: try again"
        ) from None


def routes(engine: AsyncEngine, on_change: OnChange, passwords: Passwords) -> list[Route]:
    def _id(request: web.Request) -> int:
        return int(request.match_info["id"])

    async def list_operators(request: web.Request) -> web.Response:
        return reply(await read(engine, store.list_operators))

    async def create_operator(request: web.Request) -> web.Response:
        actor = principal(request).name
        body = bodies.parse(OperatorCreateBody, await request.read())
        hashed = await _hashed(passwords, body.console_password)
        return outcome_reply(
            await change(engine, on_change, lambda c: store.create_operator(c, actor, body, hashed))
        )

    async def get_operator(request: web.Request) -> web.Response:
        operator_id = _id(request)
        return reply(await read(engine, lambda c: store.get_operator(c, operator_id)))

    async def update_operator(request: web.Request) -> web.Response:
        actor, operator_id = principal(request).name, _id(request)
        patch = bodies.load_object(await request.read())
        password = patch.get("console_password")
        if password is not None:  # checked as a body first: nothing hashed for a bad one
            bodies.validate(PasswordBody, {"console_password": password})
        hashed = await _hashed(passwords, password if isinstance(password, str) else None)

        async def apply(conn: AsyncConnection) -> Outcome:
            before = await store.get_operator(conn, operator_id, lock=True)
            body = bodies.merge(OperatorUpdateBody, before, patch, fixed=("username",))
            return await store.update_operator(conn, actor, before, body, hashed)

        return outcome_reply(await change(engine, on_change, apply))

    async def delete_operator(request: web.Request) -> web.Response:
        """204 when deleted; 200 with the record when history keeps it (deactivated)."""
        actor, operator_id = principal(request).name, _id(request)
        return outcome_reply(
            await change(engine, on_change, lambda c: store.delete_operator(c, actor, operator_id))
        )

    async def set_state(request: web.Request) -> web.Response:
        actor, operator_id = principal(request).name, _id(request)
        body = bodies.parse(StateChangeBody, await request.read())
        return outcome_reply(
            await change(engine, on_change, lambda c: store.set_state(c, actor, operator_id, body))
        )

    one = {"id": ID}
    return [
        Route(
            "GET",
            "/api/operators",
            list_operators,
            "List operators",
            TAG,
            roles=("admin", "supervisor"),
            reply=list[OperatorReply],
        ),
        Route(
            "POST",
            "/api/operators",
            create_operator,
            "Create an operator (and push their softphone account to Asterisk)",
            TAG,
            roles=("admin",),
            body=OperatorCreateBody,
            reply=OperatorReply,
            status=201,
            errors=(409, 422),
        ),
        Route(
            "GET",
            "/api/operators/{id}",
            get_operator,
            "One operator",
            TAG,
            roles=("admin", "supervisor"),
            self_operator=True,
            params=one,
            reply=OperatorReply,
            errors=(404,),
        ),
        Route(
            "PATCH",
            "/api/operators/{id}",
            update_operator,
            "Change an operator",
            TAG,
            roles=("admin",),
            params=one,
            body=OperatorUpdateBody,
            reply=OperatorReply,
            errors=(404, 422),
        ),
        Route(
            "DELETE",
            "/api/operators/{id}",
            delete_operator,
            "Delete an operator (one with history is deactivated instead, 200)",
            TAG,
            roles=("admin",),
            params=one,
            reply=OperatorReply,
            status=204,
            errors=(404,),
        ),
        Route(
            "PUT",
            "/api/operators/{id}/state",
            set_state,
            "Set an operator ready, paused (with a reason) or logged out",
            TAG,
            roles=("admin", "supervisor"),
            self_operator=True,
            params=one,
            body=StateChangeBody,
            reply=OperatorReply,
            errors=(404, 409, 422),
        ),
    ]
