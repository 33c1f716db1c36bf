"""A call waiting for an operator: queue, music, announcements, offers, overflow, bridge.

Runs inside the call's own task (the session's), reading the same inbox. The desk decides
who is offered the call; this rings them (one originated leg per operator), bridges the
first who answers, and releases the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from hotline.ari import AllocationFailed, AriError, NotFound
from hotline.ari.events import (
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    Event,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
)
from hotline.calls.connected import LEG_PREFIX, caller_id, connect, drop_leg
from hotline.calls.signals import CallGone
from hotline.calls.state import Ended
from hotline.db.records import CallbackDue, CallQueued
from hotline.routing.config import FALLBACK
from hotline.routing.desk import Desk, OfferSignal
from hotline.routing.floor import EMERGENCY, NORMAL

if TYPE_CHECKING:
    from hotline.calls.session import CallSession

NO_ANSWER_CAUSES = frozenset({18, 19})  # no user responding, no answer
_LEG_END = (StasisEnd, ChannelHangupRequest, ChannelDestroyed)


class Legs(Protocol):
    """The switchboard's routing of an extra channel's events to this call."""

    def attach(self, channel_id: str, linkedid: str) -> None: ...

    def detach(self, channel_id: str) -> None: ...


@dataclass
class _Ringing:
    operator_id: int
    deadline: float


@dataclass
class _Wait:
    queue: str
    enqueued: float
    ringing: dict[str, _Ringing] = field(default_factory=dict)
    next_announce: float | None = None
    announcing: str | None = None  # playback id


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


async def route(call: CallSession, desk: Desk) -> None:
    """From the end of the greeting to the end of the call (or its hand-over)."""
    queue, open_now = desk.queue_for(call.info.entry)
    if not open_now:
        call.step("after_hours", queue=queue)
        if await _offer_callback(call):
            return
    if queue is None or queue == FALLBACK:
        await call.hand_over("no_queue")
        return
    priority = EMERGENCY if call.info.entry == "terminal" else NORMAL
    next_queue: str | None = queue
    while next_queue is not None:
        next_queue = await _wait_for_operator(call, desk, next_queue, priority)


async def _offer_callback(call: CallSession) -> bool:
    """After hours: say so and offer a callback on a key press. True if taken."""
    policy = call.policy
    await call.ari.play(call.info.channel_id, list(policy.after_hours_prompt), _pid("closed"))
    loop = asyncio.get_running_loop()
    deadline = loop.time() + policy.callback_wait_s + 5.0
    while (left := deadline - loop.time()) > 0:
        event = await call.next_event(left)
        if isinstance(event, ChannelDtmfReceived) and event.digit == policy.callback_digit:
            _callback(call, "after_hours", None)
            bye = _pid("bye")
            await call.ari.play(call.info.channel_id, ["sound:auth-thankyou"], bye)
            await call.until_played(bye, 5.0)
            await call.ari.hangup(call.info.channel_id)
            call.finish(Ended(_now(), "service"))
            return True
    return False


async def _wait_for_operator(
    call: CallSession, desk: Desk, queue: str, priority: int
) -> str | None:
    """Wait, ring, connect. Returns a queue to wait in again (after a transfer) or None."""
    loop = asyncio.get_running_loop()
    wait = _Wait(queue, loop.time())
    desk.enqueue(call.info.call_id, call, queue, priority)
    call.record(CallQueued(call_id=call.info.call_id, queue=queue, priority=priority, at=_now()))
    call.step("queued", queue=queue, priority=priority)
    _schedule_announce(desk, wait, loop.time())
    await call.ari.start_moh(call.info.channel_id)
    connected = False
    try:
        while True:
            item = await call.next_event(_until_next_timer(desk, wait, loop.time()))
            now = loop.time()
            if isinstance(item, OfferSignal):
                await _ring(call, desk, wait, item, now)
            elif isinstance(item, StasisStart) and item.channel.id in wait.ringing:
                operator_id = wait.ringing.pop(item.channel.id).operator_id
                connected = True
                for channel_id in list(wait.ringing):  # ring-all: the others stop ringing
                    del wait.ringing[channel_id]
                    await drop_leg(call, channel_id)
                if wait.announcing:  # the position prompt must not run into the talk
                    with contextlib.suppress(AriError):
                        await call.ari.stop_playback(wait.announcing)
                return await connect(call, desk, wait.queue, item.channel.id, operator_id)
            elif isinstance(item, _LEG_END) and item.channel.id in wait.ringing:
                _leg_failed(call, desk, wait, item, now)
            elif isinstance(item, PlaybackFinished) and item.playback.id == wait.announcing:
                wait.announcing = None
                await call.ari.start_moh(call.info.channel_id)
            elif item is None and await _timers(call, desk, wait, now):
                return None
    except CallGone:
        if not connected:
            waited = desk.waited(call.info.call_id)
            _callback(call, "abandoned", waited)
        raise
    finally:
        desk.leave(call.info.call_id)
        for channel_id in list(wait.ringing):
            await drop_leg(call, channel_id)


def _schedule_announce(desk: Desk, wait: _Wait, now: float) -> None:
    conf = desk.queue(wait.queue)
    every = conf.announce_every_s if conf else None
    wait.next_announce = now + every if every else None


def _until_next_timer(desk: Desk, wait: _Wait, now: float) -> float | None:
    times = [r.deadline for r in wait.ringing.values()]
    if wait.next_announce is not None:
        times.append(wait.next_announce)
    conf = desk.queue(wait.queue)
    if conf and conf.overflow_after_s and conf.overflow_target:
        times.append(wait.enqueued + conf.overflow_after_s)
    return max(0.0, min(times) - now) if times else None


async def _timers(call: CallSession, desk: Desk, wait: _Wait, now: float) -> bool:
    """Ring deadlines, overflow, announcements. True when the call has left the queue."""
    for channel_id, ringing in list(wait.ringing.items()):
        if now >= ringing.deadline:
            del wait.ringing[channel_id]
            await drop_leg(call, channel_id)
            desk.offer_failed(call.info.call_id, ringing.operator_id, rang_out=True)
            call.step("offer_rang_out", operator_id=ringing.operator_id)
    conf = desk.queue(wait.queue)
    overflow = conf and conf.overflow_after_s and conf.overflow_target
    if conf and overflow and now >= wait.enqueued + (conf.overflow_after_s or 0):
        return await _overflow(call, desk, wait, conf.overflow_target or FALLBACK, now)
    if wait.next_announce is not None and now >= wait.next_announce:
        await _announce(call, desk, wait)
        _schedule_announce(desk, wait, now)
    return False


async def _overflow(call: CallSession, desk: Desk, wait: _Wait, target: str, now: float) -> bool:
    call.step("overflowed", source=wait.queue, target=target)
    call.log.info("overflow from %s to %s", wait.queue, target)
    if target == FALLBACK or desk.queue(target) is None:
        call.record(  # marks the overflow; the queue stays the one it left
            CallQueued(
                call_id=call.info.call_id, queue=wait.queue, priority=0, at=_now(), overflow=True
            )
        )
        desk.leave(call.info.call_id)
        await call.hand_over("overflow")
        return True
    wait.queue, wait.enqueued = target, now
    call.record(
        CallQueued(call_id=call.info.call_id, queue=target, priority=0, at=_now(), overflow=True)
    )
    desk.move(call.info.call_id, target)
    return False


async def _announce(call: CallSession, desk: Desk, wait: _Wait) -> None:
    position = desk.position(call.info.call_id)
    if position is None or wait.announcing or wait.ringing:
        return
    media = (
        ["sound:queue-youarenext"]
        if position == 1
        else ["sound:queue-thereare", f"number:{position - 1}", "sound:queue-callswaiting"]
    )
    wait.announcing = _pid("position")
    try:
        await call.ari.stop_moh(call.info.channel_id)
        await call.ari.play(call.info.channel_id, media, wait.announcing)
    except NotFound:
        raise
    except AriError:
        wait.announcing = None


async def _ring(
    call: CallSession, desk: Desk, wait: _Wait, signal: OfferSignal, now: float
) -> None:
    for operator_id in signal.offer.operator_ids:
        channel_id = f"{LEG_PREFIX}{uuid.uuid4().hex}"
        if call.legs is not None:
            call.legs.attach(channel_id, call.info.linkedid)
        try:
            await call.ari.originate(
                f"PJSIP/{signal.endpoints[operator_id]}",
                app=call.policy.app,
                app_args="operator",
                channel_id=channel_id,
                caller_id=caller_id(call),
                timeout=signal.offer.ring_timeout_s,
            )
        except AriError as err:
            if call.legs is not None:
                call.legs.detach(channel_id)
            unreachable = isinstance(err, AllocationFailed)
            call.log.warning("offer to operator %d failed (%s)", operator_id, err.status)
            desk.offer_failed(call.info.call_id, operator_id, rang_out=False)
            if unreachable:
                desk.endpoint_state(signal.endpoints[operator_id], online=False)
            continue
        wait.ringing[channel_id] = _Ringing(operator_id, now + signal.offer.ring_timeout_s + 2)
        call.step("offered", operator_id=operator_id)


def _leg_failed(call: CallSession, desk: Desk, wait: _Wait, event: Event, now: float) -> None:
    assert isinstance(event, _LEG_END)
    ringing = wait.ringing.pop(event.channel.id)
    cause = getattr(event, "cause", None)
    rang_out = cause in NO_ANSWER_CAUSES or now >= ringing.deadline - 2
    if call.legs is not None:
        call.legs.detach(event.channel.id)
    desk.offer_failed(call.info.call_id, ringing.operator_id, rang_out=rang_out)
    call.step(
        "offer_" + ("rang_out" if rang_out else "refused"),
        operator_id=ringing.operator_id,
        cause=cause,
    )


def _callback(call: CallSession, reason: str, waited: float | None) -> None:
    call.record(
        CallbackDue(
            callback_id=uuid.uuid5(call.info.call_id, f"callback-{reason}"),
            case_id=call.info.case_id,
            call_id=call.info.call_id,
            number=call.info.caller_number,
            reason=reason,
            waited_s=None if waited is None else round(waited, 1),
            at=_now(),
        )
    )
    call.step("callback_due", reason=reason)


def _pid(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"
