"""The survey's Asterisk side: the request that hands a talking caller over to it, and the
Surveying phase. The caller hears the question, answers on the keypad (RFC 2833 DTMF, as
ChannelDtmfReceived), is thanked and hung up on; the answer goes to the recorder, and a
dissatisfied one sends the case back to its owner (R20, R21).

A key pressed while a prompt plays counts at once (the prompt stops); the wait for a key
runs from the end of the question. keys.py decides what each key and each timeout means.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid

from hotline.ari import AriError
from hotline.ari.events import ChannelDtmfReceived, PlaybackFinished
from hotline.calls.phases import Surveying, Talking
from hotline.calls.ports import Seats
from hotline.calls.session import Call, Why, now
from hotline.calls.talk import release
from hotline.core import events as ev
from hotline.core.records import SurveyAnswered
from hotline.survey import keys
from hotline.survey.requests import Survey, SurveyPrompts

PROMPT_LIMIT_S = 60.0  # a prompt that never reports its end: wait for a key from then on
THANKS_LIMIT_S = 15.0
REOPEN_DUE = dt.timedelta(days=1)  # the owner's task after a dissatisfied answer (R20)


class Surveys:
    """The Talking phase's handler of Survey requests, and the Surveying phase."""

    def __init__(
        self,
        seats: Seats,
        prompts: SurveyPrompts | None = None,
        *,
        wait_s: float = keys.DEFAULT_WAIT_S,
    ) -> None:
        self._seats = seats
        self._prompts = prompts or SurveyPrompts()
        self._wait_s = wait_s

    # --- the hand-over (a request on a talking call) ---------------------------------

    async def on_survey(self, call: Call, state: Talking, req: Survey) -> None:
        """The operator's leg and the bridge go, the operator is free (their queue's wrap-up
        applies); the caller stays on the line for the survey."""
        caller = call.channel
        if caller is None:
            req.refuse("nobody on the line to ask")
            return
        with contextlib.suppress(AriError):
            await call.ari.remove_channel(state.bridge_id, caller)
        with contextlib.suppress(AriError):  # the caller may have been on hold
            await call.ari.stop_moh(caller)
        await release(call, state, self._seats)
        operator_id = state.party.operator_id
        call.step("survey_asked", actor=req.by, operator_id=operator_id)
        call.publish(
            ev.SurveyStarted(
                call_id=call.info.call_id, case_id=call.info.case_id, operator_id=operator_id
            )
        )
        call.state = state.surveying(now())
        req.answer("surveying")

    # --- the phase -------------------------------------------------------------------

    async def run(self, call: Call, state: Surveying) -> None:
        asking: keys.Asking | keys.Done = keys.Asking()
        while isinstance(asking, keys.Asking):
            asking = await self._ask(call, asking)
        self._answered(call, state, asking)
        call.state = state.given(asking.outcome)
        await self._thank(call)
        call.finish(state.done(now()))

    async def leave(self, call: Call, state: Surveying, why: Why) -> None:
        """The caller hung up before the survey had its result: that is the result. (The
        service stopping, or failing, records nothing: the caller was not done.)"""
        if state.outcome is None and why == "gone":
            self._answered(call, state, keys.Asking().hung_up())

    async def _ask(self, call: Call, asking: keys.Asking) -> keys.Asking | keys.Done:
        """Ask once; the next state of the keypad."""
        caller = call.channel
        assert caller is not None
        media = self._prompts.question
        if asking.after == "invalid":
            media = self._prompts.invalid + media
        playback = _pid("survey")
        await call.ari.play(caller, list(media), playback)
        loop = asyncio.get_running_loop()
        playing, deadline = True, loop.time() + PROMPT_LIMIT_S
        while True:
            left = deadline - loop.time()
            if left <= 0:
                if not playing:
                    return asking.timed_out()
                playing, deadline = False, loop.time() + self._wait_s
                continue
            event = await call.next_event(left)
            if isinstance(event, ChannelDtmfReceived) and event.channel.id == caller:
                if playing:
                    with contextlib.suppress(AriError):
                        await call.ari.stop_playback(playback)
                return asking.key(event.digit)
            if playing and isinstance(event, PlaybackFinished) and event.playback.id == playback:
                playing, deadline = False, loop.time() + self._wait_s

    async def _thank(self, call: Call) -> None:
        caller = call.channel
        assert caller is not None
        playback = _pid("survey-thanks")
        with contextlib.suppress(AriError):
            await call.ari.play(caller, list(self._prompts.thanks), playback)
            await call.until_played(playback, THANKS_LIMIT_S)
        with contextlib.suppress(AriError):
            await call.ari.hangup(caller)

    def _answered(self, call: Call, state: Surveying, done: keys.Done) -> None:
        """The result to the recorder, the case's timeline and the event stream."""
        at = now()
        info = call.info
        call.record(
            SurveyAnswered(
                survey_id=uuid.uuid5(info.call_id, f"survey-{state.since.isoformat()}"),
                case_id=info.case_id,
                call_id=info.call_id,
                operator_id=state.operator_id,
                asked_at=state.since,
                outcome=done.outcome,
                score=done.score,
                at=at,
                reopen_due_at=at + REOPEN_DUE if done.dissatisfied else None,
            )
        )
        asked = None if done.outcome == "hung_up" else done.asked  # not known after a hang-up
        call.step(
            "survey_answered",
            outcome=done.outcome,
            score=done.score,
            verdict=done.verdict,
            asked=asked,
        )
        if done.dissatisfied:
            call.step("reopened", reason="dissatisfied", score=done.score)
        call.publish(
            ev.SurveyAnswered(
                call_id=info.call_id,
                case_id=info.case_id,
                operator_id=state.operator_id,
                outcome=done.outcome,
                score=done.score,
                verdict=done.verdict,
                reopened=done.dissatisfied,
            )
        )
        call.log.info("survey: %s %s", done.outcome, done.score or "")


def _pid(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"
