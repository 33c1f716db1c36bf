"""Who is calling and what they may do: bearer tokens and the three roles.

admin: everything. supervisor: reads everything, sets any operator's state, reads the audit
log. operator: reads queues and lines and its own record, sets its own state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from aiohttp import web
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from hotline.core.errors import Forbidden
from hotline.core.words import ROLES, Role
from hotline.db.models import ApiToken, Operator

BUILTIN_ADMIN = "env-admin"  # the name HOTLINE_API_TOKEN acts under


@dataclass(frozen=True)
class Principal:
    name: str  # the token's name: the actor in the audit log
    role: Role
    operator_id: int | None = None


PRINCIPAL = web.RequestKey("principal", Principal)


@dataclass(frozen=True)
class TokenRow:
    name: str
    role: str
    operator_id: int | None
    token_sha256: str


async def find_token(conn: AsyncConnection, sha256: str) -> TokenRow | None:
    """A live token by its hash: not revoked, not expired; an operator's token works only
    while the operator is active."""
    query = (
        select(ApiToken.name, ApiToken.role, ApiToken.operator_id, ApiToken.token_sha256)
        .outerjoin(Operator, Operator.id == ApiToken.operator_id)
        .where(ApiToken.token_sha256 == sha256, ApiToken.revoked_at.is_(None))
        .where(or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > func.now()))
        .where(or_(ApiToken.operator_id.is_(None), Operator.active))
    )
    row = (await conn.execute(query)).first()
    return None if row is None else TokenRow(*row)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


def bearer(header: str) -> str | None:
    scheme, _, token = header.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


async def authenticate(engine: AsyncEngine, env_token: str, header: str) -> Principal | None:
    """The caller behind an Authorization header, or None. Compares digests in constant time."""
    given = bearer(header)
    if given is None:
        return None
    digest = hash_token(given)
    if env_token and hmac.compare_digest(digest, hash_token(env_token)):
        return Principal(BUILTIN_ADMIN, "admin")
    async with engine.connect() as conn:
        row = await find_token(conn, digest)
    if row is None or not hmac.compare_digest(row.token_sha256, digest):
        return None
    for role in ROLES:
        if row.role == role:
            return Principal(row.name, role, row.operator_id)
    return None


def principal(request: web.Request) -> Principal:
    return request[PRINCIPAL]


def allowed(who: Principal, roles: tuple[Role, ...], own_id: int | None = None) -> bool:
    """May `who` act with one of `roles`, or as the operator `own_id` itself?"""
    if not roles or who.role in roles:
        return True
    return own_id is not None and who.role == "operator" and who.operator_id == own_id


def require(request: web.Request, *roles: Role) -> Principal:
    """The caller, if its role is one of `roles`; else 403."""
    who = principal(request)
    if not allowed(who, roles):
        raise Forbidden(detail=f"the {who.role} role may not do this")
    return who
