"""What the call flow needs from the rest of the service, as small protocols. The features
that own these things (the desk, the switchboard, the callback scheduler) implement them;
the service wires them in. So the call never imports a feature built on top of it."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from hotline.core.events import DomainEvent
from hotline.core.records import Op

Record = Callable[[Op], None]
"""Hand a record to the recorder (never blocks, never fails)."""
Publish = Callable[[DomainEvent], None]
"""Tell the event stream (never blocks, never fails)."""


class Legs(Protocol):
    """The switchboard's routing of an extra channel's events (a leg we placed) to a call."""

    def attach(self, channel_id: str, key: str) -> None: ...

    def detach(self, channel_id: str) -> None: ...


class Seats(Protocol):
    """Operators' occupancy: who is on which call (the desk)."""

    def connected(self, call_id: uuid.UUID, operator_id: int) -> None: ...

    def finished(self, call_id: uuid.UUID, operator_id: int, queue: str) -> None: ...


class Lobby(Protocol):
    """Live callers before they wait in a queue (the desk): the operators serving their
    line are held for them (no callback is offered to them, R1), and whether one of those
    operators is free now (then an identified elder or a terminal skips the greeting)."""

    def arriving(self, call_id: uuid.UUID, entry: str) -> None: ...

    def free_for(self, entry: str) -> bool: ...

    def leave(self, call_id: uuid.UUID) -> None: ...


class NoLobby:
    def arriving(self, call_id: uuid.UUID, entry: str) -> None:
        return None

    def free_for(self, entry: str) -> bool:
        return False

    def leave(self, call_id: uuid.UUID) -> None:
        return None


@dataclass(frozen=True)
class CallbackRequest:
    """A caller to call back: hung up while waiting, or asked for it after hours."""

    case_id: uuid.UUID
    call_id: uuid.UUID
    number: str | None
    reason: str  # abandoned | after_hours
    queue: str
    waited_s: float | None
    due_at: dt.datetime


@dataclass(frozen=True)
class CallbackOffer:
    """After hours: pressing `digit` while waiting asks to be called back from `queue` at
    `due_at` (when the line opens) instead of waiting on."""

    digit: str
    queue: str
    due_at: dt.datetime


class CallbackDesk(Protocol):
    def request(self, request: CallbackRequest) -> None: ...

    def reached(self, number: str, operator_id: int) -> None:
        """A caller got through to an operator: callbacks waiting for that number are done."""
        ...


class NoCallbacks:
    """For a service (or a test) without the callback scheduler: requests are dropped."""

    def request(self, request: CallbackRequest) -> None:
        return None

    def reached(self, number: str, operator_id: int) -> None:
        return None


class Voice(Protocol):
    """Prompts said for the moment (hotline.speech.prompts.Voice); None: say the stock ones."""

    async def queue_position(self, ahead: int) -> list[str] | None: ...

    async def transfer_to(self, who: str | None) -> list[str] | None: ...


class NoVoice:
    async def queue_position(self, ahead: int) -> list[str] | None:
        return None

    async def transfer_to(self, who: str | None) -> list[str] | None:
        return None
