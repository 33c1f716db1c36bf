"""API tokens: stored as SHA-256 only; the token itself is shown once, at creation."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, Field, StringConstraints, ValidationInfo, field_validator
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.api.auth import hash_token, new_token, principal
from hotline.api.bodies import Body, parse
from hotline.api.replies import OnChange, change, outcome_reply, reply
from hotline.api.routes import TOKEN_NAME, Route
from hotline.core.errors import Conflict, Invalid, NotFound
from hotline.core.words import Role
from hotline.db.audit import Outcome, as_record, audit
from hotline.db.models import ApiToken, Operator

_TOKEN = (ApiToken.name, ApiToken.role, ApiToken.operator_id, ApiToken.expires_at)
LIFETIME_DAYS = 90  # a token's default life; at most a year


async def create_token(
    conn: AsyncConnection,
    actor: str,
    *,
    name: str,
    role: str,
    operator_id: int | None,
    sha256: str,
    reserved: str,
    days: int = LIFETIME_DAYS,
) -> Outcome:
    if name == reserved:
        raise Conflict("name", "this name is reserved for the built-in admin token")
    if operator_id is not None:
        held = select(Operator.id).where(Operator.id == operator_id).with_for_update(read=True)
        if await conn.scalar(held) is None:
            raise Invalid("operator_id", "no such operator")
    query = (
        pg_insert(ApiToken)
        .values(
            name=name,
            role=role,
            operator_id=operator_id,
            token_sha256=sha256,
            expires_at=func.now() + dt.timedelta(days=days),
        )
        .on_conflict_do_nothing()
        .returning(*_TOKEN)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise Conflict("name", "a token with this name exists (names of revoked tokens stay)")
    record = as_record(row)
    change = await audit(conn, actor, "create", "token", name, before=None, after=record)
    return Outcome(record, change, created=True)


async def revoke_token(conn: AsyncConnection, actor: str, name: str) -> Outcome:
    query = (
        update(ApiToken)
        .where(ApiToken.name == name, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
        .returning(*_TOKEN)
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise NotFound("name")
    change = await audit(conn, actor, "delete", "token", name, before=as_record(row), after=None)
    return Outcome(None, change)


# --- routes ------------------------------------------------------------------------------


class TokenBody(Body):
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_.@-]{0,63}$")]
    role: Role
    operator_id: Annotated[int, Field(ge=1, le=2**63 - 1)] | None = Field(
        default=None, validate_default=True
    )
    expires_in_days: Annotated[int, Field(ge=1, le=366)] = LIFETIME_DAYS

    @field_validator("operator_id")
    @classmethod
    def _operator_iff_role(cls, value: int | None, info: ValidationInfo) -> int | None:
        role = info.data.get("role")
        if role == "operator" and value is None:
            raise ValueError("required for an operator token")
        if role in ("admin", "supervisor") and value is not None:
            raise ValueError("only an operator token carries an operator_id")
        return value


class TokenReply(BaseModel):
    name: str
    role: Role
    token: str
    expires_at: dt.datetime


def routes(engine: AsyncEngine, on_change: OnChange, builtin_admin: str) -> list[Route]:
    async def create(request: web.Request) -> web.Response:
        """201 {"name", "role", "token"}: the token is shown this once; only its hash is kept."""
        actor = principal(request).name
        body = parse(TokenBody, await request.read())
        token = new_token()
        made = await change(
            engine,
            on_change,
            lambda conn: create_token(
                conn,
                actor,
                name=body.name,
                role=body.role,
                operator_id=body.operator_id,
                sha256=hash_token(token),
                reserved=builtin_admin,
                days=body.expires_in_days,
            ),
        )
        assert made.record is not None
        shown = {"name": body.name, "role": body.role, "token": token}
        return reply({**shown, "expires_at": made.record["expires_at"]}, 201)

    async def revoke(request: web.Request) -> web.Response:
        actor, name = principal(request).name, request.match_info["name"]
        return outcome_reply(
            await change(engine, on_change, lambda conn: revoke_token(conn, actor, name))
        )

    return [
        Route(
            "POST",
            "/api/tokens",
            create,
            "Create an API token (shown once), for expires_in_days (default 90, at most 366)",
            "access",
            roles=("admin",),
            body=TokenBody,
            reply=TokenReply,
            status=201,
            errors=(409, 422),
        ),
        Route(
            "DELETE",
            "/api/tokens/{name}",
            revoke,
            "Revoke an API token",
            "access",
            roles=("admin",),
            params={"name": TOKEN_NAME},
            status=204,
            errors=(404,),
        ),
    ]
