"""What travels through a call's inbox besides ARI events, and how a call ends early.

Signals come from the switchboard; requests from the API (a transfer, a hand-over step),
each with a future the asker waits on; offers from the desk.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


class Signal:
    """Word from the switchboard, through the same inbox as the events."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"Signal({self.name})"


VANISHED = Signal("vanished")  # reconciliation found the customer's channel gone
HAND_OVER = Signal("hand_over")  # the service is shutting down
CANCELLED = Signal("cancelled")  # a callback waiting for an operator was cancelled


class HandOverRequested(Exception):
    pass


class CallGone(Exception):
    """The customer's channel (the caller, or the callee of a callback) is leaving or gone."""

    def __init__(self, cause: int | None = None, cause_txt: str | None = None) -> None:
        super().__init__(cause_txt or "hangup")
        self.cause = cause
        self.cause_txt = cause_txt


class Refused(Exception):
    """A request that cannot be done now; the message says why (shown to the asker)."""


def _future() -> asyncio.Future[str]:
    return asyncio.get_running_loop().create_future()


@dataclass
class Request:
    """From the API to a call's task: answered through `done` (a status word, or Refused)."""

    by: str
    done: asyncio.Future[str] = field(default_factory=_future, kw_only=True)

    def answer(self, status: str) -> None:
        if not self.done.done():
            self.done.set_result(status)

    def refuse(self, why: str) -> None:
        if not self.done.done():
            self.done.set_exception(Refused(why))
