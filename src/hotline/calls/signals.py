"""What travels through a call's inbox besides ARI events, and how a call ends early."""

from __future__ import annotations


class Signal:
    """Word from the switchboard, through the same inbox as the events."""

    def __init__(self, name: str) -> None:
        self.name = name


VANISHED = Signal("vanished")  # reconciliation found the channel gone
HAND_OVER = Signal("hand_over")  # the service is shutting down


class HandOverRequested(Exception):
    pass


class CallGone(Exception):
    """The caller's channel is leaving or gone."""

    def __init__(self, cause: int | None = None, cause_txt: str | None = None) -> None:
        super().__init__(cause_txt or "hangup")
        self.cause = cause
        self.cause_txt = cause_txt
