"""What the operator's console does to a talking call: hold and resume the caller, hang up.

Hold takes the caller out of the bridge onto music (the operator stays in the bridge,
hearing nothing); resume brings the caller back. Hang up ends the call for both, as the
operator hanging up the softphone would.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from hotline.ari import AriError
from hotline.calls.messages import Request
from hotline.calls.phases import Ended, Talking
from hotline.calls.ports import Seats
from hotline.calls.session import Call, now
from hotline.calls.talk import release
from hotline.core.words import NORMAL_CLEARING, Q850


@dataclass
class Hold(Request):
    on: bool  # True: hold, False: resume


@dataclass
class HangUp(Request):
    pass


class Controls:
    def __init__(self, seats: Seats) -> None:
        self._seats = seats
        self._held: set[str] = set()  # callers' channels on hold (a call's task at a time)

    async def on_hold(self, call: Call, state: Talking, request: Hold) -> None:
        caller = call.channel
        if caller is None:
            request.refuse("no caller on the line to hold")
            return
        held = caller in self._held
        if request.on == held:
            request.answer("held" if held else "talking")
            return
        if request.on:
            await call.ari.remove_channel(state.bridge_id, caller)
            await call.ari.start_moh(caller)
            self._held.add(caller)
            call.step("caller_held", actor=request.by)
            request.answer("held")
            return
        with contextlib.suppress(AriError):
            await call.ari.stop_moh(caller)
        await call.ari.add_channel(state.bridge_id, caller)
        self._held.discard(caller)
        call.step("caller_resumed", actor=request.by)
        request.answer("talking")

    async def on_hang_up(self, call: Call, state: Talking, request: HangUp) -> None:
        call.step("operator_hung_up", actor=request.by)
        if call.channel is not None:
            self._held.discard(call.channel)
        await release(call, state, self._seats)
        if call.channel is not None:
            with contextlib.suppress(AriError):
                await call.ari.hangup(call.channel)
        request.answer("ended")
        call.finish(Ended(now(), "operator", NORMAL_CLEARING, Q850.get(NORMAL_CLEARING)))
