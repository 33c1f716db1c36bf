"""Who is calling and what they may do: bearer tokens and the three roles.

admin: everything. supervisor: reads everything, sets any operator's state, reads the audit
log. operator: reads queues and lines and its own record, sets its own state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import get_args

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.api.schemas import Forbidden, Role
from hotline.db import admin as repo

BUILTIN_ADMIN = "env-admin"  # the name HOTLINE_API_TOKEN acts under
ROLES: tuple[Role, ...] = get_args(Role)


@dataclass(frozen=True)
class Principal:
    name: str  # the token's name: the actor in the audit log
    role: Role
    operator_id: int | None = None


PRINCIPAL = web.RequestKey("principal", Principal)


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
        row = await repo.find_token(conn, digest)
    if row is None or not hmac.compare_digest(row.token_sha256, digest):
        return None
    for role in ROLES:
        if row.role == role:
            return Principal(row.name, role, row.operator_id)
    return None


def require(request: web.Request, *roles: Role) -> Principal:
    """The caller, if its role is one of `roles`; else 403."""
    principal = request[PRINCIPAL]
    if principal.role not in roles:
        raise Forbidden(detail=f"the {principal.role} role may not do this")
    return principal


def require_self_or(request: web.Request, operator_id: int, *roles: Role) -> Principal:
    """The caller, if its role is one of `roles` or it is that operator's own token."""
    principal = request[PRINCIPAL]
    if principal.role == "operator" and principal.operator_id == operator_id:
        return principal
    return require(request, *roles)
