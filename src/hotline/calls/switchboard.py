"""The switchboard: routes ARI events to call sessions and owns their tasks.

On every (re)connect of the events socket it reconciles with Asterisk: calls parked in
Stasis while nobody listened are adopted, calls whose channel vanished are ended, and
bridges of ours left with no call are destroyed.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable

from hotline.ari import AriClient, AriError, StreamConnected, StreamDisconnected
from hotline.ari.events import (
    ApplicationReplaced,
    EndpointStateChange,
    Event,
    PlaybackFinished,
    StasisStart,
)
from hotline.ari.models import Channel
from hotline.calls.connected import LEG_PREFIX
from hotline.calls.session import CallInfo, CallSession, Policy, now
from hotline.calls.signals import HAND_OVER, VANISHED, Transfer, TransferRefused, TransferStep
from hotline.calls.state import LiveState, resumed
from hotline.db.records import Op, call_id_for, intake_case_id_for
from hotline.identify import Identity
from hotline.phone import try_normalise
from hotline.routing.desk import Desk

log = logging.getLogger(__name__)

BRIDGE_PREFIX = "hotline-"
ENTRIES = frozenset({"hotline", "lifehelp", "terminal"})


class AppTakenOver(Exception):
    """Another process subscribed to our Stasis app (ApplicationReplaced)."""


class Switchboard:
    def __init__(
        self,
        *,
        ari: AriClient,
        app: str,
        record: Callable[[Op], None],
        identify: Callable[[str | None], Awaitable[Identity]],
        policy: Policy,
        desk: Desk,
        on_connect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._desk = desk
        self._on_connect = on_connect
        self._ari = ari
        self._app = app
        self._record = record
        self._identify = identify
        self._policy = policy
        self._calls: dict[str, CallSession] = {}  # by linkedid
        self._channels: dict[str, str] = {}  # channel id -> linkedid
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self.connected = False  # events socket up and reconciled
        self._recent: dict[int, None] = {}  # insertion-ordered: the oldest goes first

    @property
    def live(self) -> int:
        return len(self._calls)

    async def handle(self, item: Event | StreamConnected | StreamDisconnected) -> None:
        if isinstance(item, Event) and self._seen(item):
            return  # the endpoint subscription repeats every channel event once
        if log.isEnabledFor(logging.DEBUG):
            log.debug("event %s %s", type(item).__name__, getattr(item, "cause", ""))
        match item:
            case StreamConnected():
                if self._on_connect is not None:
                    await self._on_connect()
                await self.reconcile()
                self.connected = True
            case StreamDisconnected():
                self.connected = False  # the stream logs the outage; calls go on in Asterisk
            case StasisStart():
                if item.channel.id in self._channels:
                    self._deliver(item.channel.id, item)  # an operator leg answered
                elif item.channel.id.startswith(LEG_PREFIX):
                    await self._hang_up_orphan(item.channel.id)  # its call is gone
                else:
                    self._start(item.channel, _entry(item.args), adopt=False)
            case EndpointStateChange():
                if item.endpoint.technology == "PJSIP":
                    self._desk.endpoint_state(
                        item.endpoint.resource, item.endpoint.state == "online"
                    )
            case ApplicationReplaced():
                raise AppTakenOver(self._app)
            case PlaybackFinished():
                target = item.playback.target_uri.removeprefix("channel:")
                self._deliver(target, item)
            case _:
                channel = getattr(item, "channel", None)
                if isinstance(channel, Channel):
                    self._deliver(channel.id, item)

    def _seen(self, event: Event) -> bool:
        """True for an event already handled: the very same event, byte for byte."""
        key = hash(event.model_dump_json())
        if key in self._recent:
            return True
        self._recent[key] = None
        if len(self._recent) > 512:
            del self._recent[next(iter(self._recent))]
        return False

    def attach(self, channel_id: str, linkedid: str) -> None:
        """Route another leg's events (an operator's) to the call ``linkedid``."""
        self._channels[channel_id] = linkedid

    def detach(self, channel_id: str) -> None:
        self._channels.pop(channel_id, None)

    async def _hang_up_orphan(self, channel_id: str) -> None:
        with contextlib.suppress(AriError):
            await self._ari.hangup(channel_id)

    def _deliver(self, channel_id: str, event: Event) -> None:
        linkedid = self._channels.get(channel_id)
        if linkedid is not None:
            self._calls[linkedid].deliver(event)

    def _start(self, channel: Channel, entry: str, *, adopt: bool) -> None:
        linkedid = getattr(channel, "linkedid", None) or channel.id
        if linkedid in self._calls:
            return
        call_id = call_id_for(linkedid)
        started_at = _created(channel)
        info = CallInfo(
            call_id=call_id,
            case_id=intake_case_id_for(call_id),
            linkedid=linkedid,
            channel_id=channel.id,
            entry=entry,
            caller_number=try_normalise(channel.caller.number),
            started_at=started_at,
        )
        state: LiveState | None = None
        if adopt:
            state = resumed(started_at, channel.state == "Up", now())
        session = CallSession(
            info,
            ari=self._ari,
            record=self._record,
            identify=self._identify,
            policy=self._policy,
            state=state,
            desk=self._desk,
            legs=self,
        )
        self._calls[linkedid] = session
        self._channels[channel.id] = linkedid
        task = asyncio.create_task(session.run(), name=f"call-{call_id}")
        self._tasks[linkedid] = task
        task.add_done_callback(lambda t: self._finished(linkedid, t))

    def _finished(self, linkedid: str, task: asyncio.Task[None]) -> None:
        self._calls.pop(linkedid, None)
        for channel_id in [c for c, key in self._channels.items() if key == linkedid]:
            del self._channels[channel_id]
        self._tasks.pop(linkedid, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("call task %s died: %r", task.get_name(), task.exception())

    async def reconcile(self) -> None:
        """Bring our view in line with Asterisk's after a (re)connect."""
        try:
            app = await self._ari.get_application(self._app)
            channels = {c.id: c for c in await self._ari.list_channels()}
            bridges = await self._ari.list_bridges()
        except AriError as err:
            log.error("reconcile: cannot read Asterisk's state (%s)", err.status)
            return
        # Our bridges that no call we already run is using (after a crash: all of them)
        # go first, so that an adopted caller is not left inside a dead conversation.
        known = set(self._channels)
        stale = [
            b.id
            for b in bridges
            if b.id.startswith(BRIDGE_PREFIX) and not known.intersection(b.channels)
        ]
        for bridge_id in stale:
            try:
                await self._ari.destroy_bridge(bridge_id)
            except AriError:
                log.warning("reconcile: could not destroy stale bridge %s", bridge_id)
        ours = set(app.channel_ids) | {
            c.id for c in channels.values() if _stasis_entry(c, self._app) is not None
        }
        adopted = 0
        for channel_id in sorted(ours - known):
            channel = channels.get(channel_id)
            if channel is None:
                continue
            if channel_id.startswith(LEG_PREFIX):
                await self._hang_up_orphan(channel_id)  # its caller is adopted and re-queued
                continue
            self._start(channel, _stasis_entry(channel, self._app) or "hotline", adopt=True)
            adopted += 1
        lost = [
            cid
            for cid in known
            if cid not in channels
            and cid in self._channels  # its call may have ended while we were busy here
            and self._calls[self._channels[cid]].info.channel_id == cid
        ]
        for channel_id in lost:
            self._calls[self._channels[channel_id]].signal(VANISHED)
        await self._reconcile_endpoints()
        log.info(
            "reconciled: %d calls live, %d adopted, %d lost, %d stale bridges removed",
            len(self._calls),
            adopted,
            len(lost),
            len(stale),
        )

    async def _reconcile_endpoints(self) -> None:
        """Follow the operators' softphones: subscribe to PJSIP endpoints, read their states."""
        try:
            await self._ari.subscribe(self._app, "endpoint:PJSIP")
            endpoints = await self._ari.list_endpoints()
        except AriError as err:
            log.error("reconcile: cannot read endpoint states (%s)", err.status)
            return
        self._desk.endpoint_states(
            {e.resource for e in endpoints if e.technology == "PJSIP" and e.state == "online"}
        )

    async def request(self, call_id: uuid.UUID, request: Transfer | TransferStep) -> str:
        """Hand a transfer request to the call's task and wait for its answer."""
        session = next((s for s in self._calls.values() if s.info.call_id == call_id), None)
        if session is None:
            raise TransferRefused("no such call in progress")
        session.signal(request)
        try:
            return await asyncio.wait_for(asyncio.shield(request.done), 45)
        except TimeoutError:
            raise TransferRefused("the call did not answer the request in time") from None

    async def shutdown(self, *, hand_over: bool, grace: float = 8.0) -> None:
        """Stop every call task; with hand_over, each caller goes to the fallback ring first."""
        tasks = list(self._tasks.values())
        if hand_over and tasks:
            log.info("shutdown: handing %d calls to the fallback ring group", len(tasks))
            for session in self._calls.values():
                session.signal(HAND_OVER)
            await asyncio.wait(tasks, timeout=grace)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)


def _entry(args: list[str]) -> str:
    entry = args[0] if args else ""
    return entry if entry in ENTRIES else "hotline"


def _stasis_entry(channel: Channel, app: str) -> str | None:
    """The entry point of a channel parked in our Stasis app, read from its dialplan."""
    dialplan = channel.dialplan
    if dialplan is None or dialplan.app_name != "Stasis":
        return None
    name, _, args = dialplan.app_data.partition(",")
    if name != app:
        return None
    return _entry(args.split(","))


def _created(channel: Channel) -> dt.datetime:
    created = channel.creationtime
    if isinstance(created, dt.datetime):
        return created.astimezone(dt.UTC)
    try:
        return dt.datetime.strptime(str(created), "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(dt.UTC)
    except ValueError:
        return now()
