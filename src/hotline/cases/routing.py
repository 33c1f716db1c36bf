"""What the routes that act on one case share: the case named in the path, and the shape of
an action's route (POST on the case, for its owner or a supervisor)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from hotline.api.routes import Handler, Route
from hotline.cases.schemas import HANDLERS, ONE, TAG


def case_id_of(request: web.Request) -> uuid.UUID:
    return uuid.UUID(request.match_info["case_id"])


def case_action(
    path: str, handler: Handler, summary: str, body: Any, answer: Any, *, status: int = 201
) -> Route:
    """POST /api/cases/{case_id}<path>: the case's owner, a supervisor or an admin (R14)."""
    return Route(
        "POST",
        f"/api/cases/{{case_id}}{path}",
        handler,
        summary,
        TAG,
        roles=HANDLERS,
        params=ONE,
        body=body,
        reply=answer,
        status=status,
        errors=(403, 404, 409, 422),
    )
