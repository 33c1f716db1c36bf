"""A customer connected to someone: an operator, or an outside party after a transfer.

Phase Talking. The customer and the party share a mixing bridge until either hangs up, or a
request (a transfer, from the transfers feature) moves the call on. Requests are handled by
whoever registered for their type; this module knows none of them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from hotline.ari import NotFound
from hotline.ari.events import ChannelDestroyed
from hotline.calls import legs
from hotline.calls.messages import Request
from hotline.calls.phases import Ended, Talking
from hotline.calls.ports import Seats
from hotline.calls.session import Call, Why, now
from hotline.core.words import NORMAL_CLEARING, Q850

RequestHandler = Callable[[Call, Talking, Any], Awaitable[None]]
"""Does a request on a talking call; moves the call on by setting `call.state` (or not)."""


class Talk:
    def __init__(self, seats: Seats, requests: Mapping[type[Request], RequestHandler]) -> None:
        self._seats = seats
        self._requests = dict(requests)

    async def run(self, call: Call, state: Talking) -> None:
        accept = tuple(self._requests)
        while True:
            event = await call.next_event(None, accept=accept)
            if isinstance(event, legs.LEG_END) and event.channel.id == state.leg:
                await self._party_left(call, state, event)
                return
            if isinstance(event, Request):
                try:
                    await self._requests[type(event)](call, state, event)
                except BaseException:
                    event.refuse("the call failed while doing it")  # the asker is not left waiting
                    raise
                if call.state is not state:
                    return

    async def _party_left(self, call: Call, state: Talking, event: object) -> None:
        call.step("party_hung_up", operator_id=state.party.operator_id)
        await release(call, state, self._seats)
        assert call.channel is not None
        with contextlib.suppress(NotFound):  # the caller may have gone at the same moment
            await call.ari.hangup(call.channel)
        cause = event.cause if isinstance(event, ChannelDestroyed) else NORMAL_CLEARING
        by = "operator" if state.party.operator_id is not None else "party"
        call.finish(Ended(now(), by, cause, Q850.get(cause)))

    async def leave(self, call: Call, state: Talking, why: Why) -> None:
        await release(call, state, self._seats)


async def release(call: Call, state: Talking, seats: Seats) -> None:
    """The party's leg, the bridge and the operator's seat, all let go."""
    await legs.drop(call, state.leg)
    await legs.unbridge(call, state.bridge_id)
    if state.party.operator_id is not None:
        seats.finished(call.info.call_id, state.party.operator_id, state.queue)
