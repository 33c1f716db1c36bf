"""What the supervision asks of a call's task, and what the API asks of a supervision's."""

from __future__ import annotations

from dataclasses import dataclass

from hotline.calls.messages import Request
from hotline.calls.phases import Talking
from hotline.calls.session import Call
from hotline.supervision.modes import Mode


@dataclass
class OperatorLeg(Request):
    """To a call's task: on which channel does `operator_id` speak in this call? Answered
    with the channel's id while the call is Talking with that operator; refused otherwise
    (not connected, consulting for a transfer, an emergency conference)."""

    operator_id: int


async def operator_leg(call: Call, state: Talking, req: OperatorLeg) -> None:
    """The Talking phase's handler of OperatorLeg (wired in hotline.flow)."""
    if state.party.operator_id != req.operator_id:
        req.refuse("the operator is not talking on this call")
        return
    req.answer(state.leg)


@dataclass
class ChangeMode(Request):
    """To a supervision's task: listen, whisper or barge from now on."""

    mode: Mode


@dataclass
class Stop(Request):
    """To a supervision's task: end it (answered once everything of it is gone)."""
