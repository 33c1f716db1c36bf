"""The switchboard: routes ARI events to calls and owns their tasks.

On every (re)connect of the events socket it reconciles with Asterisk: callers parked in
Stasis while nobody listened are adopted, conversations still bridged (a caller with an
operator) are adopted as they are, calls whose channel vanished are ended, and bridges and
legs of ours that no call can use any more are removed.

An emergency conference is adopted with whoever is still on it: the elder's own call may be
gone (the phase handler then calls the elder back), and legs of it outside its bridge (an
operator stepped out, a party ringing or hearing its briefing) are found by the call's id
each carries (`CALL_VARIABLE`) instead of being hung up as orphans.

A part of the service with channels of its own beside the calls' (a supervisor listening in)
has their events routed to it with `watch`; a watched channel gone at a reconciliation is
reported to it as VANISHED.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from typing import Protocol

from hotline.ari import AriClient, AriError, StreamConnected, StreamDisconnected
from hotline.ari.events import (
    ApplicationReplaced,
    ChannelDestroyed,
    ChannelDtmfReceived,
    ChannelHangupRequest,
    EndpointStateChange,
    Event,
    PlaybackFinished,
    StasisEnd,
    StasisStart,
)
from hotline.ari.models import Bridge, Channel
from hotline.calls import legs
from hotline.calls.messages import HAND_OVER, VANISHED, Refused, Request
from hotline.calls.phases import Arriving, Conference, Greeting, LiveState, Party, Talking
from hotline.calls.ports import CallbackDesk, Publish, Record, Seats
from hotline.calls.session import Call, CallInfo, Phase, Policy, now
from hotline.core.ids import call_id_for, intake_case_id_for
from hotline.core.phone import try_normalise
from hotline.core.words import ENTRIES

log = logging.getLogger(__name__)


# The events the service acts on; Asterisk is asked to send no others (a call's channel
# also has its variables set, its state changed, playbacks started, dialplan steps taken:
# about as many events again, each a frame to read and parse). A handler that needs one
# more kind of event adds it here.
EVENTS = (
    StasisStart,
    StasisEnd,
    ChannelHangupRequest,
    ChannelDestroyed,
    ChannelDtmfReceived,
    PlaybackFinished,
    EndpointStateChange,
    ApplicationReplaced,
)


CALL_VARIABLE = "HOTLINE_CALL"
"""A channel variable a feature sets on a leg of ours that may be outside its call's bridge
when the service restarts (an operator stepped out of a conference, a party still ringing):
the call's id (hex). Reconciliation adopts such a leg with the call's bridge."""


class AppTakenOver(Exception):
    """Another process subscribed to our Stasis app (ApplicationReplaced)."""


class Endpoints(Protocol):
    """Who learns of softphones going on- and offline (the desk)."""

    def endpoint_state(self, endpoint: str, online: bool) -> None: ...

    def endpoint_states(self, online: set[str]) -> None: ...


class Watcher(Protocol):
    """Something other than a call that follows channels of ours (a supervision)."""

    def deliver(self, item: object) -> None: ...


class Switchboard:
    def __init__(
        self,
        *,
        ari: AriClient,
        app: str,
        record: Record,
        publish: Publish,
        policy: Policy,
        phases: Mapping[type, Phase],
        endpoints: Endpoints,
        seats: Seats,
        callbacks: CallbackDesk | None = None,
        on_connect: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self._ari = ari
        self._app = app
        self._record = record
        self._publish = publish
        self._policy = policy
        self._phases = phases
        self._endpoints = endpoints
        self._seats = seats
        self._callbacks = callbacks
        self._on_connect = on_connect
        self._calls: dict[str, Call] = {}  # by key
        self._channels: dict[str, str] = {}  # channel id -> key
        self._legs: dict[str, set[str]] = {}  # key -> its channel ids (the reverse of _channels)
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._done: dict[str, Callable[[Call], None]] = {}
        self._watchers: dict[str, Watcher] = {}  # channel id -> who follows it (no call)
        self.connected = False  # events socket up and reconciled

    @property
    def live(self) -> int:
        return len(self._calls)

    async def handle(self, item: Event | StreamConnected | StreamDisconnected) -> None:
        match item:
            case StreamConnected():
                if self._on_connect is not None:
                    await self._on_connect()
                await self.reconcile()
                self.connected = True
            case StreamDisconnected():
                self.connected = False  # the stream logs the outage; calls go on in Asterisk
            case StasisStart():
                if item.channel.id in self._channels or item.channel.id in self._watchers:
                    self._deliver(item.channel.id, item)  # a leg of ours answered
                elif legs.is_leg(item.channel.id):
                    await self._hang_up_orphan(item.channel.id)  # its call is gone
                else:
                    self._adopt_parked(item.channel, _entry(item.args), adopt=False)
            case EndpointStateChange():
                if item.endpoint.technology == "PJSIP":
                    self._endpoints.endpoint_state(
                        item.endpoint.resource, item.endpoint.state == "online"
                    )
            case ApplicationReplaced():
                raise AppTakenOver(self._app)
            case PlaybackFinished():
                # "channel:<id>", or "bridge:<id>" for a bridge attached as a leg
                self._deliver(item.playback.target_uri.partition(":")[2], item)
            case _:
                channel = getattr(item, "channel", None)
                if isinstance(channel, Channel):
                    self._deliver(channel.id, item)

    def attach(self, channel_id: str, key: str) -> None:
        """Route another leg's events (an operator's, a party's) to the call `key`."""
        self._route(channel_id, key)

    def detach(self, channel_id: str) -> None:
        key = self._channels.pop(channel_id, None)
        if key is not None:
            self._legs.get(key, set()).discard(channel_id)

    def _route(self, channel_id: str, key: str) -> None:
        self.detach(channel_id)
        self._channels[channel_id] = key
        self._legs.setdefault(key, set()).add(channel_id)

    def watch(self, channel_id: str, watcher: Watcher) -> None:
        """Route a channel's events to `watcher` (before the channel is made: its
        StasisStart must not be taken for a new caller's)."""
        self._watchers[channel_id] = watcher

    def unwatch(self, channel_id: str) -> None:
        self._watchers.pop(channel_id, None)

    async def _hang_up_orphan(self, channel_id: str) -> None:
        with contextlib.suppress(AriError):
            await self._ari.hangup(channel_id)

    def _deliver(self, channel_id: str, event: Event) -> None:
        key = self._channels.get(channel_id)
        if key is not None and key in self._calls:
            self._calls[key].deliver(event)
        watcher = self._watchers.get(channel_id)
        if watcher is not None:
            watcher.deliver(event)

    # --- starting calls --------------------------------------------------------------

    def _new_call(
        self,
        info: CallInfo,
        *,
        channel: str | None,
        state: LiveState,
        resumed: bool,
    ) -> Call:
        return Call(
            info,
            channel=channel,
            ari=self._ari,
            record=self._record,
            publish=self._publish,
            legs=self,
            policy=self._policy,
            phases=self._phases,
            state=state,
            callbacks=self._callbacks,
            resumed=resumed,
        )

    def start(self, call: Call, on_done: Callable[[Call], None] | None = None) -> None:
        """Run `call` in a task of its own, owned here."""
        key = call.info.key
        if key in self._calls:
            raise RuntimeError(f"a call with key {key} is running")
        self._calls[key] = call
        if call.channel is not None:
            self._route(call.channel, key)
        if on_done is not None:
            self._done[key] = on_done
        task = asyncio.create_task(call.run(), name=f"call-{call.info.call_id}")
        self._tasks[key] = task
        task.add_done_callback(lambda t: self._finished(key, t))

    def outbound(
        self,
        info: CallInfo,
        state: LiveState,
        on_done: Callable[[Call], None] | None = None,
    ) -> Call:
        """A call we place ourselves (a callback): nobody on the line until it is answered."""
        call = self._new_call(info, channel=None, state=state, resumed=False)
        self.start(call, on_done)
        return call

    def _adopt_parked(self, channel: Channel, entry: str, *, adopt: bool) -> None:
        """A caller in Stasis: a new call, or (after a restart) one we carry on."""
        key = channel.linkedid or channel.id
        if key in self._calls:
            return
        call_id = call_id_for(key)
        started_at = _created(channel)
        info = CallInfo(
            call_id=call_id,
            case_id=intake_case_id_for(call_id),
            key=key,
            entry=entry,
            number=try_normalise(channel.caller.number),
            started_at=started_at,
        )
        state: LiveState = Arriving(started_at)
        if adopt and channel.state == "Up":
            state = Greeting(started_at, started_at)
        call = self._new_call(info, channel=channel.id, state=state, resumed=adopt)
        self.start(call)

    def _adopt_talking(self, customer: Channel, party_leg: str, bridge: Bridge) -> bool:
        """A conversation left bridged by a crashed service: carry it on as it is."""
        tag = legs.BridgeTag.parse(bridge.name)
        if tag is None:
            return False
        kind = "callback" if legs.is_leg(customer.id) else "inbound"
        key = customer.id if kind == "callback" else (customer.linkedid or customer.id)
        if key in self._calls or (kind == "inbound" and call_id_for(key) != tag.call_id):
            return False
        started_at = _created(customer)
        info = CallInfo(
            call_id=tag.call_id,
            case_id=tag.case_id,
            key=key,
            entry=_stasis_entry(customer, self._app)
            or ("callback" if kind == "callback" else "hotline"),
            number=try_normalise(customer.caller.number),
            started_at=started_at,
            kind="callback" if kind == "callback" else "inbound",
        )
        operator_id = legs.operator_of(party_leg)
        party = Party(operator_id=operator_id)
        state = Talking(started_at, started_at, tag.queue, bridge.id, party_leg, party, now())
        call = self._new_call(info, channel=customer.id, state=state, resumed=True)
        call.reached_human = True
        self._route(party_leg, key)
        if operator_id is not None:
            self._seats.connected(info.call_id, operator_id)
        self.start(call)
        return True

    def _finished(self, key: str, task: asyncio.Task[None]) -> None:
        call = self._calls.pop(key, None)
        for channel_id in self._legs.pop(key, set()):
            if self._channels.get(channel_id) == key:
                del self._channels[channel_id]
        self._tasks.pop(key, None)
        on_done = self._done.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("call task %s died: %r", task.get_name(), task.exception())
        if on_done is not None and call is not None:
            try:
                on_done(call)
            except Exception:
                log.exception("after call %s", task.get_name())

    # --- reconciliation --------------------------------------------------------------

    async def reconcile(self) -> None:
        """Bring our view in line with Asterisk's after a (re)connect."""
        try:
            app = await self._ari.get_application(self._app)
            channels = {c.id: c for c in await self._ari.list_channels()}
            bridges = await self._ari.list_bridges()
        except AriError as err:
            log.error("reconcile: cannot read Asterisk's state (%s)", err.status)
            return
        known = set(self._channels) | set(self._watchers)
        ours = set(app.channel_ids) | {
            c.id for c in channels.values() if _stasis_entry(c, self._app) is not None
        }
        found = [
            b
            for b in bridges
            if b.id.startswith(legs.BRIDGE_PREFIX) and not known.intersection(b.channels)
        ]
        strays = await self._strays(found, bridges, channels, known)
        taken: set[str] = set()
        talking = stale = 0
        for bridge in found:
            tag = legs.BridgeTag.parse(bridge.name)
            outside = strays.get(tag.call_id.hex, []) if tag is not None else []
            if self._adopt_bridge(bridge, channels, ours, outside):
                taken.update(bridge.channels, (c.id for c in outside))
                talking += 1
                continue
            stale += 1
            try:  # nobody can use it: its caller (if still there) is adopted and queued again
                await self._ari.destroy_bridge(bridge.id)
            except AriError:
                log.warning("reconcile: could not destroy stale bridge %s", bridge.id)
        adopted = 0
        for channel_id in sorted(ours - known - taken):
            channel = channels.get(channel_id)
            if channel is None:
                continue
            if legs.is_leg(channel_id):
                await self._hang_up_orphan(channel_id)
                continue
            self._adopt_parked(channel, _stasis_entry(channel, self._app) or "hotline", adopt=True)
            adopted += 1
        lost = [
            cid
            for cid in known
            if cid not in channels
            and cid in self._channels  # its call may have ended while we were busy here
            and self._calls[self._channels[cid]].channel == cid
        ]
        for channel_id in lost:
            self._calls[self._channels[channel_id]].deliver(VANISHED)
        for channel_id in [c for c in self._watchers if c not in channels]:
            self._watchers.pop(channel_id).deliver(VANISHED)
        await self._reconcile_endpoints()
        log.info(
            "reconciled: %d calls live, %d adopted waiting, %d adopted talking, %d lost, "
            "%d stale bridges removed",
            len(self._calls),
            adopted,
            talking,
            len(lost),
            stale,
        )

    async def _strays(
        self,
        found: list[Bridge],
        bridges: list[Bridge],
        channels: dict[str, Channel],
        known: set[str],
    ) -> dict[str, list[Channel]]:
        """Legs of ours in no bridge that carry a call's id (CALL_VARIABLE), by that id: read
        only when a conference is to be adopted (one request per such leg)."""
        if not any(_is_conference(b) for b in found):
            return {}
        bridged = {c for b in bridges for c in b.channels}
        strays: dict[str, list[Channel]] = {}
        for channel in channels.values():
            if (
                not channel.id.startswith((legs.OPERATOR_LEG, legs.OUTSIDE_LEG))
                or channel.id in known
                or channel.id in bridged
            ):
                continue
            try:
                call = await self._ari.get_variable(channel.id, CALL_VARIABLE)
            except AriError:
                continue  # gone meanwhile
            if call:
                strays.setdefault(call, []).append(channel)
        return strays

    def _adopt_bridge(
        self,
        bridge: Bridge,
        channels: dict[str, Channel],
        ours: set[str],
        strays: list[Channel],
    ) -> bool:
        """A bridge of ours with a customer and an operator or party leg in it (or an
        emergency conference, with its legs outside the bridge): adopt it."""
        members = [channels[c] for c in bridge.channels if c in channels]
        tag = legs.BridgeTag.parse(bridge.name)
        if tag is not None and tag.kind == "emergency":
            return self._adopt_conference(tag, bridge, [*members, *strays], ours)
        if len(members) != 2 or len(bridge.channels) != 2:
            return False
        party = [c for c in members if c.id.startswith(legs.OPERATOR_LEG)]
        customer = [c for c in members if c not in party]
        if len(customer) != 1 or not party:
            return False
        if not (customer[0].id in ours or legs.is_leg(customer[0].id)):
            return False
        return self._adopt_talking(customer[0], party[0].id, bridge)

    def _adopt_conference(
        self, tag: legs.BridgeTag, bridge: Bridge, members: list[Channel], ours: set[str]
    ) -> bool:
        """An emergency conference left running by a crashed service: everyone still on it
        stays connected and the conference carries on (its phase handler rebuilds who is
        there, and calls the elder back if the elder's line went meanwhile). `members`: the
        channels in its bridge and its legs outside it."""
        customers = [c for c in members if not legs.is_leg(c.id) and c.id in ours]
        if any(call_id_for(_key(c)) != tag.call_id for c in customers):
            return False  # a caller who is not this call's elder: not our conference
        staff = [c for c in members if c.id.startswith((legs.OPERATOR_LEG, legs.OUTSIDE_LEG))]
        if not customers and not staff:
            return False  # nobody left on it
        customer = customers[0] if customers else None
        # Without the elder's own call, the call is keyed by its id (no channel has its
        # linkedid any more).
        key = _key(customer) if customer is not None else f"conference:{tag.call_id.hex}"
        if key in self._calls or self.find(tag.call_id) is not None:
            return False
        in_bridge = set(bridge.channels)
        operators = sorted(
            (c.id for c in staff if c.id.startswith(legs.OPERATOR_LEG)),
            key=lambda c: c not in in_bridge,  # the one in the conference, if several
        )
        others = tuple(c.id for c in staff if c.id not in operators)
        if customer is not None:
            entry = _stasis_entry(customer, self._app) or "terminal"
            number = try_normalise(customer.caller.number)
        else:  # what every leg we placed for the call shows (legs.shown_number)
            entry, number = _shown(staff)
        started_at = min(_created(c) for c in members)
        info = CallInfo(
            call_id=tag.call_id,
            case_id=tag.case_id,
            key=key,
            entry=entry,
            number=number,
            started_at=started_at,
        )
        operator_leg = operators[0] if operators else None
        operator_id = legs.operator_of(operator_leg) if operator_leg else None
        state = Conference(
            started_at,
            started_at,
            tag.queue,
            bridge.id,
            operator_leg,
            operator_id,
            now(),
            "adopted",
            (*operators[1:], *others),
        )
        channel = customer.id if customer is not None else None
        call = self._new_call(info, channel=channel, state=state, resumed=True)
        call.reached_human = True
        for channel_id in (*operators, *others):
            self._route(channel_id, key)
        if operator_id is not None:
            self._seats.connected(info.call_id, operator_id)
        self.start(call)
        return True

    async def _reconcile_endpoints(self) -> None:
        """Read the operators' softphones' states (the account sync subscribed the app to
        each softphone's endpoint: operators.accounts.follow)."""
        try:
            await self._ari.filter_events(self._app, [e.__name__ for e in EVENTS])
        except AriError as err:  # every event then comes: slower, not wrong
            log.warning("reconcile: events not filtered (%s)", err.status)
        try:
            endpoints = await self._ari.list_endpoints()
        except AriError as err:
            log.error("reconcile: cannot read endpoint states (%s)", err.status)
            return
        self._endpoints.endpoint_states(
            {e.resource for e in endpoints if e.technology == "PJSIP" and e.state == "online"}
        )

    # --- requests and shutdown -------------------------------------------------------

    def live_from(self, number: str, entry: str) -> Call | None:
        """The call in progress from `number` on the line `entry` (the latest), if any."""
        found = [
            c for c in self._calls.values() if c.info.number == number and c.info.entry == entry
        ]
        return max(found, key=lambda c: c.info.started_at) if found else None

    def find(self, call_id: uuid.UUID) -> Call | None:
        return next((c for c in self._calls.values() if c.info.call_id == call_id), None)

    async def request(self, call_id: uuid.UUID, request: Request, limit: float = 45.0) -> str:
        """Hand a request to the call's task and wait for its answer."""
        call = self.find(call_id)
        if call is None:
            raise Refused("no such call in progress")
        call.deliver(request)
        try:
            return await asyncio.wait_for(asyncio.shield(request.done), limit)
        except TimeoutError:
            raise Refused("the call did not answer the request in time") from None

    async def shutdown(self, *, hand_over: bool, grace: float = 8.0) -> None:
        """Stop every call task; with hand_over, each caller goes to the fallback ring first."""
        tasks = list(self._tasks.values())
        if hand_over and tasks:
            log.info("shutdown: handing %d calls to the fallback ring group", len(tasks))
            for call in self._calls.values():
                call.deliver(HAND_OVER)
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


def _key(channel: Channel) -> str:
    """A caller's call key: its linkedid (Call.info.key)."""
    return channel.linkedid or channel.id


def _is_conference(bridge: Bridge) -> bool:
    tag = legs.BridgeTag.parse(bridge.name)
    return tag is not None and tag.kind == "emergency"


def _shown(placed: list[Channel]) -> tuple[str, str | None]:
    """The entry and the caller's number a call's legs show (`"<entry>" <number>`,
    legs.shown_number); a terminal's, if they show no entry."""
    for channel in placed:
        number = try_normalise(channel.caller.number)
        if number is not None:
            name = channel.caller.name
            return (name if name in ENTRIES else "terminal"), number
    return "terminal", None


def _created(channel: Channel) -> dt.datetime:
    created = channel.creationtime
    if isinstance(created, dt.datetime):
        return created.astimezone(dt.UTC)
    try:
        return dt.datetime.strptime(str(created), "%Y-%m-%dT%H:%M:%S.%f%z").astimezone(dt.UTC)
    except ValueError:
        return now()
