"""A call waiting for an operator: music, position announcements, offers, overflow, and
the bridge with the first operator who answers. Phases Queued and Ringing.

The desk decides who is offered the call; this rings them (one leg per operator), bridges
the first who answers and releases the rest. A callback waits here too, with nobody on the
line: no music, no announcements, no overflow; when its operator answers the call moves to
Dialing (the callbacks feature dials the number).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass
from typing import Protocol

from hotline.ari import AriError, NotFound
from hotline.ari.events import ChannelDtmfReceived, PlaybackFinished, StasisStart
from hotline.calls import legs
from hotline.calls.phases import Dialing, Ended, Party, Queued, Ring, Ringing
from hotline.calls.ports import CallbackRequest, NoVoice, Voice
from hotline.calls.session import Call, Why, now
from hotline.core import events as ev
from hotline.core.records import CallConnected, CallQueued
from hotline.core.words import FALLBACK, NO_ANSWER_CAUSES
from hotline.queues.desk import Desk, OfferSignal, WithdrawSignal
from hotline.queues.entry import take_callback

RING_GRACE_S = 2.0  # past the ring time, a leg Asterisk has not ended is dropped by us


@dataclass
class _Timers:
    enqueued: float  # monotonic, in this queue
    next_announce: float | None = None
    announcing: str | None = None  # playback id
    music: bool = False  # music on hold is on


class Escalation(Protocol):
    """What happens to a caller nobody answers in time (a terminal's alarm, R10)."""

    def escalate_after(self, call: Call) -> float | None:
        """Seconds from the call's start after which it escalates; None: it never does."""
        ...

    async def escalate(self, call: Call, state: Queued) -> None:
        """Take the call out of the queue's hands (moves `call.state` on)."""
        ...


class Waiting:
    def __init__(
        self, desk: Desk, escalation: Escalation | None = None, voice: Voice | None = None
    ) -> None:
        self._desk = desk
        self._escalation = escalation
        self._voice = voice or NoVoice()

    async def run(self, call: Call, state: Queued) -> None:
        loop = asyncio.get_running_loop()
        waiting: Queued = state.waiting() if isinstance(state, Ringing) else state
        call.state = waiting
        self._enter(call, waiting, overflow=False)
        timers = _Timers(loop.time())
        self._schedule_announce(call, waiting.queue, timers, loop.time())
        await _music(call, timers)  # once the greeting (or after-hours prompt) has played
        while True:
            current = call.state
            assert isinstance(current, Queued)
            if call.cancelled:  # a callback cancelled while it waited (callbacks/scheduler)
                await self._cancelled(call, current)
                return
            item = await call.next_event(self._until_next(call, current, timers, loop.time()))
            now_ = loop.time()
            if isinstance(item, OfferSignal):
                await self._ring(call, item, now_)
            elif isinstance(item, WithdrawSignal) and isinstance(current, Ringing):
                await self._withdraw(call, current, item.operator_id)
            elif isinstance(item, StasisStart) and isinstance(current, Ringing):
                ring = current.ring(item.channel.id)
                if ring is not None:
                    await self._answered(call, current, ring, timers)
                    return
            elif isinstance(item, legs.LEG_END) and isinstance(current, Ringing):
                ring = current.ring(item.channel.id)
                if ring is not None:
                    self._ring_failed(call, current, ring, getattr(item, "cause", None), now_)
            elif isinstance(item, PlaybackFinished):
                if item.playback.id == timers.announcing:
                    timers.announcing = None
                await _music(call, timers)
            elif isinstance(item, ChannelDtmfReceived) and _asks_callback(call, item):
                assert call.callback_offer is not None
                await self.leave(call, current, "hand_over")
                await take_callback(call, call.callback_offer)
                return
            elif item is None and await self._timers(call, timers, now_):
                return

    async def leave(self, call: Call, state: Queued, why: Why) -> None:
        waited = self._desk.waited(call.info.call_id)
        self._desk.leave(call.info.call_id)
        if isinstance(state, Ringing):
            for ring in state.rings:
                await legs.drop(call, ring.channel_id)
        conf = self._desk.queue(state.queue)
        wanted = conf is None or conf.callback_on_abandon
        if why == "gone" and call.info.kind == "inbound" and wanted:
            call.callbacks.request(
                CallbackRequest(
                    case_id=call.info.case_id,
                    call_id=call.info.call_id,
                    number=call.info.number,
                    reason="abandoned",
                    queue=state.queue,
                    waited_s=None if waited is None else round(waited, 1),
                    due_at=now(),
                )
            )

    # --- entering, leaving -----------------------------------------------------------

    def _enter(self, call: Call, state: Queued, *, overflow: bool) -> None:
        info = call.info
        # The answer clock runs from the first ring until a human answers (R1), once.
        first_ring = info.started_at if info.kind == "inbound" and not call.reached_human else None
        if overflow:
            self._desk.move(info.call_id, state.queue)
        else:
            self._desk.enqueue(
                info.call_id,
                call,
                state.queue,
                state.priority,
                first_ring=first_ring,
                preferred=call.case_owner,
                live=info.kind == "inbound",
            )
        if info.kind == "inbound":
            call.record(
                CallQueued(
                    call_id=info.call_id,
                    queue=state.queue,
                    priority=state.priority,
                    at=now(),
                    overflow=overflow,
                )
            )
        call.publish(
            ev.CallQueued(
                call_id=info.call_id,
                queue=state.queue,
                priority=state.priority,
                kind=info.kind,
                overflow=overflow,
            )
        )
        kind = "queued" if info.kind == "inbound" else "callback_queued"
        call.step(kind, queue=state.queue, priority=state.priority)

    async def _cancelled(self, call: Call, state: Queued) -> None:
        await self.leave(call, state, "hand_over")  # rings dropped, out of the queue
        call.step("callback_left_queue", reason="cancelled")
        call.finish(Ended(now(), "service"))

    async def _answered(self, call: Call, state: Ringing, ring: Ring, timers: _Timers) -> None:
        if call.cancelled:  # the operator picked up a callback cancelled a moment ago
            await self._cancelled(call, state)
            return
        for other in state.rings:  # ring-all: the others stop ringing
            if other.channel_id != ring.channel_id:
                await legs.drop(call, other.channel_id)
        await call.stop_intro()  # the greeting stops the moment a human answers (R1)
        if timers.announcing and call.channel is not None:
            with contextlib.suppress(AriError):  # the position prompt must not run into the talk
                await call.ari.stop_playback(timers.announcing)
        info = call.info
        waited = self._desk.waited(info.call_id)
        self._desk.connected(info.call_id, ring.operator_id)
        call.reached_human = True
        call.publish(
            ev.CallAnswered(
                call_id=info.call_id,
                operator_id=ring.operator_id,
                queue=state.queue,
                waited_s=None if waited is None else round(waited, 1),
            )
        )
        if call.channel is None:  # a callback: the operator is on, now dial the number
            assert info.number is not None
            call.state = Dialing(
                state.started_at, state.queue, ring.channel_id, ring.operator_id, info.number, now()
            )
            return
        if timers.music:
            with contextlib.suppress(AriError):
                await call.ari.stop_moh(call.channel)
        try:
            bridge_id = await legs.bridge(call, [call.channel, ring.channel_id], state.queue)
        except BaseException:
            await legs.drop(call, ring.channel_id)  # the operator is free again at once
            self._desk.finished(info.call_id, ring.operator_id, state.queue)
            raise
        party = Party(operator_id=ring.operator_id)
        call.state = state.talking(bridge_id, ring.channel_id, party, now())
        call.record(
            CallConnected(
                call_id=info.call_id, case_id=info.case_id, operator_id=ring.operator_id, at=now()
            )
        )
        call.publish(ev.CaseChanged(case_id=info.case_id, status="in_progress"))
        call.step("operator_answered", operator_id=ring.operator_id)
        if info.number is not None:
            call.callbacks.reached(info.number, ring.operator_id)

    # --- offers ----------------------------------------------------------------------

    async def _ring(self, call: Call, signal: OfferSignal, now_: float) -> None:
        rings: list[Ring] = []
        for operator_id in signal.offer.operator_ids:
            endpoint = signal.endpoints[operator_id]
            placed = await legs.place(
                call,
                f"PJSIP/{endpoint}",
                legs.operator_leg_id(operator_id),
                ring_s=signal.offer.ring_timeout_s,
                purpose="operator",
            )
            if placed.channel_id is None:
                call.log.warning("offer to operator %d failed (%s)", operator_id, placed.status)
                self._desk.offer_failed(call.info.call_id, operator_id, rang_out=False)
                if placed.unreachable:
                    self._desk.endpoint_state(endpoint, online=False)
                continue
            deadline = now_ + signal.offer.ring_timeout_s + RING_GRACE_S
            rings.append(Ring(placed.channel_id, operator_id, deadline))
            kind = "offered" if call.info.kind == "inbound" else "callback_offered"
            call.step(kind, operator_id=operator_id)
        if not rings:
            return
        current = call.state
        assert isinstance(current, Queued)
        call.state = (
            current.more(tuple(rings))
            if isinstance(current, Ringing)
            else current.ringing(tuple(rings))
        )
        call.publish(
            ev.CallOffered(
                call_id=call.info.call_id,
                queue=current.queue,
                operator_ids=tuple(r.operator_id for r in rings),
            )
        )

    async def _withdraw(self, call: Call, state: Ringing, operator_id: int) -> None:
        """A callback stops ringing an operator a live caller now waits for; it waits on."""
        ring = next((r for r in state.rings if r.operator_id == operator_id), None)
        if ring is None:
            return
        call.state = state.stopped(ring.channel_id)  # its end event is no longer ours
        await legs.drop(call, ring.channel_id)
        self._desk.withdrawn(call.info.call_id, operator_id)
        call.step("callback_offer_withdrawn", operator_id=operator_id, reason="live_caller")

    def _ring_failed(
        self, call: Call, state: Ringing, ring: Ring, cause: int | None, now_: float
    ) -> None:
        rang_out = cause in NO_ANSWER_CAUSES or now_ >= ring.deadline - RING_GRACE_S
        call.legs.detach(ring.channel_id)
        call.state = state.stopped(ring.channel_id)
        self._desk.offer_failed(call.info.call_id, ring.operator_id, rang_out=rang_out)
        call.step(
            "offer_" + ("rang_out" if rang_out else "refused"),
            operator_id=ring.operator_id,
            cause=cause,
        )

    # --- timers ----------------------------------------------------------------------

    def _schedule_announce(self, call: Call, queue: str, timers: _Timers, now_: float) -> None:
        conf = self._desk.queue(queue)
        every = conf.announce_every_s if conf and call.channel is not None else None
        timers.next_announce = now_ + every if every else None

    def _overflow_at(self, call: Call, queue: str, timers: _Timers) -> float | None:
        conf = self._desk.queue(queue)
        if call.info.kind != "inbound" or not conf or not conf.overflow_after_s:
            return None
        if not conf.overflow_target:
            return None
        return timers.enqueued + conf.overflow_after_s

    def _until_next(self, call: Call, state: Queued, timers: _Timers, now_: float) -> float | None:
        times = [r.deadline for r in state.rings] if isinstance(state, Ringing) else []
        if timers.next_announce is not None:
            times.append(timers.next_announce)
        overflow = self._overflow_at(call, state.queue, timers)
        if overflow is not None:
            times.append(overflow)
        escalate = self._escalate_at(call, now_)
        if escalate is not None:
            times.append(escalate)
        return max(0.0, min(times) - now_) if times else None

    def _escalate_at(self, call: Call, now_: float) -> float | None:
        """When (monotonic) the call escalates, or None."""
        if self._escalation is None or call.channel is None or call.reached_human:
            return None
        after = self._escalation.escalate_after(call)
        if after is None:
            return None
        return now_ + after - (now() - call.info.started_at).total_seconds()

    async def _timers(self, call: Call, timers: _Timers, now_: float) -> bool:
        """Ring deadlines, overflow, announcements. True when the call has left the queue."""
        state = call.state
        assert isinstance(state, Queued)
        if isinstance(state, Ringing):
            for ring in state.rings:
                if now_ >= ring.deadline:
                    await legs.drop(call, ring.channel_id)
                    current = call.state
                    if isinstance(current, Ringing) and current.ring(ring.channel_id):
                        self._ring_failed(call, current, ring, 19, now_)
            state = call.state
            assert isinstance(state, Queued)
        escalate = self._escalate_at(call, now_)
        if escalate is not None and now_ >= escalate and self._escalation is not None:
            call.step("unanswered_escalated", queue=state.queue)
            await self.leave(call, state, "hand_over")
            await call.stop_intro()
            with contextlib.suppress(AriError):
                await call.ari.stop_moh(call.channel or "")
            await self._escalation.escalate(call, state)
            return True
        overflow = self._overflow_at(call, state.queue, timers)
        if overflow is not None and now_ >= overflow:
            conf = self._desk.queue(state.queue)
            assert conf is not None and conf.overflow_target is not None
            return await self._overflow(call, state, conf.overflow_target, timers, now_)
        if timers.next_announce is not None and now_ >= timers.next_announce:
            await self._announce(call, timers)
            self._schedule_announce(call, state.queue, timers, now_)
        return False

    async def _overflow(
        self, call: Call, state: Queued, target: str, timers: _Timers, now_: float
    ) -> bool:
        call.step("overflowed", source=state.queue, target=target)
        call.log.info("overflow from %s to %s", state.queue, target)
        if target == FALLBACK or self._desk.queue(target) is None:
            call.record(  # marks the overflow; the queue stays the one it left
                CallQueued(
                    call_id=call.info.call_id,
                    queue=state.queue,
                    priority=0,
                    at=now(),
                    overflow=True,
                )
            )
            await self.leave(call, state, "hand_over")
            await call.hand_over("overflow")
            return True
        if isinstance(state, Ringing):
            for ring in state.rings:
                await legs.drop(call, ring.channel_id)
                self._desk.offer_failed(call.info.call_id, ring.operator_id, rang_out=False)
        moved = state.moved(target, now())
        call.state = moved
        timers.enqueued = now_
        self._enter(call, moved, overflow=True)
        return False

    async def _announce(self, call: Call, timers: _Timers) -> None:
        position = self._desk.position(call.info.call_id)
        if position is None or timers.announcing or call.intro or isinstance(call.state, Ringing):
            return
        if call.channel is None:
            return
        media = await self._voice.queue_position(position - 1) or (
            ["sound:queue-youarenext"]
            if position == 1
            else ["sound:queue-thereare", f"number:{position - 1}", "sound:queue-callswaiting"]
        )
        timers.announcing = f"position-{uuid.uuid4().hex}"
        try:
            await call.ari.stop_moh(call.channel)
            timers.music = False
            await call.ari.play(call.channel, media, timers.announcing)
        except NotFound:
            raise
        except AriError:
            timers.announcing = None


async def _music(call: Call, timers: _Timers) -> None:
    """Music on hold, unless something is still to be heard first (the greeting, the
    after-hours prompt, a position announcement) or there is nobody on the line."""
    if call.channel is None or call.intro or timers.announcing or timers.music:
        return
    await call.ari.start_moh(call.channel)
    timers.music = True


def _asks_callback(call: Call, dtmf: ChannelDtmfReceived) -> bool:
    offer = call.callback_offer
    return offer is not None and dtmf.digit == offer.digit and dtmf.channel.id == call.channel
