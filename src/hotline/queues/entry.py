"""Where a call waits: the line decides (R2). Phase Routing.

Inside its hours a line sends calls to its queue; outside them to its after-hours queue, if
it has one, after offering a callback (press 1) when the line offers them. Calls from one-key
terminals wait with emergency priority.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

from hotline.ari.events import ChannelDtmfReceived
from hotline.calls.phases import Ended, Routing
from hotline.calls.ports import CallbackRequest
from hotline.calls.session import Call, Why, now
from hotline.core.words import FALLBACK, priority_for
from hotline.queues.config import LineConfig
from hotline.queues.desk import Desk


class Entry:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    async def run(self, call: Call, state: Routing) -> None:
        queue, open_now = self._desk.queue_for(call.info.entry)
        if not open_now:
            call.step("after_hours", queue=queue)
            line = self._desk.config.lines.get(call.info.entry)
            if line is not None and line.offer_callback and await self._offer_callback(call, line):
                return
        if queue is None or queue == FALLBACK:
            await call.hand_over("no_queue")
            return
        call.state = state.queued(queue, priority_for(call.info.entry), now())

    async def leave(self, call: Call, state: Routing, why: Why) -> None:
        return None

    async def _offer_callback(self, call: Call, line: LineConfig) -> bool:
        """Say the line is closed and offer a callback on a key press. True if taken."""
        assert call.channel is not None
        policy = call.policy
        await call.ari.play(call.channel, list(policy.after_hours_prompt), _pid("closed"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + policy.callback_wait_s + 5.0
        while (left := deadline - loop.time()) > 0:
            event = await call.next_event(left)
            if isinstance(event, ChannelDtmfReceived) and event.digit == policy.callback_digit:
                local = dt.datetime.now(self._desk.tz)
                call.callbacks.request(
                    CallbackRequest(
                        case_id=call.info.case_id,
                        call_id=call.info.call_id,
                        number=call.info.number,
                        reason="after_hours",
                        queue=line.queue,
                        waited_s=None,
                        due_at=line.next_open(local).astimezone(dt.UTC),
                    )
                )
                bye = _pid("bye")
                await call.ari.play(call.channel, ["sound:auth-thankyou"], bye)
                await call.until_played(bye, 5.0)
                await call.ari.hangup(call.channel)
                call.finish(Ended(now(), "service"))
                return True
        return False


def _pid(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"
