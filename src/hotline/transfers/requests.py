"""What the API asks of a talking call (R5)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hotline.calls.messages import Request

DEFAULT_ANNOUNCE = ("sound:pbx-transfer",)  # without speech and without a recording given


@dataclass
class Transfer(Request):
    """Hand the caller over: exactly one target, a queue, an operator or an outside number.

    Blind: the operator leaves at once. Attended: the operator first speaks with the target
    while the caller hears music, then completes or cancels (TransferStep).
    """

    mode: Literal["blind", "attended"]
    queue: str | None = None
    operator_id: int | None = None
    number: str | None = None
    announce: tuple[str, ...] = ()  # empty: the caller is told who takes over (speech)

    @property
    def target(self) -> str:
        if self.queue:
            return f"queue {self.queue}"
        if self.operator_id is not None:
            return f"operator {self.operator_id}"
        return "outside number"


@dataclass
class TransferStep(Request):
    """Finish an attended transfer: complete (the caller meets the target) or cancel."""

    action: Literal["complete", "cancel"]
