"""A harness for call-flow tests: the real switchboard, phase handlers, desk and callback
scheduler, wired as hotline.service._parts wires them, fed scripted ARI events through the
fake ARI server's events WebSocket. No Asterisk, no database: the set-up is a RoutingConfig
given here, records and domain events are appended to lists.

The fake answers what the call flow asks of Asterisk the way Asterisk 22 does: an originate
returns the channel under the requested id, a new bridge and a playback are echoed back,
and reconciliation reads the channels, bridges and endpoints given to the Flow. Nothing
happens on its own: every event a call sees is sent by the test.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from hotline.ari import AriClient, AriConfig, EventStream
from hotline.callbacks.scheduler import Scheduler
from hotline.callbacks.store import Pending
from hotline.calls.session import Call, Policy
from hotline.calls.switchboard import Switchboard
from hotline.core.ids import call_id_for, intake_case_id_for
from hotline.core.records import CallQueued, CallStarted, CaseStep, Op
from hotline.core.words import Availability
from hotline.directory.identify import UNKNOWN, Identity
from hotline.emergency.briefing import Briefing
from hotline.emergency.conference import Emergencies
from hotline.emergency.plan import Facts
from hotline.emergency.plan import Settings as EmergencySettings
from hotline.flow import phase_handlers
from hotline.queues.config import LineConfig, OperatorConfig, QueueConfig, RoutingConfig
from hotline.queues.desk import Desk

from .fake_ari import PASSWORD, USER, FakeAri, Recorded

log = logging.getLogger(__name__)

APP = "hotline"
CALLER_NUMBER = "13800000000"
ASTERISK_ID = "02:fc:00:00:00:01"
TZ = ZoneInfo("Asia/Shanghai")
LIMIT = 3.0  # seconds any single wait may take before the test fails, naming what it awaited
ENTRIES = ("hotline", "lifehelp", "terminal")

T = TypeVar("T")
_RECONCILE = {
    ("GET", f"/applications/{APP}"),
    ("POST", f"/applications/{APP}/subscription"),
    ("PUT", f"/applications/{APP}/eventFilter"),
    ("GET", "/channels"),
    ("GET", "/bridges"),
    ("GET", "/endpoints"),
}


# --- set-up --------------------------------------------------------------------------


def endpoint_of(operator_id: int) -> str:
    return f"op{operator_id}"


def routing(
    *queues: QueueConfig,
    operators: Iterable[int] = (1,),
    lines: Iterable[LineConfig] | None = None,
) -> RoutingConfig:
    """Queues as given (default: "general" with every operator); every entry's line goes
    to the first queue unless `lines` are given; operator n's softphone is PJSIP/op<n>."""
    ops = tuple(operators)
    by_name = {q.name: q for q in queues} or {
        "general": QueueConfig("general", members=dict.fromkeys(ops, 0))
    }
    first = next(iter(by_name))
    line_list = list(lines) if lines is not None else [LineConfig(e, first) for e in ENTRIES]
    return RoutingConfig(
        queues=by_name,
        lines={line.entry: line for line in line_list},
        operators={op: OperatorConfig(op, endpoint_of(op)) for op in ops},
    )


def stamp(at: dt.datetime | None = None) -> str:
    """Asterisk's timestamp format."""
    at = at or dt.datetime.now(dt.UTC)
    return at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "+0000"


def channel(
    channel_id: str,
    *,
    number: str = CALLER_NUMBER,
    state: str = "Ring",
    entry: str = "hotline",
    in_stasis: bool = True,
) -> dict[str, Any]:
    """A caller's channel as Asterisk 22 shows it (fixtures/ari_events/StasisStart.json)."""
    return {
        "id": channel_id,
        "name": f"PJSIP/pstn-{abs(hash(channel_id)) % 10**8:08x}",
        "state": state,
        "protocol_id": f"{channel_id}@127.0.0.2",
        "caller": {"name": "", "number": number},
        "connected": {"name": "", "number": ""},
        "accountcode": "",
        "dialplan": {
            "context": "hotline-entry",
            "exten": entry,
            "priority": 1,
            "app_name": "Stasis" if in_stasis else "",
            "app_data": f"{APP},{entry}" if in_stasis else "",
        },
        "creationtime": stamp(),
        "language": "en",
    }


def leg_channel(leg_id: str, endpoint: str, state: str = "Up") -> dict[str, Any]:
    """A leg we originated (an operator's softphone, an outside number)."""
    return {
        "id": leg_id,
        "name": f"{endpoint.partition('@')[0]}-00000001",
        "state": state,
        "caller": {"name": "", "number": ""},
        "connected": {"name": "", "number": ""},
        "accountcode": "",
        "dialplan": {"context": "default", "exten": "s", "priority": 1},
        "creationtime": stamp(),
        "language": "en",
    }


@dataclass(frozen=True)
class Caller:
    """A caller's channel and the ids the switchboard derives from it."""

    channel: dict[str, Any]

    @property
    def id(self) -> str:
        return str(self.channel["id"])

    @property
    def call_id(self) -> uuid.UUID:
        return call_id_for(self.channel.get("linkedid") or self.id)

    @property
    def case_id(self) -> uuid.UUID:
        return intake_case_id_for(self.call_id)


def query(recorded: Recorded) -> dict[str, str]:
    return dict(recorded.query)


# --- the flow ------------------------------------------------------------------------


class Flow:
    def __init__(
        self,
        fake: FakeAri,
        config: RoutingConfig,
        *,
        availability: Mapping[int, tuple[Availability, str | None]] | None = None,
        online: Iterable[str] | None = None,
        policy: Policy | None = None,
        identity: Identity = UNKNOWN,
        pending: Sequence[Pending] = (),
        place_callbacks: bool = False,
        callback_ring_s: int = 30,
        channels: Sequence[dict[str, Any]] = (),
        bridges: Sequence[dict[str, Any]] = (),
        app_channels: Sequence[str] = (),
        survey_wait_s: float = 8.0,
    ) -> None:
        """`availability`: operators' standing states (default: all ready); `online`: the
        softphones Asterisk lists online at reconcile (default: every operator's);
        `channels`, `bridges`, `app_channels`: what Asterisk holds at (re)connect."""
        self.fake = fake
        self.config = config
        self.availability = dict(
            availability
            if availability is not None
            else {op: ("ready", None) for op in config.operators}
        )
        self.online = (
            set(online) if online is not None else {o.endpoint for o in config.operators.values()}
        )
        self.policy = policy or Policy(greeting=())
        self.identity = identity
        self.pending = list(pending)
        self.place_callbacks = place_callbacks
        self.callback_ring_s = callback_ring_s
        self.channels = list(channels)
        self.bridges = list(bridges)
        self.app_channels = list(app_channels)
        self.survey_wait_s = survey_wait_s
        self.records: list[Op] = []
        self.events: list[Any] = []  # core.events domain events, as published
        self.identified: list[str | None] = []  # numbers the directory was asked about
        self.errors: list[BaseException] = []  # raised by Switchboard.handle
        self.legs: dict[str, dict[str, Any]] = {}  # originated channels, by id
        self.identify_gate: asyncio.Event | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._last = dt.datetime.min.replace(tzinfo=dt.UTC)
        self._ari: AriClient | None = None

    # --- life --------------------------------------------------------------------

    async def start(self, limit: float = LIMIT) -> None:
        """Wire everything, connect the events socket and wait until reconciled."""
        self._install_replies()
        config = AriConfig(self.fake.base_url, USER, PASSWORD, APP, request_timeout=2.0)
        self._ari = ari = AriClient(config)
        await ari.__aenter__()
        self.desk = desk = Desk(
            load=self._load, record=self.records.append, publish=self.events.append, tz=TZ
        )
        await desk.reload()
        self.scheduler = scheduler = Scheduler(
            load=self._load_callbacks,
            record=self.records.append,
            publish=self.events.append,
            queue=desk.queue,
        )
        await scheduler.start()

        async def no_facts(elder_id: int | None) -> Facts:
            return Facts(elder_id)

        emergencies = Emergencies(desk, no_facts, Briefing(None, {}), EmergencySettings(), TZ)
        phases = phase_handlers(
            desk=desk,
            scheduler=scheduler,
            identify=self._identify,
            callback_ring_s=self.callback_ring_s,
            emergencies=emergencies,
            survey_wait_s=self.survey_wait_s,
        )
        self.board = board = Switchboard(
            ari=ari,
            app=APP,
            record=self.records.append,
            publish=self.events.append,
            policy=self.policy,
            phases=phases,
            endpoints=desk,
            seats=desk,
            callbacks=scheduler,
        )
        scheduler.bind(board.outbound)
        self._spawn(desk.run(), "flow-desk")
        stream = EventStream(config, heartbeat=5.0, backoff_initial=0.01, backoff_max=0.05)
        self._spawn(self._consume(stream), "flow-ari-events")
        await self.until(
            lambda: board.connected and len(self.fake.sockets) == 1,
            "the events socket to connect and the switchboard to reconcile",
            limit,
        )
        if self.place_callbacks:
            self._spawn(scheduler.run(), "flow-callbacks")

    async def stop(self) -> None:
        with contextlib.suppress(AttributeError):  # started: stop every call first
            await self.board.shutdown(hand_over=False, grace=2.0)
        for task in reversed(self._tasks):
            task.cancel()
        results = await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._ari is not None:
            await self._ari.close()
        for result in results:
            if isinstance(result, Exception):
                raise result

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))

    async def _consume(self, stream: EventStream) -> None:
        """As hotline.service._consume, but keeping what the switchboard raised."""
        async with contextlib.aclosing(stream.items()) as items:
            async for item in items:
                try:
                    await self.board.handle(item)
                except Exception as err:
                    log.exception("event %s not handled", type(item).__name__)
                    self.errors.append(err)

    async def _load(self) -> tuple[RoutingConfig, dict[int, tuple[Availability, str | None]]]:
        return self.config, dict(self.availability)

    async def _load_callbacks(self) -> list[Pending]:
        return list(self.pending)

    async def _identify(self, number: str | None) -> Identity:
        self.identified.append(number)
        if self.identify_gate is not None:  # a test holds the caller in Greeting
            await self.identify_gate.wait()
        return self.identity

    # --- the fake's answers ------------------------------------------------------

    def _install_replies(self) -> None:
        fake = self.fake
        fake.on("GET", f"/applications/{APP}", lambda r: (200, self._application()))
        fake.on("POST", f"/applications/{APP}/subscription", lambda r: (200, self._application()))
        fake.on("PUT", f"/applications/{APP}/eventFilter", lambda r: (200, self._application()))
        fake.on(
            "GET", "/channels", lambda r: (200, self.channels) if r.path == "/channels" else None
        )
        fake.on("GET", "/bridges", lambda r: (200, self.bridges) if r.path == "/bridges" else None)
        fake.on("GET", "/endpoints", lambda r: (200, self._endpoints()))
        fake.on("POST", "/channels", self._originate)
        fake.on("POST", "/channels/", self._play)
        fake.on("POST", "/bridges/", self._bridge)

    def fail(self, method: str, pattern: str, status: int = 500, message: str = "boom") -> None:
        """From now on, answer requests matching (method, path pattern) with an error."""
        rx = re.compile(pattern)
        self.fake.on(
            method, "/", lambda r: (status, {"message": message}) if rx.fullmatch(r.path) else None
        )

    def _application(self) -> dict[str, Any]:
        return {
            "name": APP,
            "channel_ids": list(self.app_channels),
            "bridge_ids": [],
            "endpoint_ids": [],
            "device_names": [],
        }

    def _endpoints(self) -> list[dict[str, Any]]:
        names = sorted({o.endpoint for o in self.config.operators.values()} | self.online)
        return [
            {
                "technology": "PJSIP",
                "resource": name,
                "state": "online" if name in self.online else "offline",
                "channel_ids": [],
            }
            for name in names
        ]

    def _originate(self, r: Recorded) -> tuple[int, Any] | None:
        if r.path != "/channels":
            return None
        leg_id = r.body.get("channelId") or f"auto-{uuid.uuid4().hex}"
        self.legs[leg_id] = leg_channel(leg_id, r.body["endpoint"], state="Down")
        return 200, self.legs[leg_id]

    def _play(self, r: Recorded) -> tuple[int, Any] | None:
        m = re.fullmatch(r"/channels/([^/]+)/play/([^/]+)", r.path)
        if m is None:
            return None
        media = (r.body or {}).get("media") or [""]
        return 201, {
            "id": m[2],
            "media_uri": media[0],
            "target_uri": f"channel:{m[1]}",
            "state": "queued",
            "language": "en",
        }

    def _bridge(self, r: Recorded) -> tuple[int, Any] | None:
        m = re.fullmatch(r"/bridges/([^/]+)", r.path)
        if m is None:
            return None
        q = query(r)
        return 200, {
            "id": m[1],
            "technology": "simple_bridge",
            "bridge_type": q.get("type", "mixing"),
            "bridge_class": "stasis",
            "creator": "Stasis",
            "name": q.get("name", ""),
            "channels": [],
        }

    # --- waiting -----------------------------------------------------------------

    async def until(self, predicate: Callable[[], T], what: str, limit: float = LIMIT) -> T:
        """Poll `predicate` until it is truthy; fail naming `what` after `limit` seconds."""
        try:
            async with asyncio.timeout(limit):
                while not (value := predicate()):
                    await asyncio.sleep(0.005)
        except TimeoutError:
            raise AssertionError(f"timed out after {limit} s waiting for {what}") from None
        return value

    # --- requests made to ARI ----------------------------------------------------

    def sent(self, method: str, pattern: str) -> list[Recorded]:
        """Requests whose method is `method` and whose path fully matches the regular
        expression `pattern`, in the order they were made."""
        rx = re.compile(pattern)
        return [r for r in self.fake.requests if r.method == method and rx.fullmatch(r.path)]

    async def wait_sent(
        self, method: str, pattern: str, *, nth: int = 1, limit: float = LIMIT
    ) -> Recorded:
        found = await self.until(
            lambda: (x := self.sent(method, pattern)) and len(x) >= nth and x,
            f"request #{nth} {method} {pattern}",
            limit,
        )
        return found[nth - 1]

    def trail(self, pattern: str = ".*") -> list[str]:
        """'METHOD path' of every request but reconciliation's reads, paths matching
        `pattern`, in the order they were made."""
        rx = re.compile(pattern)
        return [
            f"{r.method} {r.path}"
            for r in self.fake.requests
            if (r.method, r.path) not in _RECONCILE and rx.fullmatch(r.path)
        ]

    def originates(self, endpoint: str | None = None) -> list[Recorded]:
        return [
            r
            for r in self.sent("POST", "/channels")
            if endpoint is None or r.body["endpoint"] == endpoint
        ]

    async def originated(self, endpoint: str, *, nth: int = 1, limit: float = LIMIT) -> str:
        """Wait for the nth originate to `endpoint`; the leg's channel id."""
        found = await self.until(
            lambda: (x := self.originates(endpoint)) and len(x) >= nth and x,
            f"originate #{nth} to {endpoint}",
            limit,
        )
        return str(found[nth - 1].body["channelId"])

    def hung_up(self, channel_id: str) -> bool:
        return bool(self.sent("DELETE", f"/channels/{re.escape(channel_id)}"))

    # --- records and domain events -----------------------------------------------

    def recorded(self, cls: type[T], /, **fields: Any) -> list[T]:
        """Records of type `cls` whose attributes equal `fields`, in order."""
        return [r for r in self.records if isinstance(r, cls) and _has(r, fields)]

    async def wait_record(self, cls: type[T], /, limit: float = LIMIT, **fields: Any) -> T:
        found = await self.until(
            lambda: self.recorded(cls, **fields), f"record {cls.__name__} {fields}", limit
        )
        return found[0]

    def published(self, cls: type[T], /, **fields: Any) -> list[T]:
        """Domain events of type `cls` whose attributes equal `fields`, in order."""
        return [e for e in self.events if isinstance(e, cls) and _has(e, fields)]

    async def wait_event(self, cls: type[T], /, limit: float = LIMIT, **fields: Any) -> T:
        found = await self.until(
            lambda: self.published(cls, **fields), f"event {cls.__name__} {fields}", limit
        )
        return found[0]

    def steps(self, case_id: uuid.UUID) -> list[str]:
        """The case's timeline, in order."""
        return [s.kind for s in self.recorded(CaseStep, case_id=case_id)]

    async def wait_step(
        self, case_id: uuid.UUID, kind: str, /, limit: float = LIMIT, **detail: Any
    ) -> CaseStep:
        def found() -> list[CaseStep]:
            return [
                s
                for s in self.recorded(CaseStep, case_id=case_id, kind=kind)
                if all(s.detail.get(k) == v for k, v in detail.items())
            ]

        return (await self.until(found, f"step {kind} {detail} of case {case_id}", limit))[0]

    # --- calls -------------------------------------------------------------------

    def call(self, call_id: uuid.UUID) -> Call | None:
        return self.board.find(call_id)

    async def wait_state(self, call_id: uuid.UUID, phase: type, limit: float = LIMIT) -> Call:
        def found() -> Call | None:
            call = self.board.find(call_id)
            return call if call is not None and type(call.state) is phase else None

        return await self.until(found, f"call {call_id} in {phase.__name__}", limit)

    async def wait_gone(self, call_id: uuid.UUID, limit: float = LIMIT) -> None:
        """The call's task has ended (and the switchboard forgot it)."""
        await self.until(lambda: self.board.find(call_id) is None, f"call {call_id} gone", limit)

    async def arrive(
        self, channel_id: str = "c1", *, number: str = CALLER_NUMBER, entry: str = "hotline"
    ) -> Caller:
        """A caller enters Stasis; returns once the switchboard started the call."""
        caller = Caller(channel(channel_id, number=number, entry=entry))
        await self.stasis_start(caller.channel, entry)
        await self.wait_record(CallStarted, call_id=caller.call_id)
        return caller

    async def queued(self, caller: Caller, queue: str | None = None, *, nth: int = 1) -> None:
        """Wait until the caller waits (the nth time) in a queue with music on hold."""
        fields = {"call_id": caller.call_id} | ({"queue": queue} if queue else {})
        await self.wait_record(CallQueued, **fields)
        await self.wait_sent("POST", f"/channels/{re.escape(caller.id)}/moh", nth=nth)

    # --- events sent to the service ----------------------------------------------

    def _stamp(self) -> str:
        """A timestamp unique to each event: the switchboard drops byte-identical events."""
        at = max(dt.datetime.now(dt.UTC), self._last + dt.timedelta(microseconds=1))
        self._last = at
        return stamp(at)

    async def send(self, kind: str, **fields: Any) -> None:
        await self.fake.send(
            {
                "type": kind,
                "timestamp": self._stamp(),
                **fields,
                "asterisk_id": ASTERISK_ID,
                "application": APP,
            }
        )

    async def stasis_start(self, chan: dict[str, Any], *args: str) -> None:
        await self.send("StasisStart", args=list(args), channel=chan)

    async def hangup_request(self, chan: dict[str, Any], cause: int | None = None) -> None:
        fields: dict[str, Any] = {"channel": {**chan, "state": "Up"}}
        if cause is not None:
            fields["cause"] = cause
        await self.send("ChannelHangupRequest", **fields)

    async def stasis_end(self, chan: dict[str, Any]) -> None:
        await self.send("StasisEnd", channel={**chan, "state": "Up"})

    async def destroyed(self, chan: dict[str, Any], cause: int, cause_txt: str) -> None:
        await self.send("ChannelDestroyed", cause=cause, cause_txt=cause_txt, channel=chan)

    async def dtmf(self, chan: dict[str, Any], digit: str) -> None:
        await self.send("ChannelDtmfReceived", digit=digit, duration_ms=280, channel=chan)

    async def playback_finished(self, playback_id: str, channel_id: str) -> None:
        await self.send(
            "PlaybackFinished",
            playback={
                "id": playback_id,
                "media_uri": "sound:x",
                "target_uri": f"channel:{channel_id}",
                "state": "done",
                "language": "en",
            },
        )

    async def endpoint_state(self, resource: str, online: bool) -> None:
        state = "online" if online else "offline"
        await self.send(
            "EndpointStateChange",
            endpoint={"technology": "PJSIP", "resource": resource, "state": state},
        )

    async def hang_up(self, chan: dict[str, Any], cause: int | None = None) -> None:
        """The channel's owner hangs up: ChannelHangupRequest then StasisEnd, as Asterisk."""
        await self.hangup_request(chan, cause)
        await self.stasis_end(chan)

    def leg(self, leg_id: str, state: str = "Up") -> dict[str, Any]:
        """An originated leg's channel as it is now."""
        return {**self.legs[leg_id], "state": state}

    async def answer_leg(self, leg_id: str, purpose: str = "operator") -> None:
        """The far end answers: the originated leg enters our Stasis app."""
        await self.stasis_start(self.leg(leg_id), purpose)

    async def finish_playback(self, channel_id: str, prefix: str, *, nth: int = 1) -> Recorded:
        """Wait for the nth playback `<prefix>-<hex>` on the channel and report it done."""
        path = f"/channels/{re.escape(channel_id)}/play/{prefix}-[0-9a-f]{{32}}"
        played = await self.wait_sent("POST", path, nth=nth)
        await self.playback_finished(played.path.rpartition("/")[2], channel_id)
        return played


def _has(obj: object, fields: Mapping[str, Any]) -> bool:
    return all(getattr(obj, k, object()) == v for k, v in fields.items())
