"""Errors with an HTTP meaning, raised anywhere below the HTTP edge (stores, services) and
rendered as JSON there: {"error", "field"?, "detail"?}."""

from __future__ import annotations


class Problem(Exception):
    status = 500
    error = "internal"

    def __init__(self, field: str | None = None, detail: str | None = None) -> None:
        super().__init__(detail or self.error)
        self.field = field
        self.detail = detail

    def body(self) -> dict[str, str]:
        out = {"error": self.error}
        if self.field is not None:
            out["field"] = self.field
        if self.detail is not None:
            out["detail"] = self.detail
        return out


class BadJson(Problem):
    status = 400
    error = "bad_json"


class Unauthorized(Problem):
    status = 401
    error = "unauthorized"


class Forbidden(Problem):
    status = 403
    error = "forbidden"


class NotFound(Problem):
    status = 404
    error = "not_found"


class Conflict(Problem):
    status = 409
    error = "conflict"


class Invalid(Problem):
    status = 422
    error = "invalid"


class Unavailable(Problem):
    status = 503
    error = "unavailable"


class TooMany(Problem):
    """Too many of this for now (a rate limit): try again later."""

    status = 429
    error = "too_many"
