"""Where a call waits: the line decides (R2). Phase Routing.

Inside its hours a line sends calls to its queue; outside them to its after-hours queue, if
it has one. A line that offers callbacks says so after hours ("press 1 to be called back"):
with an after-hours queue the caller waits there at once while the prompt plays, and may
press the key at any time while waiting (no prompt keeps an operator from the caller, R1);
without one the caller hears the prompt, may press the key, and then reaches the duty phones.
Calls from one-key terminals wait with emergency priority.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from hotline.ari.events import ChannelDtmfReceived
from hotline.calls.phases import Ended, Routing
from hotline.calls.ports import CallbackOffer, CallbackRequest
from hotline.calls.session import Call, Why, now
from hotline.core.words import FALLBACK, priority_for
from hotline.queues.desk import Desk


class Entry:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    async def run(self, call: Call, state: Routing) -> None:
        queue, open_now = self._desk.queue_for(call.info.entry)
        nowhere = queue is None or queue == FALLBACK
        if not open_now:
            call.step("after_hours", queue=queue)
            line = self._desk.config.lines.get(call.info.entry)
            if line is not None and line.offer_callback and call.channel is not None:
                local = dt.datetime.now(self._desk.tz)
                offer = CallbackOffer(
                    call.policy.callback_digit,
                    line.queue,
                    line.next_open(local).astimezone(dt.UTC),
                )
                await call.play_intro("closed", call.policy.after_hours_prompt, "after_hours_told")
                if not nowhere:
                    call.callback_offer = offer  # the key works while the caller waits
                elif await _offer_callback(call, offer):
                    self._desk.leave(call.info.call_id)
                    return
        if queue is None or queue == FALLBACK:
            self._desk.leave(call.info.call_id)
            await call.hand_over("no_queue")
            return
        call.state = state.queued(queue, priority_for(call.info.entry), now())

    async def leave(self, call: Call, state: Routing, why: Why) -> None:
        self._desk.leave(call.info.call_id)


async def _offer_callback(call: Call, offer: CallbackOffer) -> bool:
    """Nowhere to wait: the prompt plays to its end and the caller has `callback_wait_s`
    more to press the key. True if they did (the call is then ended)."""
    loop = asyncio.get_running_loop()
    deadline: float | None = None  # the time to press runs from the prompt's end
    while True:
        timeout: float | None = None
        if not call.intro:
            deadline = deadline or loop.time() + call.policy.callback_wait_s
            timeout = deadline - loop.time()
            if timeout <= 0:
                return False
        event = await call.next_event(timeout)
        if isinstance(event, ChannelDtmfReceived) and event.digit == offer.digit:
            await take_callback(call, offer)
            return True


async def take_callback(call: Call, offer: CallbackOffer) -> None:
    """The caller pressed the key: called back when the line opens; thanked; hung up."""
    assert call.channel is not None
    call.callbacks.request(
        CallbackRequest(
            case_id=call.info.case_id,
            call_id=call.info.call_id,
            number=call.info.number,
            reason="after_hours",
            queue=offer.queue,
            waited_s=None,
            due_at=offer.due_at,
        )
    )
    await call.stop_intro()
    bye = f"bye-{uuid.uuid4().hex}"
    await call.ari.play(call.channel, ["sound:auth-thankyou"], bye)
    await call.until_played(bye, 5.0)
    await call.ari.hangup(call.channel)
    call.finish(Ended(now(), "service"))
