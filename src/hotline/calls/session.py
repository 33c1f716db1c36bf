"""One call's task: answer, greet, identify, open the case, hold, hand over.

The session owns its inbox; the switchboard only delivers events to it. It never waits
on PostgreSQL (records go through the recorder) and never lets a failure strand the
caller: anything unexpected sends the call to the dialplan's fallback ring group.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from hotline.ari import AriClient, AriError, NotFound
from hotline.ari.events import (
    ChannelDestroyed,
    ChannelHangupRequest,
    Event,
    PlaybackFinished,
    StasisEnd,
)
from hotline.calls.queueing import Legs, route
from hotline.calls.signals import (
    HAND_OVER,
    VANISHED,
    CallGone,
    HandOverRequested,
    Signal,
    Transfer,
    TransferRefused,
    TransferStep,
)
from hotline.calls.state import Arriving, CallState, Ended, Greeting, Holding, LiveState
from hotline.db.records import (
    CallAnswered,
    CallEnded,
    CallIdentified,
    CallStarted,
    CaseOpened,
    CaseStep,
    Op,
)
from hotline.identify import UNVERIFIED, Identity
from hotline.routing.desk import Desk, OfferSignal

log = logging.getLogger(__name__)

FALLBACK = ("hotline-fallback", "s", 1)
_INTAKE_CLASS = {"terminal": "emergency", "lifehelp": "life_help"}
_END_EVENTS = (StasisEnd, ChannelHangupRequest, ChannelDestroyed)
NORMAL_CLEARING = 16
Q850 = {
    16: "Normal Clearing",
    17: "User busy",
    18: "No user responding",
    19: "No answer",
    21: "Call Rejected",
    31: "Normal, unspecified",
    34: "No circuit/channel available",
    127: "Interworking, unspecified",
}


def now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class CallInfo:
    """What the switchboard knows of a call when it starts or adopts it. No names."""

    call_id: uuid.UUID
    case_id: uuid.UUID
    linkedid: str
    channel_id: str
    entry: str
    caller_number: str | None
    started_at: dt.datetime


@dataclass(frozen=True)
class Policy:
    greeting: Sequence[str]
    greeting_timeout: float = 60.0
    identify_timeout: float = 2.0
    app: str = "hotline"
    after_hours_prompt: Sequence[str] = ("sound:vm-isunavail", "sound:vm-press", "digits:1")
    callback_digit: str = "1"
    callback_wait_s: float = 6.0


Request = OfferSignal | Transfer | TransferStep  # what the desk and the API send a call


class CallSession:
    def __init__(
        self,
        info: CallInfo,
        *,
        ari: AriClient,
        record: Callable[[Op], None],
        identify: Callable[[str | None], Awaitable[Identity]],
        policy: Policy,
        state: LiveState | None = None,
        desk: Desk,
        legs: Legs | None = None,
    ) -> None:
        self.info = info
        self.desk = desk
        self.legs = legs
        self.talking = False  # bridged with an operator or an outside party
        self.state: CallState = state or Arriving(info.started_at)
        self._resumed = state is not None
        self._ari = ari
        self._record = record
        self._identify = identify
        self._policy = policy
        self._inbox: asyncio.Queue[Event | Signal | Request] = asyncio.Queue()
        self.log = logging.LoggerAdapter(
            log, {"call": str(info.call_id), "channel": info.channel_id}
        )

    def deliver(self, event: Event) -> None:
        self._inbox.put_nowait(event)

    def signal(self, signal: object) -> None:
        assert isinstance(signal, Signal | OfferSignal | Transfer | TransferStep)
        self._inbox.put_nowait(signal)

    @property
    def ari(self) -> AriClient:
        return self._ari

    @property
    def policy(self) -> Policy:
        return self._policy

    def record(self, op: Op) -> None:
        self._record(op)

    async def run(self) -> None:
        try:
            if self._resumed:
                await self._resume()
            else:
                await self._intake()
            await route(self, self.desk)
        except CallGone as gone:
            self._hung_up(gone)
        except HandOverRequested:
            await self._rescue("service_shutdown")
        except NotFound:
            self._hung_up(await self._await_end(0.5))
        except AriError as err:
            self.log.warning("call flow: ARI %s on %s; sending to fallback", err.status, err.path)
            await self._rescue("error")
        except Exception:
            self.log.exception("call flow failed; sending to fallback")
            await self._rescue("error")

    # --- the steps -------------------------------------------------------------------

    async def _intake(self) -> None:
        info = self.info
        self._record_start()
        await self._ari.answer(info.channel_id)
        assert isinstance(self.state, Arriving)
        self.state = self.state.answered(now())
        self._record(CallAnswered(call_id=info.call_id, at=self.state.answered_at))
        if not self._policy.greeting:  # no greeting configured: straight to the queue
            await self._open_case()
            self.state = self.state.greeted(now())
            return
        playback_id = f"greet-{uuid.uuid4().hex}"
        await self._ari.play(info.channel_id, list(self._policy.greeting), playback_id)
        await self._open_case()
        await self._until_playback_done(playback_id)
        self.state = self.state.greeted(now())
        self.step("greeted")

    async def _resume(self) -> None:
        info = self.info
        self._record_start()
        if isinstance(self.state, Arriving):
            await self._ari.answer(info.channel_id)
            self.state = self.state.answered(now()).greeted(now())
            self._record(CallAnswered(call_id=info.call_id, at=self.state.answered_at))
        await self._open_case()
        self.step("resumed", reason="service_restart")

    def _record_start(self) -> None:
        """The call row; again on adoption after a restart (idempotent)."""
        info = self.info
        self._record(
            CallStarted(
                call_id=info.call_id,
                linkedid=info.linkedid,
                channel_id=info.channel_id,
                entry=info.entry,
                caller_number=info.caller_number,
                at=info.started_at,
            )
        )

    async def _open_case(self) -> None:
        info = self.info
        identity = await self._who()
        self._record(
            CallIdentified(
                call_id=info.call_id,
                caller_kind=identity.caller_kind,
                elder_id=identity.elder_id,
                contact_id=identity.contact_id,
            )
        )
        self._record(
            CaseOpened(
                case_id=info.case_id,
                call_id=info.call_id,
                at=info.started_at,
                channel=info.entry,
                case_class=_INTAKE_CLASS.get(info.entry),
                elder_id=identity.elder_id,
                identified=identity.identified,
            )
        )
        self.step(
            "call_received",
            call_id=str(info.call_id),
            entry=info.entry,
            caller_kind=identity.caller_kind,
            candidates=list(identity.candidates),
        )
        self.log.info("call identified as %s", identity.caller_kind)

    async def _who(self) -> Identity:
        try:
            return await asyncio.wait_for(
                self._identify(self.info.caller_number), self._policy.identify_timeout
            )
        except (TimeoutError, OSError) as err:
            self.log.warning("directory unavailable (%s); caller unverified", type(err).__name__)
        except Exception as err:  # a directory failure must never stop the call
            self.log.warning("directory look-up failed (%s); caller unverified", type(err).__name__)
        return UNVERIFIED

    async def hand_over(self, reason: str) -> None:
        """Send the caller to the dialplan's fallback ring group (a human)."""
        context, exten, priority = FALLBACK
        await self._ari.continue_in_dialplan(
            self.info.channel_id, context=context, extension=exten, priority=priority
        )
        try:
            await self._await_stasis_end(5.0)
        finally:
            self.finish(Ended(now(), "fallback"))
            self.step("handed_to_fallback", reason=reason)

    async def _rescue(self, reason: str) -> None:
        if isinstance(self.state, Ended):
            return
        try:
            await self.hand_over(reason)
        except (AriError, CallGone):
            if not isinstance(self.state, Ended):
                self._hung_up(CallGone())

    # --- events ----------------------------------------------------------------------

    async def next_event(self, seconds: float | None) -> Event | Request | None:
        """The next event or offer, or None on timeout. Raises CallGone when the caller's
        channel is ending; end events of other legs (operators) are returned."""
        try:
            event = await asyncio.wait_for(self._inbox.get(), seconds)
        except TimeoutError:
            return None
        if event is VANISHED:
            raise CallGone(None, "lost")
        if event is HAND_OVER:
            raise HandOverRequested
        if isinstance(event, Signal):
            return None
        if isinstance(event, Transfer | TransferStep) and not self.talking:
            event.done.set_exception(TransferRefused("the call is not connected to anyone"))
            return None
        if isinstance(event, _END_EVENTS) and event.channel.id == self.info.channel_id:
            raise await self._await_end(0.5, first=event)
        return event

    async def until_played(self, playback_id: str, seconds: float) -> bool:
        """Wait for the end of a playback; False if it did not end in ``seconds``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            event = await self.next_event(left)
            if isinstance(event, PlaybackFinished) and event.playback.id == playback_id:
                return True
        return False

    async def _until_playback_done(self, playback_id: str) -> None:
        if not await self.until_played(playback_id, self._policy.greeting_timeout):
            self.log.warning("greeting did not finish in time; carrying on")

    async def _await_stasis_end(self, seconds: float) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while (left := deadline - loop.time()) > 0:
            try:
                event = await asyncio.wait_for(self._inbox.get(), left)
            except TimeoutError:
                break
            if event is VANISHED:
                return
            if isinstance(event, StasisEnd | ChannelDestroyed) and self._mine(event):
                return

    async def _await_end(self, seconds: float, first: Event | None = None) -> CallGone:
        """Collect the hang-up cause. Asterisk sends ChannelHangupRequest (with the cause)
        then StasisEnd; ChannelDestroyed only sometimes. Either end event closes it."""
        cause: int | None = None
        event: Event | Signal | Request | None = first
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        while True:
            if event is VANISHED:
                return CallGone(None, "lost")
            if isinstance(event, _END_EVENTS) and not self._mine(event):
                event = None  # an operator leg's; the caller's end is what counts here
            if isinstance(event, ChannelDestroyed):
                return CallGone(event.cause, event.cause_txt)
            if isinstance(event, ChannelHangupRequest):
                # A caller's BYE comes as a hang-up request with no cause; chan_pjsip clears
                # such a channel with cause 16 (normal clearing), which ARI never reports.
                cause = event.cause if event.cause is not None else NORMAL_CLEARING
            if isinstance(event, StasisEnd):
                return CallGone(cause, Q850.get(cause) if cause is not None else None)
            left = deadline - loop.time()
            if left <= 0:
                return CallGone(cause, Q850.get(cause) if cause is not None else None)
            try:
                event = await asyncio.wait_for(self._inbox.get(), left)
            except TimeoutError:
                event = None

    def _mine(self, event: StasisEnd | ChannelHangupRequest | ChannelDestroyed) -> bool:
        return event.channel.id == self.info.channel_id

    # --- records ---------------------------------------------------------------------

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
        self._record(
            CallEnded(
                call_id=self.info.call_id,
                at=ended.at,
                cause=ended.cause,
                cause_txt=ended.cause_txt,
                ended_by=ended.by,
            )
        )
        self.log.info("call ended by %s (cause %s)", ended.by, ended.cause)

    def step(self, kind: str, **detail: object) -> None:
        self._record(CaseStep(case_id=self.info.case_id, at=now(), kind=kind, detail=detail))


__all__ = ["CallInfo", "CallSession", "Greeting", "Holding", "Policy"]
