"""Routes as data: each feature lists its routes with who may call them, their path
parameters, body and reply models. The app is built from the list (api.app) and so is the
OpenAPI document (api.openapi): one source, so the document cannot drift from the routes.

Path parameters are checked against their pattern before the handler runs: a value that
cannot name anything (a NUL byte, a slash, 500 characters) is a 404 naming the parameter,
never a database error.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web

from hotline.core.errors import NotFound
from hotline.core.words import Role

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
Access = Literal["public", "token"]


@dataclass(frozen=True)
class PathParam:
    pattern: str
    description: str
    integer: bool = False

    def check(self, name: str, value: str) -> None:
        if not re.fullmatch(self.pattern, value):
            raise NotFound(name, f"no such {name}")


ID = PathParam(r"[1-9][0-9]{0,17}", "a numeric id", integer=True)
UUID = PathParam(
    r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}", "a UUID"
)
SLUG = PathParam(r"[a-z][a-z0-9_]{0,31}", "a name: lower-case letters, digits, _")
TOKEN_NAME = PathParam(r"[a-z0-9][a-z0-9_.@-]{0,63}", "a token's name")


@dataclass(frozen=True)
class Query:
    name: str
    description: str
    schema: Mapping[str, Any]
    required: bool = False


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    handler: Handler
    summary: str
    tag: str
    roles: tuple[Role, ...] = ()
    """Who may call it; empty: any valid token (or nobody at all with access="public")."""
    access: Access = "token"
    params: Mapping[str, PathParam] = field(default_factory=dict)
    query: tuple[Query, ...] = ()
    body: type[Any] | None = None
    reply: Any = None
    """The reply's type (a pydantic model, list[...] of one), None for no body."""
    status: int = 200
    fixed: tuple[str, ...] = ()
    """Fields of the body a PATCH may not change (left out of its documented schema)."""
    also: tuple[int, ...] = ()
    """Other success codes, documented with the same reply (PUT member: 201 when created)."""
    errors: tuple[int, ...] = ()
    websocket: bool = False
    content_type: str = "application/json"
    also_types: tuple[str, ...] = ()
    """Other media types the reply comes in when asked (a query value), documented as files."""
    self_operator: bool = False
    """An operator's own token may call it for its own id (the {id} parameter)."""

    def __post_init__(self) -> None:
        named = set(re.findall(r"{(\w+)}", self.path))
        if named != set(self.params):
            raise ValueError(f"{self.method} {self.path}: path parameters {named} undeclared")

    def checked(self) -> Handler:
        """The handler behind a check of every path parameter."""
        params, handler = self.params, self.handler
        if not params:
            return handler

        async def guarded(request: web.Request) -> web.StreamResponse:
            for name, param in params.items():
                param.check(name, request.match_info[name])
            return await handler(request)

        return guarded
