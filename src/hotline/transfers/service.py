"""Transfers of a connected call (R5): the blind and attended moves, done in the call's own
task. The caller hears the hand-over announced (the organisation, person and role taking over,
as the `announce` recording says) before meeting the new party."""

from __future__ import annotations

import contextlib
import uuid
from dataclasses import dataclass

from hotline.ari import AriError
from hotline.calls import legs
from hotline.calls.messages import Refused
from hotline.calls.phases import Consulting, Party, Talking
from hotline.calls.ports import NoVoice, Voice
from hotline.calls.session import Call, Why, now
from hotline.calls.talk import release
from hotline.core import events as ev
from hotline.core.phone import try_normalise
from hotline.core.words import priority_for
from hotline.queues.desk import Desk
from hotline.transfers.requests import DEFAULT_ANNOUNCE, Transfer, TransferStep

RING_PERSON_S = 20
RING_NUMBER_S = 40


@dataclass(frozen=True)
class Target:
    endpoint: str | None  # None: a queue
    party: Party
    ring_s: int
    who: str | None = None  # the queue's or the operator's name, told to the caller


def resolve(call: Call, desk: Desk, req: Transfer) -> Target:
    """Where the transfer goes, or Refused with why not."""
    given = [x for x in (req.queue, req.operator_id, req.number) if x is not None]
    if len(given) != 1:
        raise Refused("name exactly one of queue, operator_id, number")
    if req.queue is not None:
        if desk.queue(req.queue) is None:
            raise Refused(f"no queue {req.queue!r}")
        if req.mode == "attended":
            raise Refused("an attended transfer needs a person: operator or number")
        queue = desk.queue(req.queue)
        return Target(None, Party(), 0, queue.display_name if queue else None)
    if req.operator_id is not None:
        conf = desk.config.operators.get(req.operator_id)
        live = desk.floor.operators.get(req.operator_id)
        if conf is None or live is None:
            raise Refused(f"no active operator {req.operator_id}")
        if not live.reachable:
            raise Refused("that operator's softphone is not reachable")
        if len(live.calls) >= conf.line_cap:
            raise Refused("that operator has no free line")
        party = Party(operator_id=req.operator_id)
        return Target(f"PJSIP/{conf.endpoint}", party, RING_PERSON_S, conf.display_name or None)
    number = try_normalise(req.number)
    if number is None or number.startswith("+"):
        raise Refused("not a dialable number")
    return Target(legs.trunk_endpoint(call, number), Party(number=number), RING_NUMBER_S)


class Transfers:
    """The Talking phase's handler of Transfer requests, and the Consulting phase."""

    def __init__(self, desk: Desk, voice: Voice | None = None) -> None:
        self._desk = desk
        self._voice = voice or NoVoice()

    async def _told(self, req: Transfer, target: Target) -> tuple[str, ...]:
        """What the caller hears before meeting the new party: the recording the request
        names, else who takes over, spoken (R5), else the stock transfer prompt."""
        if req.announce:
            return req.announce
        spoken = await self._voice.transfer_to(target.who)
        return tuple(spoken) if spoken else DEFAULT_ANNOUNCE

    async def on_transfer(self, call: Call, state: Talking, req: Transfer) -> None:
        try:
            target = resolve(call, self._desk, req)
        except Refused as err:
            req.refuse(str(err))
            return
        if req.mode == "blind":
            await self._blind(call, state, req, target)
        else:
            await self._attended(call, state, req, target)

    async def on_step(self, call: Call, state: Talking, req: TransferStep) -> None:
        req.refuse("no attended transfer in progress")

    # --- blind -----------------------------------------------------------------------

    async def _blind(self, call: Call, state: Talking, req: Transfer, target: Target) -> None:
        assert call.channel is not None
        req.answer("transferring")
        call.step("transferred", mode="blind", target=req.target, by=req.by)
        call.publish(
            ev.CallTransferred(
                call_id=call.info.call_id, mode="blind", target=req.target, by=req.by
            )
        )
        with contextlib.suppress(AriError):
            await call.ari.remove_channel(state.bridge_id, call.channel)
        await release(call, state, self._desk)
        await announce(call, await self._told(req, target))
        if target.endpoint is None:
            assert req.queue is not None
            call.state = state.requeued(req.queue, priority_for(call.info.entry), now())
            return
        await call.ari.start_moh(call.channel)
        dialled = await legs.dial(
            call, target.endpoint, ring_s=target.ring_s, purpose="transfer", leg_id=_leg(target)
        )
        if dialled.channel_id is None:
            call.step("transfer_failed", target=req.target, cause=dialled.cause)
            call.state = state.requeued(state.queue, priority_for(call.info.entry), now())
            return
        await self._meet(call, state, dialled.channel_id, target)

    async def _meet(self, call: Call, state: Talking, leg: str, target: Target) -> None:
        assert call.channel is not None
        if target.party.operator_id is not None:
            self._desk.connected(call.info.call_id, target.party.operator_id)
        else:
            self._desk.human(call.info.call_id)
        with contextlib.suppress(AriError):
            await call.ari.stop_moh(call.channel)
        bridge_id = await legs.bridge(call, [call.channel, leg], state.queue)
        call.state = state.with_party(bridge_id, leg, target.party, now())
        call.publish(
            ev.CallAnswered(
                call_id=call.info.call_id,
                operator_id=target.party.operator_id,
                queue=None,
                waited_s=None,
            )
        )
        if target.party.operator_id is not None:
            call.step("operator_answered", operator_id=target.party.operator_id)
        else:
            call.step("party_answered", target="outside number")

    # --- attended --------------------------------------------------------------------

    async def _attended(self, call: Call, state: Talking, req: Transfer, target: Target) -> None:
        assert target.endpoint is not None and call.channel is not None
        await call.ari.remove_channel(state.bridge_id, call.channel)
        await call.ari.start_moh(call.channel)
        req.answer("consulting")
        call.step("consulting", target=req.target, by=req.by)
        dialled = await legs.dial(
            call, target.endpoint, ring_s=target.ring_s, purpose="transfer", leg_id=_leg(target)
        )
        if dialled.channel_id is None:
            call.step("transfer_failed", target=req.target, cause=dialled.cause)
            await rejoin(call, state.bridge_id)
            return
        if target.party.operator_id is not None:
            self._desk.connected(call.info.call_id, target.party.operator_id)
        await call.ari.add_channel(state.bridge_id, [dialled.channel_id])
        call.state = state.consulting(
            dialled.channel_id,
            target.party,
            now(),
            by=req.by,
            announce=await self._told(req, target),
        )

    # --- consulting (a phase of its own) --------------------------------------------

    async def run(self, call: Call, state: Consulting) -> None:
        while True:
            event = await call.next_event(None, accept=(TransferStep, Transfer))
            if isinstance(event, Transfer):
                event.refuse("a transfer is already under way")
                continue
            party_left = isinstance(event, legs.LEG_END) and event.channel.id == state.leg
            target_left = isinstance(event, legs.LEG_END) and event.channel.id == state.consult_leg
            complete = isinstance(event, TransferStep) and event.action == "complete"
            cancel = isinstance(event, TransferStep) and event.action == "cancel"
            if party_left or complete:
                if isinstance(event, TransferStep):
                    event.answer("completed")
                await self._complete(call, state)
                return
            if target_left or cancel:
                if isinstance(event, TransferStep):
                    event.answer("cancelled")
                call.step("transfer_cancelled", target=state.target.label)
                if target_left:
                    call.legs.detach(state.consult_leg)
                else:
                    await legs.drop(call, state.consult_leg)
                if state.target.operator_id is not None:
                    self._desk.finished(call.info.call_id, state.target.operator_id, state.queue)
                await rejoin(call, state.bridge_id)
                call.state = state.cancelled()
                return

    async def _complete(self, call: Call, state: Consulting) -> None:
        label, by = state.target.label, state.by
        call.step("transferred", mode="attended", target=label, by=by)
        call.publish(
            ev.CallTransferred(call_id=call.info.call_id, mode="attended", target=label, by=by)
        )
        await legs.drop(call, state.leg)
        if state.party.operator_id is not None:
            self._desk.finished(call.info.call_id, state.party.operator_id, state.queue)
        if state.target.operator_id is None:
            self._desk.human(call.info.call_id)
        call.state = state.completed(now())
        await announce(call, state.announce)
        await rejoin(call, state.bridge_id)

    async def leave(self, call: Call, state: Consulting, why: Why) -> None:
        await legs.drop(call, state.consult_leg)
        if state.target.operator_id is not None:
            self._desk.finished(call.info.call_id, state.target.operator_id, state.queue)
        await release(call, state.cancelled(), self._desk)


def _leg(target: Target) -> str:
    if target.party.operator_id is not None:
        return legs.operator_leg_id(target.party.operator_id)
    return legs.outside_leg_id()


async def announce(call: Call, media: tuple[str, ...]) -> None:
    """Tell the caller who takes over; wait for the end of it (10 s at most)."""
    if not media or call.channel is None:
        return
    playback = f"handover-{uuid.uuid4().hex}"
    try:
        await call.ari.play(call.channel, list(media), playback)
    except AriError:
        return
    played = await call.until_played(playback, 10.0)
    call.step("handover_announced", media=list(media), complete=played)


async def rejoin(call: Call, bridge_id: str) -> None:
    assert call.channel is not None
    with contextlib.suppress(AriError):
        await call.ari.stop_moh(call.channel)
    await call.ari.add_channel(bridge_id, [call.channel])
