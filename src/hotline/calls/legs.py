"""Legs we place ourselves, and the bridges that join them: the machinery every outbound
call uses (operators rung for a waiting call, transfers to a person or a number, callbacks;
later 120 and the family).

Ids carry what a restarted service needs to adopt them and nothing personal: an operator's
leg is `hlop-<operator id>-<random>`, any other leg `hlout-<random>`, a supervisor's leg and
snoop channel `hlsup-<random>`; a call's bridge is `hotline-call-<random>`, named with its
call's ids and queue (BridgeTag) so that a restarted service can adopt the conversation in it.
A supervision's bridge has the same prefix but no tag and no operator leg in it: a restarted
service never adopts it, it destroys it and hangs up its `hlsup-` channels (the supervision
ends with the service; its supervisor asks again).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from dataclasses import dataclass

from hotline.ari import AllocationFailed, AriError
from hotline.ari.events import ChannelDestroyed, ChannelHangupRequest, StasisEnd, StasisStart
from hotline.calls.session import Call

OPERATOR_LEG = "hlop-"
OUTSIDE_LEG = "hlout-"
SUPERVISION_LEG = "hlsup-"
LEG_PREFIXES = (OPERATOR_LEG, OUTSIDE_LEG, SUPERVISION_LEG)
BRIDGE_PREFIX = "hotline-call-"
LEG_END = (StasisEnd, ChannelHangupRequest, ChannelDestroyed)


def operator_leg_id(operator_id: int) -> str:
    return f"{OPERATOR_LEG}{operator_id}-{uuid.uuid4().hex}"


def outside_leg_id() -> str:
    return f"{OUTSIDE_LEG}{uuid.uuid4().hex}"


def supervision_leg_id() -> str:
    """A supervisor's leg, or a snoop channel on an operator's leg (hotline.supervision)."""
    return f"{SUPERVISION_LEG}{uuid.uuid4().hex}"


def is_leg(channel_id: str) -> bool:
    return channel_id.startswith(LEG_PREFIXES)


def operator_of(channel_id: str) -> int | None:
    """The operator an operator leg rings, from its id; None for any other channel."""
    if not channel_id.startswith(OPERATOR_LEG):
        return None
    head = channel_id.removeprefix(OPERATOR_LEG).partition("-")[0]
    return int(head) if head.isdigit() else None


@dataclass(frozen=True)
class BridgeTag:
    """What a bridge's name tells a restarted service about its call (ids, no names)."""

    call_id: uuid.UUID
    case_id: uuid.UUID
    queue: str
    kind: str  # inbound | callback | emergency (a conference, adopted as one after a restart)

    def name(self) -> str:
        return f"call:{self.call_id.hex}:{self.case_id.hex}:{self.kind}:{self.queue}"

    @classmethod
    def parse(cls, name: str) -> BridgeTag | None:
        parts = name.split(":")
        if len(parts) != 5 or parts[0] != "call":
            return None
        try:
            return cls(uuid.UUID(parts[1]), uuid.UUID(parts[2]), parts[4], parts[3])
        except ValueError:
            return None


def shown_number(call: Call) -> str:
    """What a phone we ring shows: the caller's (or the callee's) number, nothing else."""
    return f'"{call.info.entry}" <{call.info.number or "anonymous"}>'


def trunk_endpoint(call: Call, number: str) -> str:
    return f"PJSIP/{number}@{call.policy.trunk}"


@dataclass(frozen=True)
class Placed:
    """The outcome of placing a leg: the channel if it rings, else why not."""

    channel_id: str | None
    unreachable: bool = False  # Asterisk could not even create it (no registered phone)
    status: int | None = None


async def place(
    call: Call, endpoint: str, leg_id: str, *, ring_s: int, purpose: str, shown: str | None = None
) -> Placed:
    """Originate `endpoint` into our app as `leg_id`; its events come to `call` from now on.
    Returns at once: the leg rings; its StasisStart (answered) or end arrives in the inbox."""
    call.legs.attach(leg_id, call.info.key)
    try:
        await call.ari.originate(
            endpoint,
            app=call.policy.app,
            app_args=purpose,
            channel_id=leg_id,
            caller_id=shown or shown_number(call),
            timeout=ring_s,
        )
    except AriError as err:
        call.legs.detach(leg_id)
        return Placed(None, isinstance(err, AllocationFailed), err.status)
    return Placed(leg_id)


@dataclass(frozen=True)
class Dialled:
    """The outcome of dialling and waiting: the answered leg, or the cause it ended with."""

    channel_id: str | None
    cause: int | None = None
    aborted: bool = False  # the `watch` channel ended first


async def dial(
    call: Call,
    endpoint: str,
    *,
    ring_s: int,
    purpose: str,
    leg_id: str | None = None,
    shown: str | None = None,
    watch: str | None = None,
) -> Dialled:
    """Ring `endpoint` and wait until it answers (the leg) or ends (its cause). Requests that
    arrive meanwhile are refused; the customer hanging up raises CallGone as usual, and the
    `watch` channel (an operator waiting for the callee) hanging up stops the dialling."""
    leg = leg_id or outside_leg_id()
    placed = await place(call, endpoint, leg, ring_s=ring_s, purpose=purpose, shown=shown)
    if placed.channel_id is None:
        return Dialled(None, 34 if placed.unreachable else None)
    answered = False
    cause: int | None = None
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ring_s + 3
        while (left := deadline - loop.time()) > 0:
            event = await call.next_event(left)
            if isinstance(event, StasisStart) and event.channel.id == leg:
                answered = True
                return Dialled(leg)
            if isinstance(event, ChannelHangupRequest) and event.channel.id == leg:
                cause = event.cause if event.cause is not None else cause
            if isinstance(event, ChannelDestroyed) and event.channel.id == leg:
                return Dialled(None, event.cause)
            if isinstance(event, StasisEnd) and event.channel.id == leg:
                return Dialled(None, cause)
            if watch is not None and isinstance(event, LEG_END) and event.channel.id == watch:
                return Dialled(None, None, aborted=True)
        return Dialled(None, 19)  # no answer within the ring time
    finally:
        if not answered:
            await drop(call, leg)


async def drop(call: Call, channel_id: str) -> None:
    """Hang a leg up (if it is still there) and stop routing its events to the call."""
    with contextlib.suppress(AriError):  # already gone
        await call.ari.hangup(channel_id)
    call.legs.detach(channel_id)


async def bridge(call: Call, channels: list[str], queue: str, *, kind: str | None = None) -> str:
    """A new mixing bridge with `channels` in it (a fresh id every time), named for the call
    (`kind`: the call's own, or "emergency" for a conference)."""
    bridge_id = f"{BRIDGE_PREFIX}{uuid.uuid4().hex}"
    tag = BridgeTag(call.info.call_id, call.info.case_id, queue, kind or call.info.kind)
    await call.ari.create_bridge(bridge_id, type="mixing", name=tag.name())
    if channels:
        await call.ari.add_channel(bridge_id, channels)
    return bridge_id


async def unbridge(call: Call, bridge_id: str) -> None:
    with contextlib.suppress(AriError):
        await call.ari.destroy_bridge(bridge_id)
