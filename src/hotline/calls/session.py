"""One call's task: its inbox, its records, and the driver of its phases.

The session runs the handler of whatever phase the call is in (calls.phases) until the call
has ended. Handlers come from the features that own each phase (intake, queues, talk,
transfers, callbacks) and are wired in by the service, so this module imports none of them.
A handler moves the call on by setting `call.state`; if the call ends early (the customer
hangs up, the service shuts down, something fails) the handler of the phase it was in is
asked to leave it tidy, and the customer is never stranded: anything unexpected sends them to
the dialplan's duty ring group.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from hotline.ari import AriClient, AriError, NotFound
from hotline.ari.events import (
    ChannelDestroyed,
    ChannelHangupRequest,
    Event,
    PlaybackFinished,
    StasisEnd,
)
from hotline.calls.messages import (
    HAND_OVER,
    VANISHED,
    CallGone,
    HandOverRequested,
    Request,
    Signal,
)
from hotline.calls.phases import CallState, Ended, LiveState
from hotline.calls.ports import CallbackDesk, CallbackOffer, Legs, NoCallbacks, Publish, Record
from hotline.core import events as ev
from hotline.core.events import CallKind
from hotline.core.records import CallEnded, CallStarted, CaseStep, Op
from hotline.core.words import FALLBACK, NORMAL_CLEARING, Q850

log = logging.getLogger(__name__)

FALLBACK_DIALPLAN = ("hotline-fallback", "s", 1)  # the duty ring group (dialplan/hotline.conf)
_END_EVENTS = (StasisEnd, ChannelHangupRequest, ChannelDestroyed)
Why = Literal["gone", "hand_over", "error"]


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CallInfo:
    """What is known of a call when it starts or is adopted. No names."""

    call_id: uuid.UUID
    case_id: uuid.UUID
    key: str  # the switchboard's key: the caller channel's linkedid, or the callback's
    entry: str
    number: str | None  # the caller's number; for a callback, the number to call
    started_at: dt.datetime
    kind: CallKind = "inbound"


@dataclass(frozen=True)
class Policy:
    greeting: Sequence[str]
    greeting_timeout: float = 60.0
    identify_timeout: float = 2.0
    app: str = "hotline"
    after_hours_prompt: Sequence[str] = ("sound:vm-isunavail", "sound:vm-press", "digits:1")
    callback_digit: str = "1"
    callback_wait_s: float = 6.0
    trunk: str = "pstn"  # the carrier: outside numbers are dialled as PJSIP/<number>@<trunk>


class Phase(Protocol):
    """A phase's handler: runs the phase until the call moves on (it sets `call.state`)."""

    async def run(self, call: Call, state: Any) -> None: ...

    async def leave(self, call: Call, state: Any, why: Why) -> None:
        """The call ends (or is handed over) during this phase: leave things tidy."""
        ...


Message = Event | Signal | Request | object


class Call:
    def __init__(
        self,
        info: CallInfo,
        *,
        channel: str | None,
        ari: AriClient,
        record: Record,
        publish: Publish,
        legs: Legs,
        policy: Policy,
        phases: Mapping[type, Phase],
        state: LiveState,
        callbacks: CallbackDesk | None = None,
        resumed: bool = False,
    ) -> None:
        self.info = info
        self.channel = channel  # the customer's channel; None while a callback has nobody yet
        self.state: CallState = state
        self.resumed = resumed
        self.reached_human = False  # a person (operator, outside party) has taken the call
        self.elder_id: int | None = None  # who the caller is (or calls about), once identified
        self.case_owner: int | None = None  # owner of the elder's open case: offered first (R14)
        # What the caller hears before the music while waiting: the greeting, the after-hours
        # prompt (playback id -> its name and media, in the order queued on the channel). It
        # plays while the operators' softphones already ring, and stops when one answers (R1).
        self.intro: dict[str, tuple[str, tuple[str, ...]]] = {}  # id -> (timeline step, media)
        # After hours: the digit the caller may press while waiting to be called back instead.
        self.callback_offer: CallbackOffer | None = None
        # A callback cancelled while its call waited for an operator: it leaves the queue.
        self.cancelled = False
        self.ari = ari
        self.legs = legs
        self.policy = policy
        self.callbacks = callbacks or NoCallbacks()
        self._record = record
        self._publish = publish
        self._phases = phases
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self.log = logging.LoggerAdapter(log, {"call": str(info.call_id), "channel": channel})

    # --- the inbox -------------------------------------------------------------------

    def deliver(self, item: Message) -> None:
        """An ARI event, a signal, a request or an offer, for this call's task."""
        self._inbox.put_nowait(item)

    async def next_event(
        self, seconds: float | None, *, accept: tuple[type, ...] = ()
    ) -> Message | None:
        """The next event, offer or accepted request, or None on timeout.

        Raises CallGone when the customer's channel is ending (end events of other legs are
        returned), HandOverRequested on shutdown. A request of a type not in `accept` is
        refused here: the phase cannot do it now.
        """
        try:
            item = await asyncio.wait_for(self._inbox.get(), seconds)
        except TimeoutError:
            return None
        if item is VANISHED:
            raise CallGone(None, "lost")
        if item is HAND_OVER:
            raise HandOverRequested
        if isinstance(item, Signal):
            return None
        if isinstance(item, Request) and not isinstance(item, accept):
            item.refuse("the call cannot do that now (it is not connected to anyone)")
            return None
        if self.channel is not None and isinstance(item, _END_EVENTS) and self._mine(item):
            raise await self._await_end(0.5, first=item)
        if isinstance(item, PlaybackFinished) and item.playback.id in self.intro:
            self._intro_played(item.playback.id, stopped=False)
        return item

    # --- the intro: what plays before the music ----------------------------------------

    async def play_intro(self, kind: str, media: Sequence[str], step: str) -> None:
        """Queue `media` on the caller's channel in front of the music (greeting, after-hours
        prompt); the call carries on at once: it waits, and operators ring, meanwhile. Once
        played (or stopped) it is the timeline's `step`."""
        assert self.channel is not None
        playback_id = f"{kind}-{uuid.uuid4().hex}"
        self.intro[playback_id] = (step, tuple(media))
        try:
            await self.ari.play(self.channel, list(media), playback_id)
        except BaseException:
            self.intro.pop(playback_id, None)
            raise

    async def stop_intro(self) -> None:
        """An operator answered (or the call leaves): whatever still plays stops at once, the
        newest first so that nothing queued behind it starts."""
        for playback_id in reversed(list(self.intro)):
            with contextlib.suppress(AriError):  # it may have ended on its own just now
                await self.ari.stop_playback(playback_id)
            self._intro_played(playback_id, stopped=True)

    def _intro_played(self, playback_id: str, *, stopped: bool) -> None:
        step, media = self.intro.pop(playback_id)
        self.step(step, media=list(media), stopped=stopped)  # media names only

    async def until_played(self, playback_id: str, seconds: float) -> bool:
        """Wait for the end of a playback; False if it did not end in ``seconds``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            event = await self.next_event(left)
            if isinstance(event, PlaybackFinished) and event.playback.id == playback_id:
                return True
        return False

    # --- the driver ------------------------------------------------------------------

    async def run(self) -> None:
        try:
            if self.resumed:
                self._resume()
            while not isinstance(self.state, Ended):
                state = self.state
                phase = self._phases.get(type(state))
                if phase is None:
                    raise RuntimeError(f"no handler for the phase {type(state).__name__}")
                await phase.run(self, state)
                if self.state is state:
                    raise RuntimeError(f"the {type(state).__name__} handler did not move on")
        except CallGone as gone:
            await self._leave("gone")
            self._hung_up(gone)
        except HandOverRequested:
            await self._leave("hand_over")
            await self._rescue("service_shutdown")
        except NotFound:  # the customer's channel went away under a request
            await self._leave("gone")
            self._hung_up(await self._await_end(0.5))
        except AriError as err:
            self.log.warning("call flow: ARI %s on %s; sending to fallback", err.status, err.path)
            await self._leave("error")
            await self._rescue("error")
        except Exception:
            self.log.exception("call flow failed; sending to fallback")
            await self._leave("error")
            await self._rescue("error")

    async def _leave(self, why: Why) -> None:
        if isinstance(self.state, Ended):
            return
        phase = self._phases.get(type(self.state))
        if phase is None:
            return
        try:
            await phase.leave(self, self.state, why)
        except Exception:
            self.log.exception("leaving %s failed", type(self.state).__name__)

    def _resume(self) -> None:
        """Adopted after a restart: the same call row (idempotent), one `resumed` step."""
        self.record_start()
        self.step("resumed", reason="service_restart", phase=type(self.state).__name__)

    def record_start(self) -> None:
        info = self.info
        if info.kind != "inbound" or self.channel is None:
            return
        self.record(
            CallStarted(
                call_id=info.call_id,
                linkedid=info.key,
                channel_id=self.channel,
                entry=info.entry,
                caller_number=info.number,
                at=info.started_at,
            )
        )

    # --- leaving ---------------------------------------------------------------------

    async def hand_over(self, reason: str) -> None:
        """Send the customer to the dialplan's fallback ring group (a human)."""
        if self.channel is None:
            self.finish(Ended(now(), "service"))
            return
        context, exten, priority = FALLBACK_DIALPLAN
        await self.stop_intro()  # the dialplan's ring group must not wait behind a prompt
        await self.ari.continue_in_dialplan(
            self.channel, context=context, extension=exten, priority=priority
        )
        try:
            await self._await_stasis_end(5.0)
        finally:
            if not isinstance(self.state, Ended):
                self.finish(self.state.handed_over(now()))
            self.step("handed_to_fallback", reason=reason, target=FALLBACK)

    async def _rescue(self, reason: str) -> None:
        if isinstance(self.state, Ended):
            return
        try:
            await self.hand_over(reason)
        except (AriError, CallGone):
            if not isinstance(self.state, Ended):
                self._hung_up(CallGone())

    def _hung_up(self, gone: CallGone) -> None:
        if isinstance(self.state, Ended):
            return
        if gone.cause_txt == "lost":
            ended = self.state.lost(now())
        else:
            ended = self.state.hung_up(now(), gone.cause, gone.cause_txt)
        self.finish(ended)
        self.step("caller_hung_up" if ended.by == "caller" else "call_lost")

    def finish(self, ended: Ended) -> None:
        self.state = ended
        if self.info.kind == "inbound":
            self.record(
                CallEnded(
                    call_id=self.info.call_id,
                    at=ended.at,
                    cause=ended.cause,
                    cause_txt=ended.cause_txt,
                    ended_by=ended.by,
                )
            )
        self.publish(ev.CallEnded(call_id=self.info.call_id, by=ended.by, cause=ended.cause))
        self.log.info("call ended by %s (cause %s)", ended.by, ended.cause)

    # --- end events ------------------------------------------------------------------

    async def _await_stasis_end(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                item = await asyncio.wait_for(self._inbox.get(), left)
            except TimeoutError:
                break
            if item is VANISHED:
                return
            if isinstance(item, Request):
                item.refuse("the call is leaving")
            if isinstance(item, StasisEnd | ChannelDestroyed) and self._mine(item):
                return

    async def _await_end(self, seconds: float, first: Message | None = None) -> CallGone:
        """Collect the hang-up cause. Asterisk sends ChannelHangupRequest (with the cause)
        then StasisEnd; ChannelDestroyed only sometimes. Either end event closes it."""
        cause: int | None = None
        item: Message | None = first
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            if item is VANISHED:
                return CallGone(None, "lost")
            if isinstance(item, _END_EVENTS) and not self._mine(item):
                item = None  # another leg's; the customer's end is what counts here
            if isinstance(item, ChannelDestroyed):
                return CallGone(item.cause, item.cause_txt)
            if isinstance(item, ChannelHangupRequest):
                # A caller's BYE comes as a hang-up request with no cause; chan_pjsip clears
                # such a channel with cause 16 (normal clearing), which ARI never reports.
                cause = item.cause if item.cause is not None else NORMAL_CLEARING
            if isinstance(item, StasisEnd):
                return CallGone(cause, Q850.get(cause) if cause is not None else None)
            left = deadline - loop.time()
            if left <= 0:
                return CallGone(cause, Q850.get(cause) if cause is not None else None)
            try:
                item = await asyncio.wait_for(self._inbox.get(), left)
            except TimeoutError:
                item = None

    def _mine(self, event: StasisEnd | ChannelHangupRequest | ChannelDestroyed) -> bool:
        return event.channel.id == self.channel

    # --- records and events ----------------------------------------------------------

    def record(self, op: Op) -> None:
        self._record(op)

    def publish(self, event: ev.DomainEvent) -> None:
        self._publish(event)

    def step(self, kind: str, *, actor: str = "system", **detail: object) -> None:
        """One entry on the case's timeline."""
        self._record(
            CaseStep(case_id=self.info.case_id, at=now(), actor=actor, kind=kind, detail=detail)
        )
