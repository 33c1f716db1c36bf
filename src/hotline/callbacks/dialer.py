"""A callback's operator is on the line: dial the number to call back. Phase Dialing.

The operator hears ringing while the carrier trunk rings the number. Answered: both are
bridged and the call goes on as any talking call. Answering does not make the operator the
case's owner (R14), except on a case nobody owns that the service's own callback (abandoned,
after hours) is for. Busy, no answer, a failure, or the operator hanging up first: the
operator is told and released, and the scheduler learns the outcome (it decides on a next
attempt).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from hotline.ari import AriError
from hotline.callbacks.policy import Outcome, outcome_of
from hotline.calls import legs
from hotline.calls.phases import Dialing, Ended
from hotline.calls.ports import Seats
from hotline.calls.session import Call, Why, now
from hotline.core import events as ev
from hotline.core.records import CaseOwned

RINGBACK = "tone:ring;tonezone=cn"
NOBODY = ("sound:vm-nobodyavail",)


@dataclass(frozen=True)
class AttemptResult:
    outcome: Outcome
    cause: int | None
    operator_id: int | None
    answered_at: dt.datetime | None


Report = Callable[[uuid.UUID, AttemptResult], None]
"""Tell the scheduler how the attempt (by its call id) went."""


Claims = Callable[[uuid.UUID], bool]
"""Whether the operator who reaches the callee of this call takes its case (policy.claims_case)."""


class Dialer:
    def __init__(
        self, seats: Seats, report: Report, claims: Claims | None = None, ring_s: int = 30
    ) -> None:
        self._seats = seats
        self._report = report
        self._claims = claims or (lambda _call_id: False)
        self._ring_s = ring_s

    async def run(self, call: Call, state: Dialing) -> None:
        ringback = f"ringback-{uuid.uuid4().hex}"
        with contextlib.suppress(AriError):
            await call.ari.play(state.operator_leg, [RINGBACK], ringback)
        dialled = await legs.dial(
            call,
            legs.trunk_endpoint(call, state.number),
            ring_s=self._ring_s,
            purpose="callback",
            shown=None,
            watch=state.operator_leg,
        )
        with contextlib.suppress(AriError):
            await call.ari.stop_playback(ringback)
        if dialled.channel_id is None:
            outcome: Outcome = "operator_left" if dialled.aborted else outcome_of(dialled.cause)
            await self._not_reached(call, state, outcome, dialled.cause)
            return
        bridge_id = await legs.bridge(call, [state.operator_leg, dialled.channel_id], state.queue)
        call.channel = dialled.channel_id  # the callee is now the customer of this call
        call.reached_human = True
        at = now()
        call.state = state.answered(bridge_id, at)
        if self._claims(call.info.call_id):  # nobody took the request yet: now someone has
            call.record(CaseOwned(case_id=call.info.case_id, operator_id=state.operator_id, at=at))
            call.publish(ev.CaseChanged(case_id=call.info.case_id, status="in_progress"))
        self._report(call.info.call_id, AttemptResult("answered", None, state.operator_id, at))

    async def _not_reached(
        self, call: Call, state: Dialing, outcome: Outcome, cause: int | None
    ) -> None:
        if outcome != "operator_left":
            playback = f"nobody-{uuid.uuid4().hex}"
            with contextlib.suppress(AriError):
                await call.ari.play(state.operator_leg, list(NOBODY), playback)
                await call.until_played(playback, 5.0)
        await legs.drop(call, state.operator_leg)
        self._seats.finished(call.info.call_id, state.operator_id, state.queue)
        self._report(call.info.call_id, AttemptResult(outcome, cause, state.operator_id, None))
        call.finish(Ended(now(), "service", cause))

    async def leave(self, call: Call, state: Dialing, why: Why) -> None:
        await legs.drop(call, state.operator_leg)
        self._seats.finished(call.info.call_id, state.operator_id, state.queue)
