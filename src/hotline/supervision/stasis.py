"""One supervision on the Asterisk side: the snoop channel on the operator's leg, the
supervisor's softphone rung into our Stasis app, and a small mixing bridge joining the two.

One task per supervision (owned by hotline.supervision.service). Its inbox receives the ARI
events of its own channels (routed by the switchboard's `watch`) and the API's requests.
Everything of it ends together, whatever ends it: the supervisor hanging up, the operator's
leg going (the snoop channel then hangs up by itself: the call ended, or the operator left
it), a stop, a failure, or the service stopping. No channel or bridge of it is left behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Literal, Protocol

from hotline.ari import AllocationFailed, AriClient, AriError, NotFound
from hotline.ari.events import StasisStart
from hotline.calls import legs
from hotline.calls.messages import VANISHED, Refused, Request
from hotline.calls.ports import Publish
from hotline.core import events as ev
from hotline.supervision.modes import Mode, needs_new_snoop, snoop_args
from hotline.supervision.requests import ChangeMode, Stop

log = logging.getLogger(__name__)

PURPOSE = "supervision"  # the Stasis argument of its channels
STASIS_WAIT_S = 5.0  # a new snoop channel enters our app at once
Status = Literal["ringing", "on", "ended"]


class Watcher(Protocol):
    def deliver(self, item: object) -> None: ...


class Channels(Protocol):
    """The switchboard's routing of our own channels' events (calls.switchboard)."""

    def watch(self, channel_id: str, watcher: Watcher) -> None: ...

    def unwatch(self, channel_id: str) -> None: ...


@dataclass(frozen=True)
class Target:
    """Who supervises whom on which call, and where to ring the supervisor."""

    supervision_id: uuid.UUID
    call_id: uuid.UUID
    operator_id: int
    operator_leg: str  # the operator's channel in the call (what is snooped on)
    supervisor_id: int
    endpoint: str  # the supervisor's softphone, "PJSIP/<endpoint>"


class Supervision:
    def __init__(
        self,
        target: Target,
        mode: Mode,
        *,
        ari: AriClient,
        app: str,
        channels: Channels,
        publish: Publish,
        ring_s: int = 30,
    ) -> None:
        self.target = target
        self.mode: Mode = mode
        self.status: Status = "ringing"
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.ready.add_done_callback(_retrieved)  # nobody may be waiting any more
        self._ari = ari
        self._app = app
        self._channels = channels
        self._publish = publish
        self._ring_s = ring_s
        self._inbox: asyncio.Queue[object] = asyncio.Queue()
        self._later: deque[object] = deque()  # set aside while waiting for a snoop
        self._leg = legs.supervision_leg_id()
        self._snoop: str | None = None
        self._bridge = f"{legs.BRIDGE_PREFIX}{uuid.uuid4().hex}"
        self._mine: set[str] = set()  # every channel made (or being made), for the teardown
        self._stops: list[Request] = []
        self.log = logging.LoggerAdapter(
            log, {"supervision": str(target.supervision_id), "call": str(target.call_id)}
        )

    def deliver(self, item: object) -> None:
        """An ARI event of one of its channels, a signal, or a request from the API."""
        self._inbox.put_nowait(item)

    # --- the task --------------------------------------------------------------------

    async def run(self) -> None:
        reason = "failed"
        try:
            reason = await self._supervise()
        except asyncio.CancelledError:
            reason = "shutdown"
            raise
        except Refused as err:
            self._not_ready(str(err))
        except AriError as err:
            self.log.warning("supervision: ARI %s on %s", err.status, err.path)
        except Exception:
            self.log.exception("supervision failed")
        finally:
            self.status = "ended"
            self._not_ready("the supervision could not start")
            await self._teardown()
            self._publish(ev.SupervisionEnded(**self._ids(), reason=reason))
            self.log.info("supervision ended (%s)", reason)
            for stop in self._stops:
                stop.answer("ended")
            for item in [*self._later, *_drain(self._inbox)]:
                if isinstance(item, Stop):
                    item.answer("ended")
                elif isinstance(item, Request):
                    item.refuse("the supervision has ended")

    async def _supervise(self) -> str:
        await self._ari.create_bridge(
            self._bridge, type="mixing", name=f"supervision:{self.target.supervision_id.hex}"
        )
        self._snoop = await self._new_snoop(self.mode)
        await self._ring()
        self.ready.set_result(None)
        while True:
            item = self._later.popleft() if self._later else await self._inbox.get()
            if item is VANISHED:
                return "lost"
            channel = _channel_of(item)
            if isinstance(item, StasisStart) and channel == self._leg:
                await self._ari.add_channel(self._bridge, self._leg)
                self.status = "on"
                self._publish(ev.SupervisionStarted(**self._ids()))
                self.log.info("supervisor %d on (%s)", self.target.supervisor_id, self.mode)
            elif isinstance(item, legs.LEG_END) and channel == self._leg:
                return "supervisor_hung_up" if self.status == "on" else "not_answered"
            elif isinstance(item, legs.LEG_END) and channel == self._snoop:
                return "call_ended"  # the operator's leg has gone
            elif isinstance(item, Stop):
                self._stops.append(item)
                return "stopped"
            elif isinstance(item, ChangeMode):
                await self._change(item)
            elif isinstance(item, Request):
                item.refuse("a supervision cannot do that")

    def _not_ready(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(Refused(why))

    def _ids(self) -> dict[str, object]:
        t = self.target
        return {
            "supervision_id": t.supervision_id,
            "call_id": t.call_id,
            "operator_id": t.operator_id,
            "supervisor_id": t.supervisor_id,
            "mode": self.mode,
        }

    # --- the channels ----------------------------------------------------------------

    async def _ring(self) -> None:
        """Ring the supervisor's softphone into our app; it joins the bridge on answer."""
        self._watch(self._leg)
        try:
            await self._ari.originate(
                self.target.endpoint,
                app=self._app,
                app_args=PURPOSE,
                channel_id=self._leg,
                caller_id=f'"supervision" <{self.target.operator_id}>',  # ids only
                timeout=self._ring_s,
            )
        except AllocationFailed:
            raise Refused("the supervisor's softphone is not reachable") from None

    async def _new_snoop(self, mode: Mode) -> str:
        """A snoop channel on the operator's leg for `mode`, in the bridge."""
        snoop = legs.supervision_leg_id()
        self._watch(snoop)
        args = snoop_args(mode)
        try:
            await self._ari.snoop(
                self.target.operator_leg,
                app=self._app,
                spy=args.spy,
                whisper=args.whisper,
                app_args=PURPOSE,
                snoop_id=snoop,
            )
        except NotFound:
            raise Refused("the operator's call has ended") from None
        if not await self._in_stasis(snoop):
            raise Refused("the operator's call has ended")
        await self._ari.add_channel(self._bridge, snoop)
        return snoop

    async def _in_stasis(self, channel_id: str) -> bool:
        """Wait for the channel's StasisStart (True) or its end (False); whatever else
        comes meanwhile is handled after."""
        try:
            async with asyncio.timeout(STASIS_WAIT_S):
                return await self._until_in_stasis(channel_id)
        except TimeoutError:
            return False

    async def _until_in_stasis(self, channel_id: str) -> bool:
        while True:
            item = await self._inbox.get()
            if _channel_of(item) == channel_id:
                if isinstance(item, StasisStart):
                    return True
                if isinstance(item, legs.LEG_END):
                    return False
                continue
            self._later.append(item)
            if item is VANISHED:
                return False

    async def _change(self, req: ChangeMode) -> None:
        if needs_new_snoop(self.mode, req.mode):
            try:
                snoop = await self._new_snoop(req.mode)
            except Refused as err:
                req.refuse(str(err))  # the old snoop's end follows: the supervision ends
                return
            old, self._snoop = self._snoop, snoop
            if old is not None:
                await self._drop(old)
        changed = req.mode != self.mode
        self.mode = req.mode
        req.answer(self.mode)
        if changed:
            self._publish(ev.SupervisionModeChanged(**self._ids()))
            self.log.info("supervision mode %s", self.mode)

    def _watch(self, channel_id: str) -> None:
        self._mine.add(channel_id)
        self._channels.watch(channel_id, self)

    async def _drop(self, channel_id: str) -> None:
        self._channels.unwatch(channel_id)
        self._mine.discard(channel_id)
        with contextlib.suppress(AriError):  # already gone
            await self._ari.hangup(channel_id)

    async def _teardown(self) -> None:
        """Hang up every channel of the supervision and destroy its bridge; the operator's
        call itself is never touched."""
        for channel_id in sorted(self._mine, key=lambda c: c != self._snoop):
            await self._drop(channel_id)
        with contextlib.suppress(AriError):
            await self._ari.destroy_bridge(self._bridge)


def _channel_of(item: object) -> str | None:
    channel = getattr(item, "channel", None)
    channel_id = getattr(channel, "id", None)
    return channel_id if isinstance(channel_id, str) else None


def _drain(queue: asyncio.Queue[object]) -> list[object]:
    items: list[object] = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


def _retrieved(future: asyncio.Future[None]) -> None:
    if not future.cancelled():
        future.exception()
