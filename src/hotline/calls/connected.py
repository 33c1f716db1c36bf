"""A caller connected to someone (an operator, or an outside party after a transfer).

The caller and the other leg share a mixing bridge until either hangs up or the call is
transferred (R5): blind (the operator leaves at once) or attended (the operator speaks
with the target first while the caller hears music, then completes or cancels). The
caller hears an announcement of the hand-over before meeting the new party.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from hotline.ari import AriError
from hotline.ari.events import (
    ChannelDestroyed,
    ChannelHangupRequest,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
)
from hotline.calls.signals import Transfer, TransferRefused, TransferStep
from hotline.calls.state import Ended
from hotline.db.records import CallConnected
from hotline.phone import try_normalise
from hotline.routing.desk import Desk

if TYPE_CHECKING:
    from hotline.calls.session import CallSession

LEG_PREFIX = "hlop-"  # channel ids of the legs we originate
BRIDGE_PREFIX = "hotline-call-"
TRUNK = "pstn"
_LEG_END = (StasisEnd, ChannelHangupRequest, ChannelDestroyed)


@dataclass
class Talk:
    bridge_id: str
    leg: str
    operator_id: int | None  # None: an outside party
    queue: str  # where the caller goes back to if a transfer fails


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def caller_id(call: CallSession) -> str:
    """What the called phone shows: the caller's number (the screen pop has the rest)."""
    return f'"{call.info.entry}" <{call.info.caller_number or "anonymous"}>'


async def connect(
    call: CallSession, desk: Desk, queue: str, leg: str, operator_id: int | None
) -> str | None:
    """Bridge the caller with ``leg``. Returns a queue to wait in again, or None (ended)."""
    talk = await _bridge(call, desk, leg, operator_id, queue)
    if operator_id is not None:
        call.record(
            CallConnected(
                call_id=call.info.call_id,
                case_id=call.info.case_id,
                operator_id=operator_id,
                at=_now(),
            )
        )
        call.step("operator_answered", operator_id=operator_id)
    call.talking = True
    try:
        return await _talk(call, desk, talk)
    finally:
        call.talking = False


async def _bridge(
    call: CallSession, desk: Desk, leg: str, operator_id: int | None, queue: str
) -> Talk:
    if operator_id is not None:
        desk.connected(call.info.call_id, operator_id)
    talk = Talk(f"{BRIDGE_PREFIX}{uuid.uuid4().hex}", leg, operator_id, queue)
    await call.ari.create_bridge(talk.bridge_id, type="mixing")
    with contextlib.suppress(AriError):
        await call.ari.stop_moh(call.info.channel_id)
    await call.ari.add_channel(talk.bridge_id, [call.info.channel_id, leg])
    return talk


async def _talk(call: CallSession, desk: Desk, talk: Talk) -> str | None:
    current = talk
    try:
        while True:
            event = await call.next_event(None)
            if isinstance(event, _LEG_END) and event.channel.id == current.leg:
                call.step("party_hung_up", operator_id=current.operator_id)
                await call.ari.hangup(call.info.channel_id)
                call.finish(Ended(_now(), "operator", 16, "Normal Clearing"))
                return None
            if isinstance(event, TransferStep):
                event.done.set_exception(TransferRefused("no attended transfer in progress"))
            elif isinstance(event, Transfer):
                try:
                    target = await _resolve(call, desk, event)
                except TransferRefused as err:
                    event.done.set_exception(err)
                    continue
                if event.mode == "blind":
                    outcome = await _blind(call, desk, current, event, target)
                else:
                    outcome = await _attended(call, desk, current, event, target)
                if outcome is None or isinstance(outcome, str):
                    current = Talk("", "", None, current.queue)  # nothing left to clean up
                    return outcome
                current = outcome
    finally:
        await _release(call, desk, current)


async def _release(call: CallSession, desk: Desk, talk: Talk) -> None:
    if talk.leg:
        await drop_leg(call, talk.leg)
    if talk.bridge_id:
        with contextlib.suppress(AriError):
            await call.ari.destroy_bridge(talk.bridge_id)
    if talk.operator_id is not None:
        desk.finished(call.info.call_id, talk.operator_id, talk.queue)


@dataclass(frozen=True)
class _Target:
    endpoint: str | None  # None: a queue
    operator_id: int | None
    ring_s: int


async def _resolve(call: CallSession, desk: Desk, req: Transfer) -> _Target:
    given = [x for x in (req.queue, req.operator_id, req.number) if x is not None]
    if len(given) != 1:
        raise TransferRefused("name exactly one of queue, operator_id, number")
    if req.queue is not None:
        if desk.queue(req.queue) is None:
            raise TransferRefused(f"no queue {req.queue!r}")
        if req.mode == "attended":
            raise TransferRefused("an attended transfer needs a person: operator or number")
        return _Target(None, None, 0)
    ring_s = 20
    if req.operator_id is not None:
        conf = desk.floor.config.operators.get(req.operator_id)
        live = desk.floor.operators.get(req.operator_id)
        if conf is None or live is None:
            raise TransferRefused(f"no active operator {req.operator_id}")
        if not live.reachable:
            raise TransferRefused("that operator's softphone is not reachable")
        if len(live.calls) >= conf.line_cap:
            raise TransferRefused("that operator has no free line")
        return _Target(f"PJSIP/{conf.endpoint}", req.operator_id, ring_s)
    number = try_normalise(req.number)
    if number is None or number.startswith("+"):
        raise TransferRefused("not a dialable number")
    return _Target(f"PJSIP/{number}@{TRUNK}", None, 40)


async def _announce(call: CallSession, media: tuple[str, ...]) -> None:
    """Tell the caller who takes over; wait for the end of it (10 s at most)."""
    playback = f"handover-{uuid.uuid4().hex}"
    try:
        await call.ari.play(call.info.channel_id, list(media), playback)
    except AriError:
        return
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while (left := deadline - loop.time()) > 0:
        event = await call.next_event(left)
        if isinstance(event, PlaybackFinished) and event.playback.id == playback:
            return
        _refuse_meanwhile(event)


def _refuse_meanwhile(event: object) -> None:
    if isinstance(event, Transfer | TransferStep):
        event.done.set_exception(TransferRefused("a transfer is already under way"))


async def _blind(
    call: CallSession, desk: Desk, talk: Talk, req: Transfer, target: _Target
) -> Talk | str | None:
    req.done.set_result("transferring")
    call.step("transferred", mode="blind", target=req.target, by=req.by)
    with contextlib.suppress(AriError):
        await call.ari.remove_channel(talk.bridge_id, call.info.channel_id)
    await _release(call, desk, talk)
    await _announce(call, req.announce)
    if target.endpoint is None:
        return req.queue
    await call.ari.start_moh(call.info.channel_id)
    leg = await dial(call, target.endpoint, target.ring_s)
    if leg is None:
        call.step("transfer_failed", target=req.target)
        return talk.queue
    return await _bridge(call, desk, leg, target.operator_id, talk.queue)


async def _attended(
    call: CallSession, desk: Desk, talk: Talk, req: Transfer, target: _Target
) -> Talk | str | None:
    assert target.endpoint is not None
    await call.ari.remove_channel(talk.bridge_id, call.info.channel_id)
    await call.ari.start_moh(call.info.channel_id)
    req.done.set_result("consulting")
    call.step("consulting", target=req.target, by=req.by)
    leg = await dial(call, target.endpoint, target.ring_s)
    if leg is None:
        call.step("transfer_failed", target=req.target)
        await _rejoin(call, talk)
        return talk
    await call.ari.add_channel(talk.bridge_id, [leg])
    try:
        while True:
            event = await call.next_event(None)
            if (isinstance(event, _LEG_END) and event.channel.id == talk.leg) or (
                isinstance(event, TransferStep) and event.action == "complete"
            ):
                if isinstance(event, TransferStep):
                    event.done.set_result("completed")
                call.step("transferred", mode="attended", target=req.target, by=req.by)
                await drop_leg(call, talk.leg)
                if talk.operator_id is not None:
                    desk.finished(call.info.call_id, talk.operator_id, talk.queue)
                if target.operator_id is not None:
                    desk.connected(call.info.call_id, target.operator_id)
                await _announce(call, req.announce)
                new = Talk(talk.bridge_id, leg, target.operator_id, talk.queue)
                leg = ""
                await _rejoin(call, new)
                return new
            if (isinstance(event, _LEG_END) and event.channel.id == leg) or (
                isinstance(event, TransferStep) and event.action == "cancel"
            ):
                if isinstance(event, TransferStep):
                    event.done.set_result("cancelled")
                call.step("transfer_cancelled", target=req.target)
                await _rejoin(call, talk)
                return talk
            _refuse_meanwhile(event)
    finally:
        if leg:
            await drop_leg(call, leg)


async def _rejoin(call: CallSession, talk: Talk) -> None:
    with contextlib.suppress(AriError):
        await call.ari.stop_moh(call.info.channel_id)
    await call.ari.add_channel(talk.bridge_id, [call.info.channel_id])


async def dial(call: CallSession, endpoint: str, ring_s: int) -> str | None:
    """Ring ``endpoint`` into our app; the answered leg's channel id, or None."""
    leg = f"{LEG_PREFIX}{uuid.uuid4().hex}"
    if call.legs is not None:
        call.legs.attach(leg, call.info.linkedid)
    try:
        await call.ari.originate(
            endpoint,
            app=call.policy.app,
            app_args="transfer",
            channel_id=leg,
            caller_id=caller_id(call),
            timeout=ring_s,
        )
    except AriError:
        if call.legs is not None:
            call.legs.detach(leg)
        return None
    answered = False
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ring_s + 3
        while (left := deadline - loop.time()) > 0:
            event = await call.next_event(left)
            if isinstance(event, StasisStart) and event.channel.id == leg:
                answered = True
                return leg
            if isinstance(event, _LEG_END) and event.channel.id == leg:
                return None
            _refuse_meanwhile(event)
        return None
    finally:
        if not answered:
            await drop_leg(call, leg)


async def drop_leg(call: CallSession, channel_id: str) -> None:
    with contextlib.suppress(AriError):  # already gone
        await call.ari.hangup(channel_id)
    if call.legs is not None:
        call.legs.detach(channel_id)
