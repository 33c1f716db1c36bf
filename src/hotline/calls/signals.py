"""What travels through a call's inbox besides ARI events, and how a call ends early."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Literal


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


@dataclass
class Transfer:
    """From the API to a connected call: hand the caller over (R5).

    Exactly one target: a queue, an operator, or an outside number (the carrier trunk).
    Blind: the operator leaves at once. Attended: the operator first speaks with the
    target while the caller hears music, then completes or cancels (TransferStep).
    """

    mode: Literal["blind", "attended"]
    by: str
    queue: str | None = None
    operator_id: int | None = None
    number: str | None = None
    announce: tuple[str, ...] = ("sound:pbx-transfer",)
    done: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )

    @property
    def target(self) -> str:
        if self.queue:
            return f"queue {self.queue}"
        if self.operator_id is not None:
            return f"operator {self.operator_id}"
        return "outside number"


@dataclass
class TransferStep:
    """Finish an attended transfer: complete (caller meets the target) or cancel."""

    action: Literal["complete", "cancel"]
    by: str
    done: asyncio.Future[str] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class TransferRefused(Exception):
    """The transfer cannot be done; the message says why (shown to the operator)."""
