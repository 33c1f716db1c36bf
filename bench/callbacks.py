"""Callback benchmark: from an operator becoming free to the elder's phone ringing.

A callback waits in its queue until an operator is free; then the operator's softphone rings
(showing the number), the operator answers, and only then does the service dial the number
through the carrier trunk. This measures that path end to end, with one operator and one
callback at a time, and puts it beside two baselines measured in the same run.

Set-up, through the admin API of a service started on a scratch database: a queue `benchcb`
(callback_attempts 1, wrapup_s 0, no announcements) with one operator `benchcb1` whose SIPp
softphone (bench/operator_timed.xml, on 127.0.0.190) answers after --ring-ms and hangs up
--talk-ms after answering; the hotline line routed to that queue (for the live callers); a
case row inserted with SQL for the callbacks to belong to; no greeting (HOTLINE_GREETING
empty). The elder is SIPp on the carrier's address 127.0.0.2:5060, where Asterisk sends
PJSIP/<number>@pstn, playing bench/operator_timed.xml too: it logs the time of each INVITE,
answers after --elder-ring-ms and waits for the BYE (the operator ends the call).

Each of --callbacks iterations, one after the other, each ending with nothing left in
Asterisk (GET /ari/channels and /ari/bridges empty) before the next:

  callback   the operator paused; POST /api/callbacks (due now) and wait on the event stream
             for its `call.queued` (kind "callback"); t0 = just before PUT
             /api/operators/{id}/state ready; t1 = the elder's INVITE (SIPp's log). On the
             way: the operator's INVITE and answer (the softphone's log); the iteration
             ends when the operator has hung up (call.ended).
  live       baseline for the first part, the queue's usual offer path: the operator paused,
             a SIPp caller (bench/caller_timed.xml) dials the hotline and waits in the queue
             (`call.queued`, kind "inbound"); t0 = just before PUT ready; t1 = the operator's
             INVITE. Same operator, same API call, same desk: only the kind of call differs.
  originate  baseline for the last part: Asterisk alone dialling the number, POST
             /ari/channels (endpoint PJSIP/<number>@pstn, app bench-originate: this
             script's own Stasis app); t0 = just before the POST, t1 = the elder's INVITE;
             then DELETE the channel. What ARI and chan_pjsip take to put an INVITE on the
             trunk, without the service.

"The operator paused" is PUT .../state paused, confirmed by the floor's operator.state on the
event stream before going on; a pause the floor does not show within 0.5 s is counted
("pauses lost", must be 0) and sent again, and every offer is checked to come after t0. The
live step pauses the operator within a few ms of the end of the callback step's call: before
commit 7845926 such a pause was lost (the PUT answered 200, then the recorder wrote the
floor's older "ready" over operators.state and the desk reloaded that), about every other
iteration.

It prints p50/p99/max of t1 - t0 for the three, the callback's breakdown (ready -> the
operator's INVITE (the offer) -> its answer (the ring) -> the elder's INVITE) and the PUT's
own round trip (the service answers it once the change is applied: the offer is made on
the way), how each callback ended, how long Asterisk took to be empty after each step's call
ended, the service's CPU per step and how busy the machine was. All times are time.time(),
the events' "at" or SIPp's [timestamp] (Unix seconds, microseconds) on one machine's clock.

    set -a; . /var/lib/hotline/secrets.env; set +a
    .venv/bin/python -m bench.callbacks                  # 100 iterations, about 2.5 minutes
    .venv/bin/python -m bench.callbacks --callbacks 20 --ring-ms 50

Needs the sandbox Asterisk and PostgreSQL up (scripts/up or scripts/test brings them), and
nothing else using the sandbox: the service syncs Asterisk's operator accounts to its own
(scratch) database, and the elder phone binds 127.0.0.2:5060. Everything the run creates
(operator, queue, line route, phones, service, scratch database) is undone at the end, also
on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import secrets
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from tests.integration import sipp
from tests.integration.conftest import ARI, Service, ari_get, ari_request
from tests.integration.pg import _dsn

from bench.common import (
    AriObserver,
    MachineCpu,
    ari_auth,
    asterisk_empty,
    bench_database,
    cpu_seconds,
    default_pg,
    free_tcp_port,
    percentile,
    run_until_done,
)
from bench.queues import BenchPhone, hang_up_callers, operator_scenario

HERE = Path(__file__).resolve().parent
QUEUE = "benchcb"
OPERATOR = "benchcb1"
OPERATOR_IP = "127.0.0.190"
ELDER = "13911112222"  # the number called back (and dialled by the originate baseline)
CALLER = "13800000001"  # the live callers of the baseline (the demo data's elder)
ORIGINATE_APP = "bench-originate"


def _stamp(fields: list[str]) -> float:
    return float(fields[-1])


# -- the phones ----------------------------------------------------------------------------


class ElderPhone:
    """SIPp on the carrier address taking every call Asterisk sends to PJSIP/<n>@pstn:
    bench/operator_timed.xml as its main scenario (logs invite/answered/ended with times)."""

    def __init__(self, scenario: Path, workdir: Path) -> None:
        self.scenario = scenario
        self.log = workdir / "elder.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            "sipp",
            *("-sf", str(self.scenario), "-i", sipp.CARRIER_IP, "-p", "5060"),
            *("-mp", str(sipp.free_port(sipp.CARRIER_IP)), "-nostdin"),
            *("-trace_logs", "-log_file", str(self.log)),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL,
            cwd=self.log.parent,
        )
        await asyncio.sleep(0.3)  # bound to its port
        if self.proc.returncode is not None:
            raise RuntimeError(f"the elder's SIPp exited ({self.proc.returncode}): port taken?")

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        await sipp.terminate(proc)

    def lines(self) -> list[list[str]]:
        try:
            text = self.log.read_text(errors="replace")
        except FileNotFoundError:
            return []
        return [line.split() for line in text.splitlines() if line.strip()]


def logged(lines: list[list[str]], kind: str, skip: int = 0) -> list[float]:
    """Times of the log lines ``kind`` after the first ``skip`` of them."""
    return [_stamp(f) for f in lines if f and f[0] == kind and len(f) >= 3][skip:]


async def wait_logged(
    lines: Callable[[], list[list[str]]], kind: str, skip: int, limit: float
) -> float:
    """The time of the next (``skip``+1-th) ``kind`` line, once logged."""
    async with asyncio.timeout(limit):
        while True:
            times = logged(lines(), kind, skip)
            if times:
                return times[0]
            await asyncio.sleep(0.01)


# -- the event stream ----------------------------------------------------------------------


class Stream:
    """The bench's own subscriber of /api/events: every message with its arrival time."""

    def __init__(self, http: aiohttp.ClientSession, port: int) -> None:
        self.http, self.port = http, port
        self.messages: list[tuple[float, dict[str, Any]]] = []
        self._new = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        ws = await self.http.ws_connect(
            f"http://127.0.0.1:{self.port}/api/events",
            headers={"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"},
            max_msg_size=0,
        )
        self._task = asyncio.create_task(self._read(ws))

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async with ws:
            while (msg := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
                self.messages.append((time.time(), json.loads(msg.data)))
                self._new.set()
        raise RuntimeError(f"the event stream closed ({ws.close_code})")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def changed(self) -> None:
        """Until the next message (or the stream's end, raised)."""
        if self._task is not None and self._task.done():
            self._task.result()
        self._new.clear()
        await self._new.wait()

    def operator_state(self, operator_id: int) -> str | None:
        """What the floor shows for the operator now: its last operator.state (or the
        snapshot's)."""
        for _, m in reversed(self.messages):
            if m.get("type") == "operator.state" and m.get("operator_id") == operator_id:
                return str(m["state"])
            if m.get("type") == "snapshot":
                for op in m["snapshot"]["operators"]:
                    if op["operator_id"] == operator_id:
                        return str(op["state"])
        return None

    async def wait(
        self, since: int, limit: float, event: str, **where: Any
    ) -> tuple[float, dict[str, Any]]:
        """The first ``event`` (a type, with these fields) from message ``since`` on."""
        async with asyncio.timeout(limit):
            while True:
                for at, m in self.messages[since:]:
                    if m.get("type") == event and all(m.get(k) == v for k, v in where.items()):
                        return at, m
                await self.changed()


# -- the service's set-up ------------------------------------------------------------------


class Floor:
    """The bench's queue, operator, line route and case; undone by undo()."""

    def __init__(self, service: Service, http: aiohttp.ClientSession, database: str) -> None:
        self.service, self.http, self.database = service, http, database
        self.password = secrets.token_hex(12)
        self.operator_id: int | None = None
        self.queue_made = False
        self.line: dict[str, Any] | None = None
        self.case_id = uuid.uuid4()

    async def api(self, method: str, path: str, body: object = None) -> Any:
        url = f"http://127.0.0.1:{self.service.port}{path}"
        async with self.http.request(
            method,
            url,
            json=body,
            headers={"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"},
        ) as response:
            data = await response.json() if response.content_type == "application/json" else None
            if response.status >= 300:
                raise RuntimeError(f"{method} {path}: {response.status} {data}")
            return data

    async def setup(self) -> None:
        await self.api(
            "POST",
            "/api/queues",
            {
                "name": QUEUE,
                "display_name": "callback benchmark",
                "strategy": "longest_idle",
                "ring_timeout_s": 15,
                "wrapup_s": 0,
                "announce_every_s": None,
                "callback_attempts": 1,
            },
        )
        self.queue_made = True
        lines = await self.api("GET", "/api/lines")
        self.line = next(x for x in lines if x["entry"] == "hotline")
        await self.api("PATCH", "/api/lines/hotline", {"queue": QUEUE})
        made = await self.api(
            "POST",
            "/api/operators",
            {"username": OPERATOR, "display_name": OPERATOR, "sip_password": self.password},
        )
        self.operator_id = int(made["id"])
        await self.api("PUT", f"/api/queues/{QUEUE}/members/{self.operator_id}", {"penalty": 0})
        await self.state("paused")
        conn = await asyncpg.connect(_dsn(self.database))
        try:  # a case for the callbacks to belong to (POST /api/callbacks needs one)
            await conn.execute(
                "INSERT INTO cases (id, opened_at, status, channel, identified)"
                " VALUES ($1, now(), 'open', 'hotline', false)",
                self.case_id,
            )
        finally:
            await conn.close()

    async def state(self, state: str) -> None:
        body = {"state": state, **({"reason": "bench"} if state == "paused" else {})}
        await self.api("PUT", f"/api/operators/{self.operator_id}/state", body)

    async def undo(self) -> None:
        """Best effort, each step on its own: restore the line, delete operator and queue."""
        steps: list[tuple[str, str, object]] = []
        if self.line is not None:
            keep = ("queue", "opens", "closes", "after_hours_queue")
            steps.append(("PATCH", "/api/lines/hotline", {k: self.line[k] for k in keep}))
        if self.operator_id is not None:
            steps.append(("DELETE", f"/api/operators/{self.operator_id}", None))
        if self.queue_made:
            # Refused once calls were queued in it (409), and once a callback names it: a
            # 500, as the service does not check callbacks.queue_id before the DELETE
            # (queues/store.py, delete_queue). Either way it goes with the scratch database.
            steps.append(("DELETE", f"/api/queues/{QUEUE}", None))
        for method, path, body in steps:
            try:
                await self.api(method, path, body)
            except RuntimeError as err:
                refused = " 409 " in str(err) or " 500 " in str(err)
                if not (path.startswith("/api/queues/") and refused):
                    print(f"clean-up: {method} {path} failed: {err}")
            except (aiohttp.ClientError, TimeoutError) as err:
                print(f"clean-up: {method} {path} failed: {err}")


# -- the iterations ------------------------------------------------------------------------


@dataclass
class Figures:
    callback_ms: list[float] = field(default_factory=list)  # ready -> the elder's INVITE
    offer_ms: list[float] = field(default_factory=list)  # ready -> the operator's INVITE
    put_ms: list[float] = field(default_factory=list)  # PUT .../state ready, round trip
    ring_ms: list[float] = field(default_factory=list)  # operator's INVITE -> its answer
    dial_ms: list[float] = field(default_factory=list)  # operator's answer -> elder's INVITE
    live_ms: list[float] = field(default_factory=list)  # ready -> operator's INVITE (live)
    live_put_ms: list[float] = field(default_factory=list)
    originate_ms: list[float] = field(default_factory=list)  # POST -> the elder's INVITE
    outcomes: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    settle_ms: list[float] = field(default_factory=list)  # call ended -> Asterisk empty
    pauses_lost: int = 0  # PUT paused answered 200, yet the floor stayed ready
    iterations: int = 0
    wall_s: float = 0.0
    cpu_s: float = 0.0
    busy: float = 0.0


def _at(event: dict[str, Any]) -> float:
    """An event's own time (the service's clock, "at") in Unix seconds."""
    return dt.datetime.fromisoformat(event["at"]).timestamp()


class Bench:
    def __init__(
        self,
        args: argparse.Namespace,
        floor: Floor,
        stream: Stream,
        phone: BenchPhone,
        elder: ElderPhone,
        workdir: Path,
    ) -> None:
        self.args, self.floor, self.stream = args, floor, stream
        self.phone, self.elder, self.workdir = phone, elder, workdir
        self.figures = Figures()

    async def settle(self) -> None:
        """Nothing left in Asterisk (its wait kept), else hang up what is and say so."""
        try:
            self.figures.settle_ms.append(1000 * await asyncio.wait_for(asterisk_empty(10), 11))
        except TimeoutError:
            self.figures.failures.append("Asterisk not empty after 10 s: hung up through ARI")
            for channel in await asyncio.to_thread(ari_get, "/channels") or []:
                with contextlib.suppress(OSError):
                    await asyncio.to_thread(ari_request, "DELETE", f"/channels/{channel['id']}")
            await asterisk_empty(10)

    async def pause(self) -> None:
        """PUT .../state paused, and wait until the floor shows it (operator.state on the
        stream). A pause it does not show within 0.5 s is counted as lost and sent again
        (before commit 7845926, one sent within a few ms of the end of the operator's call
        was: the recorder wrote the floor's older "ready" over it)."""
        op_id = self.floor.operator_id
        assert op_id is not None
        for _ in range(3):
            await self.floor.state("paused")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(0.5):
                    while self.stream.operator_state(op_id) != "paused":
                        await self.stream.changed()
                    return
            self.figures.pauses_lost += 1
        raise RuntimeError("the operator could not be paused")

    async def ready(self, what: str) -> tuple[float, float]:
        """The operator ready: t0 (just before PUT .../state ready) and the PUT's round
        trip; checks that the operator was offered a call after t0, not before."""
        mark = len(self.stream.messages)
        t0 = time.time()
        await self.floor.state("ready")
        put = time.time() - t0
        _, offered = await self.stream.wait(
            mark, 10, "operator.state", operator_id=self.floor.operator_id, state="offered"
        )
        if _at(offered) < t0:
            self.figures.failures.append(f"{what}: offered before the operator was ready")
        return t0, put

    async def callback(self, n: int) -> None:
        f, stream = self.figures, self.stream
        await self.pause()
        ops = len(logged(self.phone.lines(), "invite"))
        answers = len(logged(self.phone.lines(), "answered"))
        elders = len(logged(self.elder.lines(), "invite"))
        mark = len(stream.messages)
        asked = await self.floor.api(
            "POST",
            "/api/callbacks",
            # The elder's number is not the case caller's: asked as a supervisor may (R27).
            {
                "number": ELDER,
                "case_id": str(self.floor.case_id),
                "queue": QUEUE,
                "any_number": True,
            },
        )
        _, queued = await stream.wait(mark, 10, "call.queued", kind="callback", queue=QUEUE)
        call_id = queued["call_id"]
        t0, put = await self.ready(f"callback {n}")
        offered = await wait_logged(self.phone.lines, "invite", ops, 10)
        answered = await wait_logged(self.phone.lines, "answered", answers, 10)
        rung = await wait_logged(self.elder.lines, "invite", elders, 15)
        _, done = await stream.wait(mark, 30, "callback.done", callback_id=asked["id"])
        f.outcomes[done["outcome"]] += 1
        f.callback_ms.append(1000 * (rung - t0))
        f.offer_ms.append(1000 * (offered - t0))
        f.put_ms.append(1000 * put)
        f.ring_ms.append(1000 * (answered - offered))
        f.dial_ms.append(1000 * (rung - answered))
        await stream.wait(mark, 30, "call.ended", call_id=call_id)  # the operator hung up

    async def live(self, n: int) -> None:
        stream = self.stream
        await self.pause()
        ops = len(logged(self.phone.lines(), "invite"))
        mark = len(stream.messages)
        caller = asyncio.create_task(self._caller(n))
        try:
            queued = asyncio.create_task(
                stream.wait(mark, 15, "call.queued", kind="inbound", queue=QUEUE)
            )
            await asyncio.wait({caller, queued}, return_when=asyncio.FIRST_COMPLETED)
            if not queued.done():
                queued.cancel()
                await asyncio.gather(queued, return_exceptions=True)
                why = caller.exception() or caller.result()
                raise RuntimeError(f"the caller ended before it was queued: {why!r}")
            queued.result()
            t0, put = await self.ready(f"live {n}")
            offered = await wait_logged(self.phone.lines, "invite", ops, 10)
            self.figures.live_ms.append(1000 * (offered - t0))
            self.figures.live_put_ms.append(1000 * put)
            end = await asyncio.wait_for(asyncio.shield(caller), 30)  # the operator hung up
            if end != "hung_up_on":
                self.figures.failures.append(f"live caller {n}: {end or 'failed'}")
        finally:
            if not caller.done():
                caller.cancel()
                await asyncio.gather(caller, return_exceptions=True)

    async def _caller(self, n: int) -> str | None:
        """One SIPp caller to the hotline, staying until the operator ends the call; how it
        ended (bench/caller_timed.xml's last log line)."""
        scenario = self.workdir / "caller.xml"
        if not scenario.exists():
            text = (HERE / "caller_timed.xml").read_text().replace('"PATIENCE_MS"', '"60000"')
            scenario.write_text(text)
            (self.workdir / "silence.ulaw").write_bytes(b"\xff" * 8000)
            (self.workdir / "numbers.csv").write_text(f"SEQUENTIAL\n{CALLER};\n")
        log = self.workdir / f"caller_{n}.log"
        proc = await asyncio.create_subprocess_exec(
            "sipp",
            *("-sf", str(scenario), "-inf", str(self.workdir / "numbers.csv"), "-s", "12349"),
            *("-i", sipp.CARRIER_IP, "-p", str(sipp.free_port(sipp.CARRIER_IP))),
            *("-mp", str(sipp.free_port(sipp.CARRIER_IP)), "-m", "1"),
            *("-trace_logs", "-log_file", str(log), "-nostdin", "-timeout", "60s"),
            sipp.ASTERISK,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL,
            cwd=self.workdir,
        )
        try:
            await proc.wait()
        finally:
            if proc.returncode is None:  # interrupted: no BYE was sent, so end the call here
                proc.kill()
                await proc.wait()
                await asyncio.to_thread(hang_up_callers, {CALLER})
        words = [line.split()[0] for line in log.read_text().splitlines() if line.strip()]
        return words[-1] if words and words[-1] != "dial" else None

    async def originate(self, n: int, http: aiohttp.ClientSession) -> None:
        elders = len(logged(self.elder.lines(), "invite"))
        answers = len(logged(self.elder.lines(), "answered"))
        channel = f"bench-originate-{n}-{secrets.token_hex(4)}"
        t0 = time.time()
        async with http.post(
            f"{ARI}/ari/channels",
            json={"endpoint": f"PJSIP/{ELDER}@pstn", "app": ORIGINATE_APP, "channelId": channel},
        ) as response:
            if response.status >= 300:
                raise RuntimeError(f"originate: {response.status} {await response.text()}")
        rung = await wait_logged(self.elder.lines, "invite", elders, 10)
        self.figures.originate_ms.append(1000 * (rung - t0))
        await wait_logged(self.elder.lines, "answered", answers, 10)
        async with http.delete(f"{ARI}/ari/channels/{channel}") as response:
            if response.status not in (204, 404):
                raise RuntimeError(f"hang-up: {response.status} {await response.text()}")

    async def run(self) -> Figures:
        f = self.figures
        machine = MachineCpu()
        assert self.floor.service.proc is not None
        cpu_before = cpu_seconds(self.floor.service.proc.pid)
        started = time.monotonic()
        async with aiohttp.ClientSession(headers=ari_auth()) as ari:
            for n in range(self.args.callbacks):
                steps: list[tuple[str, Callable[[], Any]]] = [
                    ("callback", lambda n=n: self.callback(n))
                ]
                if n % self.args.live_every == 0:
                    steps.append(("live", lambda n=n: self.live(n)))
                steps.append(("originate", lambda n=n: self.originate(n, ari)))
                for name, step in steps:
                    try:
                        await step()
                    except (TimeoutError, RuntimeError) as err:
                        f.failures.append(f"{name} {n}: {type(err).__name__} {err}")
                    await self.settle()
                f.iterations += 1
                if (n + 1) % 10 == 0:
                    print(f"  {n + 1} of {self.args.callbacks}", flush=True)
        f.wall_s = time.monotonic() - started
        f.cpu_s = cpu_seconds(self.floor.service.proc.pid) - cpu_before
        f.busy = machine.busy()
        return f


async def run(args: argparse.Namespace) -> Figures:
    async with bench_database() as database:
        with tempfile.TemporaryDirectory(prefix="bench-callbacks-") as tmp:
            workdir = Path(tmp)
            service = Service(database, workdir)
            service.port = free_tcp_port()
            await service.start(HOTLINE_LOG_LEVEL="WARNING", HOTLINE_GREETING="")
            phone: BenchPhone | None = None
            elder: ElderPhone | None = None
            stream: Stream | None = None
            try:
                async with (
                    aiohttp.ClientSession() as http,
                    AriObserver(ORIGINATE_APP, subscribe_all=False),
                ):
                    floor = Floor(service, http, database)
                    try:
                        await floor.setup()
                        stream = Stream(http, service.port)
                        await stream.start()
                        phone = BenchPhone(
                            OPERATOR,
                            floor.password,
                            OPERATOR_IP,
                            operator_scenario(workdir, args.ring_ms, args.talk_ms),
                        )
                        await phone.start()
                        elder_scenario = workdir / "elder"
                        elder_scenario.mkdir()
                        elder = ElderPhone(
                            operator_scenario(elder_scenario, args.elder_ring_ms, 60_000),
                            workdir,
                        )
                        await elder.start()
                        print(
                            f"{args.callbacks} iterations (callback, live caller every"
                            f" {args.live_every}, originate) ...",
                            flush=True,
                        )
                        bench = Bench(args, floor, stream, phone, elder, workdir)
                        figures = await bench.run()
                    finally:
                        if stream is not None:
                            await stream.stop()
                        if phone is not None:
                            log = "".join(" ".join(x) + "\n" for x in phone.lines())
                            (workdir / "operator.log").write_text(log)
                            await phone.stop()
                        if stream is not None and args.keep_logs:
                            events = "".join(
                                f"{at:.6f} {json.dumps(m)}\n" for at, m in stream.messages
                            )
                            (workdir / "events.log").write_text(events)
                        if elder is not None:
                            await elder.stop()
                        await floor.undo()
                        await asyncio.to_thread(hang_up_originated)
                        if args.keep_logs:
                            shutil.copytree(workdir, args.keep_logs, dirs_exist_ok=True)
            finally:
                if service.proc is not None:
                    await service.stop()
    return figures


def hang_up_originated() -> None:
    """The originate baseline's channel, if the run was interrupted before its DELETE."""
    for channel in ari_get("/channels") or []:
        if str(channel["id"]).startswith("bench-originate-"):
            with contextlib.suppress(OSError):
                ari_request("DELETE", f"/channels/{channel['id']}")


# -- the report ----------------------------------------------------------------------------


def _row(name: str, values: list[float]) -> str:
    if not values:
        return f"{name:<54}{'-':>8}{'-':>8}{'-':>8}{0:>6}"
    return (
        f"{name:<54}{percentile(values, 50):>8.1f}{percentile(values, 99):>8.1f}"
        f"{max(values):>8.1f}{len(values):>6}"
    )


def report(f: Figures, args: argparse.Namespace) -> None:
    print(
        f"\ncallback benchmark: {f.iterations} iterations in {f.wall_s:.0f} s; one operator"
        f" (answers after {args.ring_ms} ms, hangs up {args.talk_ms} ms after answering);"
        f" the elder answers after {args.elder_ring_ms} ms"
    )
    print(f"{'ms':<54}{'p50':>8}{'p99':>8}{'max':>8}{'n':>6}")
    print(_row("callback: operator ready -> the elder's INVITE", f.callback_ms))
    print(_row("  ready -> the operator's INVITE (the offer)", f.offer_ms))
    print(_row("    (PUT .../state ready: its round trip)", f.put_ms))
    print(_row("  the operator's INVITE -> its answer (ACK)", f.ring_ms))
    print(_row("  the operator's answer -> the elder's INVITE", f.dial_ms))
    print(_row("baseline, live caller: ready -> the operator's INVITE", f.live_ms))
    print(_row("    (PUT .../state ready: its round trip)", f.live_put_ms))
    print(_row("baseline, ARI originate: POST -> the elder's INVITE", f.originate_ms))
    outcomes = ", ".join(f"{k} {v}" for k, v in sorted(f.outcomes.items())) or "none"
    steps = f.iterations * (2 + 1 / args.live_every)
    print(
        f"callbacks ended: {outcomes}; failures: {len(f.failures)}; pauses lost (and sent"
        f" again): {f.pauses_lost}; after each step's call"
        f" ended, Asterisk empty within p50 {percentile(f.settle_ms, 50):.0f} ms, max"
        f" {max(f.settle_ms, default=float('nan')):.0f} ms; service CPU"
        f" {1000 * f.cpu_s / max(steps, 1):.1f} ms per step; machine busy {100 * f.busy:.0f}%"
    )
    print(
        "ready: just before PUT /api/operators/{id}/state ready (each offer checked to come"
        ' after it: the "at" of operator.state offered); INVITEs and answers: the SIPp'
        " phones' logs; pauses lost: PUT .../state paused answered, yet the floor did not show"
        " the pause (sent again)"
    )
    for failure in f.failures[:20]:
        print(f"  {failure}")


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.callbacks",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--callbacks", type=int, default=100, metavar="N", help="iterations [100]")
    parser.add_argument(
        "--live-every",
        type=int,
        default=1,
        metavar="K",
        help="a live-caller baseline every K iterations [1]",
    )
    parser.add_argument(
        "--ring-ms", type=int, default=20, metavar="MS", help="the operator answers after [20]"
    )
    parser.add_argument(
        "--talk-ms",
        type=int,
        default=500,
        metavar="MS",
        help="the operator hangs up this long after answering [500]",
    )
    parser.add_argument(
        "--elder-ring-ms", type=int, default=20, metavar="MS", help="the elder answers after [20]"
    )
    parser.add_argument(
        "--keep-logs", type=Path, metavar="DIR", help="copy the SIPp logs and scenarios to DIR"
    )
    args = parser.parse_args()
    if args.live_every < 1:
        parser.error("--live-every is 1 or more")
    default_pg()

    figures = run_until_done(
        lambda: run(args), "interrupted (operator, queue, line and phones undone)"
    )
    report(figures, args)


if __name__ == "__main__":
    main()
