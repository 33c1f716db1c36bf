"""Typed errors raised by the ARI client and event stream.

Messages carry the HTTP method, the request path (never a query string) and the message
Asterisk sent back; credentials never appear in them.
"""

from __future__ import annotations

_MAX_MESSAGE = 200


class AriError(Exception):
    """Base class of every ARI failure."""

    def __init__(
        self, message: str, *, status: int | None = None, method: str = "", path: str = ""
    ) -> None:
        self.message = message[:_MAX_MESSAGE]
        self.status = status
        self.method = method
        self.path = path
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f"{self.method} {self.path}".strip()
        status = f" -> {self.status}" if self.status is not None else ""
        prefix = f"{where}{status}: " if where or status else ""
        return f"{prefix}{self.message}"


class NotActing(AriError):
    """Not sent: this controller does not lead (any more), and a deposed controller's REST
    call would act on calls its successor now runs (Asterisk does not stop it)."""


class BadRequest(AriError):
    """400: invalid parameters."""


class AuthenticationFailed(AriError):
    """401/403: wrong ARI user or password (fatal, do not retry)."""


class NotFound(AriError):
    """404: channel, bridge, playback, ... does not exist (any more)."""


class Conflict(AriError):
    """409: e.g. channel not in a Stasis application, bridge id already in use."""


class PreconditionFailed(Conflict):
    """412: the resource is in the wrong state (e.g. playing to a channel that is not up)."""


class Unprocessable(AriError):
    """422: the request is well formed but refers to something unusable."""


class AriServerError(AriError):
    """5xx other than 503."""


class AllocationFailed(AriServerError):
    """500 "Allocation failed": what Asterisk answers when it cannot create a channel,
    typically an originate to an unreachable or unregistered endpoint."""


class AriUnavailable(AriError):
    """Asterisk cannot be reached: refused, reset, timeout, DNS failure, or HTTP 503."""


_BY_STATUS: dict[int, type[AriError]] = {
    400: BadRequest,
    401: AuthenticationFailed,
    403: AuthenticationFailed,
    404: NotFound,
    409: Conflict,
    412: PreconditionFailed,
    422: Unprocessable,
    503: AriUnavailable,
}


def error_for_status(status: int, message: str, *, method: str, path: str) -> AriError:
    """Build the typed error for an HTTP error status returned by Asterisk."""
    cls = _BY_STATUS.get(status)
    if cls is None:
        if status == 500 and "allocation failed" in message.lower():
            cls = AllocationFailed
        elif status >= 500:
            cls = AriServerError
        else:
            cls = AriError
    return cls(message, status=status, method=method, path=path)
