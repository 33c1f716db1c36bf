"""Queue benchmark: the service's operator queues vs Asterisk's own app_queue, in one run.

Same Asterisk, same SIPp softphones (operators benchop1..N, made through the service's admin
API, which pushes their SIP accounts into Asterisk), same work before queueing: answer and
a short prompt (the dialplan's Playback(beep) for app_queue; HOTLINE_GREETING=sound:beep for
the service, instead of its 1.4 s hello-world). Each load runs first through app_queue
(extension 9998: queue `bench` of asterisk-docker/etc/queues.conf, leastrecent, 15 s ring,
no wrap-up) then through the service (12349, its hotline line routed to a queue `bench`:
longest_idle, 15 s ring, no wrap-up, no announcements).

  free operators  --operators answering softphones, --rate calls/s, --calls per system:
                  time from the caller's INVITE to the first operator's INVITE, p50/p99
  overload        --overload-operators, --overload-rate calls/s for --overload-seconds:
                  service level (share of all calls answered by an operator within
                  --sl-seconds of the INVITE), answered, abandoned

Each caller (bench/caller_timed.xml) presents its own number and sends RTP; the softphones
(bench/operator_timed.xml) log the From user and the time of every INVITE they get, the
callers the time of theirs (both SIPp on this machine: one clock). Operators answer after
--ring-ms and hang up after talking (--talk-s, or --overload-talk-s). A caller no operator
has answered --patience-s after dialling hangs up (abandoned); since both systems answer
callers at once, this script tells each caller when its operator answered (Relay).

    set -a; . /var/lib/hotline/secrets.env; set +a
    .venv/bin/python -m bench.queues

Needs the sandbox Asterisk (started with this repo's queues.conf and dialplan) and
PostgreSQL up, and nothing else using the sandbox: the service syncs Asterisk's operator
accounts to its own (scratch) database. Softphones bind 127.0.0.200 and up, port 5060.
HOTLINE_ARI_URL / HOTLINE_SIP_PORT select another sandbox. Everything the run creates (its
operators, queue, line route, softphones, service, database) is undone at the end, also on
Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import os
import secrets
import shutil
import socket
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from tests.integration import sipp
from tests.integration.conftest import ARI, Service, ari_get
from tests.integration.softphone import Softphone

from bench.common import (
    bench_database,
    cpu_seconds,
    default_pg,
    free_tcp_port,
    percentile,
    run_until_done,
)

HERE = Path(__file__).resolve().parent
BASELINE = "9998"  # dialplan/hotline.conf: Answer, Playback(beep), Queue(bench)
SERVICE = "12349"  # the hotline line, through the service
NAMES = {BASELINE: "app_queue (9998)", SERVICE: "hotline service (12349)"}
GREETING = "sound:beep"
QUEUE = "bench"
MAX_OPERATORS = 8  # queues.conf's static members PJSIP/benchop1..8


@dataclass
class Call:
    number: str
    dialled: float  # Unix seconds, the caller's INVITE
    end: str | None = None  # "hung_up_on" (the operator ended it), "gave_up", None: failed
    offered: float | None = None  # the first operator INVITE for this number
    answered: float | None = None  # the ACK of the operator's 200 OK
    connected: float | None = None  # the caller got the relay's signal of that answer


@dataclass
class Phase:
    target: str
    calls: list[Call]
    wall_s: float
    cpu_s: float | None = None
    gaps_s: list[float] = field(default_factory=list)  # operator free -> next offer
    offer_ms: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.offer_ms = [1000 * (c.offered - c.dialled) for c in self.calls if c.offered]

    @property
    def failed(self) -> int:
        """SIPp failures (no 200 OK, an unexpected message)."""
        return sum(c.end is None for c in self.calls)

    @property
    def answered(self) -> list[Call]:
        return [c for c in self.calls if c.answered]

    def within(self, seconds: float) -> int:
        return sum(1 for c in self.answered if c.answered and c.answered - c.dialled <= seconds)

    def cpu_ms_per_call(self) -> str:
        return f"{1000 * self.cpu_s / max(len(self.calls), 1):.1f}" if self.cpu_s else "-"


# -- SIPp ----------------------------------------------------------------------------------


def _stamp(fields: list[str]) -> float:
    """The Unix time at the end of a log line ([timestamp]'s last field)."""
    return float(fields[-1])


class BenchPhone(Softphone):
    """A softphone answering with bench/operator_timed.xml: logs times and caller numbers,
    hangs up after talking."""

    def __init__(self, endpoint: str, password: str, ip: str, scenario: Path) -> None:
        super().__init__(endpoint, password, ip, "answer")
        self.scenario = scenario

    def _args(self, *, expires: int, log: Path, error: Path) -> list[str]:
        args = super()._args(expires=expires, log=log, error=error)
        args[args.index("-oocsf") + 1] = str(self.scenario)
        return args

    @property
    def log_path(self) -> Path:
        return self._log

    def lines(self) -> list[list[str]]:
        try:
            text = self._log.read_text(errors="replace")
        except FileNotFoundError:
            return []
        return [line.split() for line in text.splitlines() if line.strip()]


def operator_scenario(workdir: Path, ring_ms: int, talk_ms: int) -> Path:
    text = (HERE / "operator_timed.xml").read_text()
    path = workdir / f"operator_{ring_ms}_{talk_ms}.xml"
    path.write_text(
        text.replace('"RING_MS"', f'"{max(ring_ms, 1)}"').replace('"TALK_MS"', f'"{talk_ms}"')
    )
    return path


class Relay:
    """Tells each caller the moment an operator has answered it.

    Both systems answer the caller at once (before the greeting), so nothing in SIP shows
    a caller when a human comes on the line; a caller's patience must end there. This reads
    the callers' and the softphones' logs as they are written and, on an operator's
    "answered" for a number, sends that caller's SIPp a SIP INFO in its own dialog (matched
    by Call-ID), which bench/caller_timed.xml waits for. Out of band: Asterisk never sees it.
    """

    def __init__(self, caller_log: Path, caller: tuple[str, int], phones: list[BenchPhone]):
        self.caller = caller
        self.files = [caller_log] + [p.log_path for p in phones]
        self.offsets = dict.fromkeys(self.files, 0)
        self.partial = dict.fromkeys(self.files, "")
        self.call_ids: dict[str, str] = {}  # caller number -> its Call-ID
        self.legs: dict[str, str] = {}  # operator leg Call-ID -> caller number
        self.told: set[str] = set()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((sipp.CARRIER_IP, 0))

    def _new_lines(self, path: Path) -> list[list[str]]:
        try:
            with path.open("rb") as f:
                f.seek(self.offsets[path])
                data = f.read()
        except FileNotFoundError:
            return []
        self.offsets[path] += len(data)
        text = self.partial[path] + data.decode(errors="replace")
        *lines, self.partial[path] = text.split("\n")
        return [line.split() for line in lines if line.strip()]

    def poll(self) -> None:
        for path in self.files:
            for fields in self._new_lines(path):
                if fields[0] == "dial" and len(fields) >= 3:
                    self.call_ids[fields[1]] = fields[2]
                elif fields[0] == "invite" and len(fields) >= 3:
                    self.legs[fields[1]] = fields[2]
                elif fields[0] == "answered" and fields[1] in self.legs:
                    self._tell(self.legs[fields[1]])

    def _tell(self, number: str) -> None:
        call_id = self.call_ids.get(number)
        if call_id is None or number in self.told:
            return
        self.told.add(number)
        host, port = self.sock.getsockname()
        message = (
            f"INFO sip:{number}@{self.caller[0]}:{self.caller[1]} SIP/2.0\r\n"
            f"Via: SIP/2.0/UDP {host}:{port};branch=z9hG4bK-bench-{number}\r\n"
            f"From: <sip:bench@{host}:{port}>;tag=bench\r\n"
            f"To: <sip:{number}@{self.caller[0]}>\r\n"
            f"Call-ID: {call_id}\r\n"
            "CSeq: 1 INFO\r\n"
            "Max-Forwards: 70\r\n"
            "Content-Length: 0\r\n\r\n"
        )
        self.sock.sendto(message.encode(), self.caller)

    async def run(self) -> None:
        try:
            while True:
                self.poll()
                await asyncio.sleep(0.005)
        finally:
            self.sock.close()


async def place_calls(
    target: str,
    numbers: list[str],
    rate: float,
    patience_ms: int,
    talk_s: float,
    phones: list[BenchPhone],
    workdir: Path,
) -> tuple[list[Call], float]:
    """SIPp calls to ``target`` at ``rate``/s, one per number; waits until all have ended."""
    tag = f"{target}_{numbers[0]}"
    scenario = workdir / f"caller_{tag}.xml"
    scenario.write_text(
        (HERE / "caller_timed.xml").read_text().replace('"PATIENCE_MS"', f'"{patience_ms}"')
    )
    (workdir / "silence.ulaw").write_bytes(b"\xff" * 8000)  # 1 s, looped as the voice
    injection = workdir / f"numbers_{tag}.csv"
    injection.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers))
    log = workdir / f"caller_{tag}.log"
    port = sipp.free_port(sipp.CARRIER_IP)
    limit = len(numbers) / rate + patience_ms / 1000 + talk_s + 60
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        "sipp",
        *("-sf", str(scenario), "-inf", str(injection), "-s", target),
        *("-i", sipp.CARRIER_IP, "-p", str(port), "-mp", str(sipp.free_port(sipp.CARRIER_IP))),
        *("-r", f"{rate:g}", "-rp", "1000", "-m", str(len(numbers)), "-l", str(len(numbers))),
        *("-trace_logs", "-log_file", str(log), "-nostdin", "-timeout", f"{int(limit)}s"),
        sipp.ASTERISK,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        cwd=workdir,
    )
    relay = asyncio.create_task(Relay(log, (sipp.CARRIER_IP, port), phones).run())
    try:
        _, err = await asyncio.wait_for(proc.communicate(), limit + 10)
    finally:
        relay.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await relay
        if proc.returncode is None:  # interrupted: no BYEs were sent, so end the calls here
            proc.kill()
            await proc.wait()
            await asyncio.to_thread(hang_up_callers, set(numbers))
    wall = time.monotonic() - started
    if proc.returncode not in (0, 1):  # 1: some calls failed, counted from the log
        print(f"sipp caller exited {proc.returncode}: {err.decode(errors='replace')[-1500:]}")
    calls: dict[str, Call] = {}
    for fields in (line.split() for line in log.read_text().splitlines() if line.strip()):
        kind, number = fields[0], fields[1]
        if kind == "dial":
            calls[number] = Call(number, _stamp(fields))
        elif kind == "connected" and number in calls:
            calls[number].connected = _stamp(fields)
        elif number in calls:
            calls[number].end = kind
    return [calls[n] for n in numbers if n in calls], wall


def hang_up_callers(numbers: set[str]) -> None:
    """Hang up, through ARI, the channels of callers presenting one of ``numbers``."""
    user = os.environ.get("HOTLINE_ARI_USER", "hotline")
    token = base64.b64encode(f"{user}:{os.environ['HOTLINE_ARI_PASSWORD']}".encode()).decode()
    for channel in ari_get("/channels") or []:
        if channel.get("caller", {}).get("number") not in numbers:
            continue
        request = urllib.request.Request(
            f"{ARI}/ari/channels/{channel['id']}",
            method="DELETE",
            headers={"Authorization": f"Basic {token}"},
        )
        with contextlib.suppress(OSError), urllib.request.urlopen(request, timeout=5):
            pass


def match_operators(calls: list[Call], phones: list[BenchPhone]) -> list[float]:
    """Fill in each call's first offer and its answer from the softphones' logs. Returns
    the idle gaps (s): from an operator's call ending to its next offer (these calls only)."""
    by_number = {c.number: c for c in calls}
    gaps: list[float] = []
    for phone in phones:
        numbers: dict[str, str] = {}  # operator leg Call-ID -> caller number
        on_call: set[str] = set()
        free_since: float | None = None
        for fields in phone.lines():
            if len(fields) < 3:
                continue  # "registered <expires>"
            kind, at = fields[0], _stamp(fields)
            if kind == "invite" and len(fields) >= 4:
                call = by_number.get(fields[2])
                if call is None:
                    continue  # another phase's
                numbers[fields[1]] = fields[2]
                if call.offered is None or at < call.offered:
                    call.offered = at
                if free_since is not None and not on_call:
                    gaps.append(at - free_since)
                free_since = None
            elif fields[1] not in numbers:
                continue
            elif kind == "answered":
                on_call.add(fields[1])
                call = by_number[numbers[fields[1]]]
                if call.answered is None or at < call.answered:
                    call.answered = at
            elif kind in ("hung_up", "ended", "cancelled"):
                on_call.discard(fields[1])
                free_since = None if on_call else at
    return gaps


# -- the service and its admin API ---------------------------------------------------------


class Floor:
    """The benchmark's operators, queue and line route in the service; undone by undo()."""

    def __init__(self, service: Service, http: aiohttp.ClientSession) -> None:
        self.service = service
        self.http = http
        self.password = secrets.token_hex(12)
        self.operators: dict[str, int] = {}  # user name -> id
        self.queue_made = False
        self.line: dict[str, Any] | None = None

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

    async def setup(self, operators: int) -> None:
        await self.api(
            "POST",
            "/api/queues",
            {
                "name": QUEUE,
                "display_name": "benchmark",
                "strategy": "longest_idle",
                "ring_timeout_s": 15,
                "wrapup_s": 0,
                "service_level_s": 10,
                "announce_every_s": None,
                # app_queue has no callbacks: neither does the service's queue here, so that
                # the two are compared on the same calls (an abandoned caller's callback would
                # otherwise be offered, and counted, later)
                "callback_on_abandon": False,
            },
        )
        self.queue_made = True
        lines = await self.api("GET", "/api/lines")
        self.line = next(x for x in lines if x["entry"] == "hotline")
        await self.api("PATCH", "/api/lines/hotline", {"queue": QUEUE})
        for i in range(1, operators + 1):
            name = f"benchop{i}"
            made = await self.api(
                "POST",
                "/api/operators",
                {"username": name, "display_name": name, "sip_password": self.password},
            )
            self.operators[name] = int(made["id"])
            await self.api("PUT", f"/api/queues/{QUEUE}/members/{made['id']}", {"penalty": 0})

    async def state(self, name: str, state: str) -> None:
        await self.api("PUT", f"/api/operators/{self.operators[name]}/state", {"state": state})

    async def undo(self) -> None:
        """Best effort, each step on its own: restore the line, delete operators and queue."""
        steps: list[tuple[str, str, object]] = []
        if self.line is not None:
            keep = ("queue", "opens", "closes", "after_hours_queue")
            steps.append(("PATCH", "/api/lines/hotline", {k: self.line[k] for k in keep}))
        steps += [("DELETE", f"/api/operators/{op_id}", None) for op_id in self.operators.values()]
        if self.queue_made:  # refused (409) once calls were queued: dropped with the database
            steps.append(("DELETE", f"/api/queues/{QUEUE}", None))
        for method, path, body in steps:
            try:
                await self.api(method, path, body)
            except RuntimeError as err:
                if not (
                    method == "DELETE" and path.startswith("/api/queues/") and " 409 " in str(err)
                ):
                    print(f"clean-up: {method} {path} failed: {err}")
            except (aiohttp.ClientError, TimeoutError) as err:
                print(f"clean-up: {method} {path} failed: {err}")


@contextlib.asynccontextmanager
async def running_service(database: str, workdir: Path) -> AsyncIterator[Service]:
    service = Service(database, workdir)
    service.port = free_tcp_port()
    await service.start(HOTLINE_LOG_LEVEL="WARNING", HOTLINE_GREETING=GREETING)
    try:
        yield service
    finally:
        if service.proc is not None:
            await service.stop()


# -- the run -------------------------------------------------------------------------------


@dataclass
class Load:
    title: str
    operators: int
    rate: float
    calls: int
    talk_s: float
    patience_s: float


async def run_load(
    load: Load,
    code: int,
    floor: Floor,
    phones: list[BenchPhone],
    service: Service,
    args: argparse.Namespace,
    workdir: Path,
) -> list[Phase]:
    """The load through app_queue, then through the service. Its softphones are added to
    ``phones`` (stopped by the caller); ``code`` numbers its callers and addresses."""
    scenario = operator_scenario(workdir, args.ring_ms, round(load.talk_s * 1000))
    active = [
        BenchPhone(f"benchop{i + 1}", floor.password, f"127.0.0.{200 + 10 * code + i}", scenario)
        for i in range(load.operators)
    ]
    phones += active
    for phone in active:
        await phone.start()
    for name in floor.operators:
        ready = name in {p.endpoint for p in active}
        await floor.state(name, "ready" if ready else "logged_out")
    await settle({p.endpoint for p in active}, set(floor.operators))
    phases = []
    for i, target in enumerate((BASELINE, SERVICE)):
        numbers = [f"139{2 * code + i}{n:07d}" for n in range(1, load.calls + 1)]
        assert service.proc is not None
        cpu_before = cpu_seconds(service.proc.pid)
        print(f"{load.title}: {load.calls} calls to {NAMES[target]} ...", flush=True)
        calls, wall = await place_calls(
            target, numbers, load.rate, round(load.patience_s * 1000), load.talk_s, active, workdir
        )
        cpu = cpu_seconds(service.proc.pid) - cpu_before if target == SERVICE else None
        await asyncio.sleep(1.5)  # the last BYEs, and the softphones' logs written
        gaps = match_operators(calls, active)
        phases.append(Phase(target, calls, wall, cpu, gaps_s=gaps))
    for phone in active:  # kept for --keep-logs
        lines = "".join(" ".join(fields) + "\n" for fields in phone.lines())
        (workdir / f"operator_{code}_{phone.endpoint}.log").write_text(lines)
    for phone in active:  # unregistered: app_queue's member goes unavailable
        await phone.stop()
    return phases


def device_state(endpoint: str) -> str:
    data = ari_get(f"/deviceStates/PJSIP%2F{endpoint}")
    return str(data.get("state")) if data else "UNKNOWN"


async def settle(active: set[str], members: set[str], limit: float = 45.0) -> None:
    """Wait until Asterisk's device states (what app_queue goes by) show this load's
    operators free and the others unavailable."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    while True:
        states = {m: await asyncio.to_thread(device_state, m) for m in sorted(members)}
        wrong = {
            m: s
            for m, s in states.items()
            if (s != "NOT_INUSE" if m in active else s != "UNAVAILABLE")
        }
        waited = loop.time() - started
        if not wrong:
            if waited > 2:
                print(f"  (device states settled after {waited:.0f} s)", flush=True)
            await asyncio.sleep(1)
            return
        if waited > limit:
            print(f"  warning: device states still {wrong} after {limit:.0f} s", flush=True)
            return
        await asyncio.sleep(0.5)


async def run(args: argparse.Namespace) -> tuple[list[Phase], list[Phase]]:
    operators = max(args.operators, args.overload_operators)
    if operators > MAX_OPERATORS:
        raise SystemExit(f"at most {MAX_OPERATORS} operators (queues.conf's members)")
    free = Load(
        "free operators", args.operators, args.rate, args.calls, args.talk_s, args.patience_s
    )
    overload = Load(
        "overload",
        args.overload_operators,
        args.overload_rate,
        round(args.overload_rate * args.overload_seconds),
        args.overload_talk_s,
        args.patience_s,
    )
    async with bench_database() as database:
        with tempfile.TemporaryDirectory(prefix="bench-queues-") as tmp:
            workdir = Path(tmp)
            async with (
                running_service(database, workdir) as service,
                aiohttp.ClientSession() as http,
            ):
                floor = Floor(service, http)
                phones: list[BenchPhone] = []
                try:
                    await floor.setup(operators)
                    first = await run_load(free, 0, floor, phones, service, args, workdir)
                    second = await run_load(overload, 1, floor, phones, service, args, workdir)
                finally:
                    for phone in phones:
                        await phone.stop()
                    await floor.undo()
                    if args.keep_logs:
                        shutil.copytree(workdir, args.keep_logs, dirs_exist_ok=True)
    return first, second


# -- the report ----------------------------------------------------------------------------


def report(free: list[Phase], overload: list[Phase], args: argparse.Namespace) -> None:
    print(
        f"\nqueue benchmark: the same Asterisk and softphones; before queueing, both answer and"
        f" play {GREETING} (app_queue: Playback(beep); service: HOTLINE_GREETING={GREETING});"
        f" operators answer after {args.ring_ms} ms"
    )
    print(
        f"\nfree operators: {args.operators} operators talking {args.talk_s:g} s;"
        f" {args.calls} calls per system at {args.rate:g} calls/s"
    )
    print("time from the caller's INVITE to the first operator's INVITE")
    print(
        f"{'target':<26}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'offered':>9}{'answered':>10}"
        f"{'failed':>8}{'calls/s':>9}{'CPU ms/call':>13}"
    )
    for p in free:
        cps = len(p.calls) / p.wall_s if p.wall_s else 0.0
        print(
            f"{NAMES[p.target]:<26}{percentile(p.offer_ms, 50):>8.0f}"
            f"{percentile(p.offer_ms, 99):>8.0f}{max(p.offer_ms, default=float('nan')):>8.0f}"
            f"{len(p.offer_ms):>9}{len(p.answered):>10}{p.failed:>8}{cps:>9.1f}"
            f"{p.cpu_ms_per_call():>13}"
        )
    base, ours = free
    if base.offer_ms and ours.offer_ms:
        print(
            f"the service vs app_queue: p50 {percentile(ours.offer_ms, 50) - percentile(base.offer_ms, 50):+.0f} ms,"  # noqa: E501
            f" p99 {percentile(ours.offer_ms, 99) - percentile(base.offer_ms, 99):+.0f} ms"
        )
    calls = len(overload[0].calls)
    print(
        f"\noverload: {args.overload_operators} operators talking {args.overload_talk_s:g} s;"
        f" {calls} calls per system at {args.overload_rate:g} calls/s;"
        f" callers no operator answered in {args.patience_s:g} s hang up"
    )
    sl = f"SL {args.sl_seconds:g} s"
    print(
        f"{'target':<26}{sl:>12}{'answered':>10}{'abandoned':>11}{'failed':>8}"
        f"{'wait p50 s':>12}{'idle p50 ms':>13}{'CPU ms/call':>13}"
    )
    for p in overload:
        waits = [c.answered - c.dialled for c in p.answered if c.answered]
        within = p.within(args.sl_seconds)
        share = f"{100 * within / max(len(p.calls), 1):.0f}% ({within})"
        abandoned = sum(1 for c in p.calls if c.end == "gave_up")
        print(
            f"{NAMES[p.target]:<26}{share:>12}{len(p.answered):>10}{abandoned:>11}"
            f"{p.failed:>8}{percentile(waits, 50):>12.1f}"
            f"{1000 * percentile(p.gaps_s, 50):>13.0f}{p.cpu_ms_per_call():>13}"
        )
    print(
        f"SL: calls answered by an operator within {args.sl_seconds:g} s of the INVITE, of all"
        " calls; wait: INVITE to the operator's answer (answered calls); idle: an operator's"
        " call ended to its next offer, callers waiting"
    )
    lags = [
        1000 * (c.connected - c.answered)
        for p in free + overload
        for c in p.calls
        if c.connected and c.answered
    ]
    print(
        f"the callers learnt of the answer (bench relay) p50 {percentile(lags, 50):.0f} ms,"
        f" max {max(lags, default=float('nan')):.0f} ms after it"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.queues",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    knobs = parser.add_argument_group("free operators")
    knobs.add_argument("--operators", type=int, default=8, metavar="N", help="softphones [8]")
    knobs.add_argument("--rate", type=float, default=3.0, metavar="R", help="calls/s [3]")
    knobs.add_argument("--calls", type=int, default=300, metavar="N", help="per system [300]")
    knobs.add_argument("--talk-s", type=float, default=1.5, metavar="S", help="talk time [1.5]")
    over = parser.add_argument_group("overload")
    over.add_argument(
        "--overload-operators", type=int, default=3, metavar="N", help="softphones [3]"
    )
    over.add_argument("--overload-rate", type=float, default=1.0, metavar="R", help="calls/s [1]")
    over.add_argument(
        "--overload-seconds", type=float, default=90, metavar="S", help="placing calls for [90]"
    )
    over.add_argument(
        "--overload-talk-s", type=float, default=8.0, metavar="S", help="talk time [8]"
    )
    over.add_argument(
        "--sl-seconds", type=float, default=10.0, metavar="S", help="service level target [10]"
    )
    both = parser.add_argument_group("both loads")
    both.add_argument(
        "--patience-s",
        type=float,
        default=30.0,
        metavar="S",
        help="a caller no operator answered this long after dialling hangs up [30]",
    )
    both.add_argument(
        "--ring-ms", type=int, default=200, metavar="MS", help="operators answer after [200]"
    )
    both.add_argument(
        "--keep-logs", type=Path, metavar="DIR", help="copy the SIPp logs and scenarios to DIR"
    )
    args = parser.parse_args()
    default_pg()

    free, overload = run_until_done(
        lambda: run(args), "interrupted (operators, queue, line and softphones undone)"
    )
    report(free, overload, args)


if __name__ == "__main__":
    main()
