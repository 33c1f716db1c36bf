"""Emergency benchmark: how fast help is called once an operator confirms an emergency, how
fast a terminal's call reaches an operator next to a hotline call, and how long the spoken
summary takes to synthesise, in one run.

  confirmation    --emergencies N, one after another: an elder's terminal calls (SIPp from
                  the terminal gateway 127.0.0.3, line `terminal`), an operator's softphone
                  answers, the operator confirms (POST /api/calls/{id}/emergency); time from
                  just before that request to the INVITE reaching 120 and each tier-1 family
                  number (--family, all behind the carrier trunk), p50/p99. The conference
                  is then ended through the API and the next emergency starts once Asterisk
                  is empty. Each emergency is a new made-up elder (SQL), so the service
                  synthesises that elder's summary while it dials, as it would for real.
  lines           --line-calls per line at --line-rate calls/s each, both lines at once
                  (the hotline's calls half a period after the terminal's): calls from
                  terminals (127.0.0.3, line `terminal`: no greeting) and calls to the
                  hotline number 12349 (127.0.0.2, line `hotline`, with its greeting
                  HOTLINE_GREETING=sound:beep), both lines routed to one queue of
                  --operators softphones; time from the caller's INVITE to the first
                  operator's INVITE, p50/p99 per line
  summary         bench.speech's run: emergency_summary() of --elders made-up elders said
                  by Speech into a temporary directory (cold), then one of them again
                  --runs times (cached)

The phones behind the carrier trunk (127.0.0.2:5060: every PJSIP/<number>@pstn) are this
script: a UDP SIP responder that notes when each INVITE arrives, by request-URI user, on the
same clock (time.monotonic()) as the confirmation, and answers 100 Trying and 486 Busy Here
at once, so the outside legs end there and nothing piles up. The callers
(bench/caller_timed.xml) and the operators' softphones (bench/operator_timed.xml: ring
--ring-ms, hang up after --talk-s) log their INVITEs with SIPp's Unix timestamps (one
machine: one clock).

    set -a; . /var/lib/hotline/secrets.env; set +a
    export HOTLINE_SOUNDS_DIR=$(asterisk-docker/sandbox.sh sounds)
    .venv/bin/python -m bench.emergency

Needs the sandbox Asterisk (this repo's dialplan and pjsip.conf) and PostgreSQL up, espeak-ng
and sox, and nothing else using the sandbox or 127.0.0.2:5060: the service syncs Asterisk's
operator accounts to its own (scratch) database. Everything the run creates (its operators,
queues, line routes, softphones, SIPp callers, the conferences' recordings, the summaries
the service synthesised into HOTLINE_SOUNDS_DIR, the service and its database) is undone at
the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import platform
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import aiohttp
import asyncpg
from tests.integration import sipp
from tests.integration.conftest import Service, ari_request
from tests.integration.floorkit import Floor
from tests.integration.pg import _dsn
from tests.integration.softphone import Softphone, next_ip

from bench import speech
from bench.common import asterisk_empty, bench_database, default_pg, percentile, run_until_done
from bench.queues import (
    GREETING,
    BenchPhone,
    Call,
    hang_up_callers,
    match_operators,
    operator_scenario,
    running_service,
)

HERE = Path(__file__).resolve().parent
TERMINAL = "112"  # what a terminal dials (any extension of from-terminals is the line)
HOTLINE = "12349"  # the hotline number, from the carrier
AMBULANCE = "120"
DISTRICT = "基准区"  # the made-up elders' district, with its own route to 120
LINE_NAMES = {
    TERMINAL: "terminal (127.0.0.3, no greeting)",
    HOTLINE: f"hotline 12349 (127.0.0.2, {GREETING})",
}


# -- the carrier: every outside phone, busy ------------------------------------------------


@dataclass(frozen=True)
class Invite:
    user: str  # the request-URI's user: the number dialled
    call_id: str
    at: float  # time.monotonic() on arrival


_COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id"}
_RURI_USER = re.compile(r"^sips?:([^@;>]+)@")


class Carrier(asyncio.DatagramProtocol):
    """The phones behind the carrier trunk: a SIP responder on 127.0.0.2:5060 noting the
    arrival of every INVITE (the first of each Call-ID) and answering it 100 Trying then
    486 Busy Here, retransmissions alike; ACKs are ignored, other requests get 200 OK."""

    def __init__(self) -> None:
        self.invites: list[Invite] = []
        self._seen: set[str] = set()
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        at = time.monotonic()
        head = data.decode(errors="replace").split("\r\n\r\n", 1)[0].split("\r\n")
        start = head[0].split()
        if len(start) < 3 or start[0].startswith("SIP/") or start[0] == "ACK":
            return  # a response (we send no requests), or the ACK of our 486
        headers: list[tuple[str, str]] = []
        for line in head[1:]:
            name, sep, value = line.partition(":")
            if sep:
                key = name.strip().lower()
                headers.append((_COMPACT.get(key, key), value.strip()))
        call_id = next((v for k, v in headers if k == "call-id"), "")
        if start[0] != "INVITE":
            self._reply(addr, headers, "200 OK", call_id)
            return
        if call_id not in self._seen:
            self._seen.add(call_id)
            match = _RURI_USER.match(start[1])
            self.invites.append(Invite(match.group(1) if match else start[1], call_id, at))
        self._reply(addr, headers, "100 Trying", call_id)
        self._reply(addr, headers, "486 Busy Here", call_id)

    def _reply(
        self, addr: tuple[str | Any, int], headers: list[tuple[str, str]], status: str, call_id: str
    ) -> None:
        tag = hashlib.sha1(call_id.encode()).hexdigest()[:12]
        lines = [f"SIP/2.0 {status}"]
        for key, value in headers:
            if key == "via":
                lines.append(f"Via: {value}")
            elif key == "from":
                lines.append(f"From: {value}")
            elif key == "to":
                needs_tag = not status.startswith("100") and ";tag=" not in value
                lines.append(f"To: {value}" + (f";tag={tag}" if needs_tag else ""))
            elif key == "call-id":
                lines.append(f"Call-ID: {value}")
            elif key == "cseq":
                lines.append(f"CSeq: {value}")
        lines += ["Server: hotline-bench-carrier", "Content-Length: 0", "", ""]
        if self._transport is not None:
            self._transport.sendto("\r\n".join(lines).encode(), addr)

    def first(self, user: str, since: float) -> float | None:
        """When the first INVITE for ``user`` at or after ``since`` arrived."""
        return min((i.at for i in self.invites if i.user == user and i.at >= since), default=None)


@contextlib.asynccontextmanager
async def carrier() -> AsyncIterator[Carrier]:
    loop = asyncio.get_running_loop()
    try:
        transport, protocol = await loop.create_datagram_endpoint(
            Carrier, local_addr=(sipp.CARRIER_IP, 5060)
        )
    except OSError as err:
        raise SystemExit(f"cannot take {sipp.CARRIER_IP}:5060 for the carrier: {err}") from None
    try:
        yield protocol
    finally:
        transport.close()


# -- SIPp callers --------------------------------------------------------------------------


class Callers:
    """SIPp processes placing calls with bench/caller_timed.xml; stop_all() ends any left."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.running: set[asyncio.subprocess.Process] = set()
        self.numbers: set[str] = set()
        (workdir / "silence.ulaw").write_bytes(b"\xff" * 8000)  # 1 s, looped as the voice

    def scenario(self, patience_ms: int) -> Path:
        path = self.workdir / f"caller_{patience_ms}.xml"
        if not path.exists():
            text = (HERE / "caller_timed.xml").read_text()
            path.write_text(text.replace('"PATIENCE_MS"', f'"{patience_ms}"'))
        return path

    async def place(
        self,
        target: str,
        numbers: list[str],
        *,
        ip: str,
        rate: float,
        patience_ms: int,
        tag: str,
        delay_s: float = 0.0,
    ) -> tuple[asyncio.subprocess.Process, Path]:
        """Start SIPp calling ``target`` from ``ip`` at ``rate``/s, one call per number
        (presented as the caller's number); returns the process and its log."""
        await asyncio.sleep(delay_s)
        injection = self.workdir / f"numbers_{tag}.csv"
        injection.write_text("SEQUENTIAL\n" + "".join(f"{n};\n" for n in numbers))
        log = self.workdir / f"caller_{tag}.log"
        limit = len(numbers) / rate + patience_ms / 1000 + 60
        self.numbers.update(numbers)
        proc = await asyncio.create_subprocess_exec(
            "sipp",
            *("-sf", str(self.scenario(patience_ms)), "-inf", str(injection), "-s", target),
            *("-i", ip, "-p", str(sipp.free_port(ip)), "-mp", str(sipp.free_port(ip))),
            *("-r", "1", "-rp", str(round(1000 / rate)), "-m", str(len(numbers))),
            *("-l", str(len(numbers)), "-trace_logs", "-log_file", str(log)),
            *("-nostdin", "-timeout", f"{int(limit)}s"),
            sipp.ASTERISK,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL,
            cwd=self.workdir,
        )
        self.running.add(proc)
        return proc, log

    async def finish(self, proc: asyncio.subprocess.Process, limit: float) -> int:
        try:
            code = await asyncio.wait_for(proc.wait(), limit)
        finally:
            if proc.returncode is None:
                await sipp.terminate(proc)
            self.running.discard(proc)
        return code

    async def stop_all(self) -> None:
        """Interrupted: stop SIPp (no BYEs were sent) and hang up its calls through ARI."""
        if not self.running:
            return
        for proc in list(self.running):
            await sipp.terminate(proc)
        self.running.clear()
        await asyncio.to_thread(hang_up_callers, self.numbers)


def read_calls(log: Path) -> dict[str, Call]:
    """The calls in a caller log, by number: dial time (Unix seconds) and how each ended."""
    calls: dict[str, Call] = {}
    with contextlib.suppress(FileNotFoundError):
        for fields in (line.split() for line in log.read_text().splitlines() if line.strip()):
            kind, number = fields[0], fields[1]
            if kind == "dial":
                calls[number] = Call(number, float(fields[-1]))
            elif kind == "connected" and number in calls:
                calls[number].connected = float(fields[-1])
            elif number in calls:
                calls[number].end = kind
    return calls


# -- the service's floor -------------------------------------------------------------------


class BenchFloor(Floor):
    """floorkit's queues, operators and line routes, undone step by step, best effort."""

    async def make_queue(self) -> str:
        return await self.queue(
            ring_timeout_s=15, wrapup_s=0, announce_every_s=None, callback_on_abandon=False
        )

    async def bench_operator(self, queue: str, scenario: Path) -> BenchPhone:
        """An operator of ``queue`` on a softphone playing bench/operator_timed.xml, ready."""
        name = f"b{secrets.token_hex(4)}"
        password = secrets.token_hex(8)
        made = await self.api(
            "POST",
            "/api/operators",
            {"username": name, "display_name": name, "sip_password": password},
        )
        self.operators.append(int(made["id"]))
        await self.api("PUT", f"/api/queues/{queue}/members/{made['id']}", {"penalty": 0})
        phone = BenchPhone(name, password, next_ip(), scenario)
        self.phones.append(phone)  # stopped (unregistered) by undo()
        await phone.start()
        await self.state(int(made["id"]), "ready")
        return phone

    async def undo(self) -> None:
        for phone in self.phones:
            try:
                await phone.stop()
            except Exception as err:  # the rest is undone all the same
                print(f"clean-up: softphone {phone.endpoint}: {err!r}")
        keep = ("queue", "opens", "closes", "after_hours_queue")
        steps: list[tuple[str, str, object]] = [
            ("PATCH", f"/api/lines/{entry}", {k: line[k] for k in keep})
            for entry, line in self.lines.items()
        ]
        steps += [("DELETE", f"/api/operators/{op_id}", None) for op_id in self.operators]
        for method, path, body in steps:
            try:
                await self.api(method, path, body)
            except (AssertionError, aiohttp.ClientError, TimeoutError) as err:
                print(f"clean-up: {method} {path} failed: {err!r}")


# -- part 1: confirmation to the outside INVITEs -------------------------------------------


@dataclass(frozen=True)
class Elder:
    id: int
    terminal: str
    family: list[str]  # tier 1


async def make_elder(db: asyncpg.Connection, i: int, family: int) -> Elder:
    """A made-up elder of DISTRICT (bench.speech's facts), a terminal, ``family`` tier-1
    contacts and one of tier 2."""
    facts = speech.elder(i)
    address = (facts.address or "").replace(facts.district or "", DISTRICT)
    born = dt.date(dt.date.today().year - (facts.age or 80), 5, 1)
    elder_id = await db.fetchval(
        "INSERT INTO elders (full_name, birth_date, address, district, health_conditions,"
        " medication, living_situation) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        facts.full_name,
        born,
        address,
        DISTRICT,
        facts.health_conditions,
        facts.medication,
        facts.living_situation,
    )
    terminal = f"1869{i:07d}"
    await db.execute("INSERT INTO terminals (elder_id, number) VALUES ($1, $2)", elder_id, terminal)
    numbers = [f"1391{i:05d}{k:02d}" for k in range(family + 1)]
    for k, n in enumerate(numbers):
        await db.execute(
            "INSERT INTO contacts (elder_id, full_name, relation, tier, number)"
            " VALUES ($1, '家属', '子女', $2, $3)",
            elder_id,
            1 if k < family else 2,
            n,
        )
    return Elder(elder_id, terminal, numbers[:family])


@dataclass
class Confirmation:
    reply_ms: float  # the confirmation request's answer
    ambulance_ms: float | None
    family_ms: list[float | None]

    @property
    def last_ms(self) -> float | None:
        """When everyone of the opening had been dialled (None: someone never was)."""
        all_ms = [self.ambulance_ms, *self.family_ms]
        return None if None in all_ms else max(m for m in all_ms if m is not None)


async def live_call(db: asyncpg.Connection, since: dt.datetime, limit: float = 20) -> Any:
    """The terminal call an operator has answered since ``since``: (id, case_id)."""
    async with asyncio.timeout(limit):
        while True:
            row = await db.fetchrow(
                "SELECT id, case_id FROM calls WHERE started_at >= $1 AND entry = 'terminal'"
                " AND connected_at IS NOT NULL ORDER BY started_at DESC LIMIT 1",
                since,
            )
            if row is not None:
                return row
            await asyncio.sleep(0.05)


async def dialled(outside: Carrier, numbers: list[str], since: float, limit: float) -> None:
    """Wait until every number has had an INVITE since ``since`` (or ``limit`` passed)."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if all(outside.first(n, since) is not None for n in numbers):
            return
        await asyncio.sleep(0.02)


async def one_emergency(
    i: int,
    elder: Elder,
    floor: BenchFloor,
    phone: Softphone,
    db: asyncpg.Connection,
    outside: Carrier,
    callers: Callers,
) -> Confirmation:
    since = dt.datetime.now(dt.UTC)
    proc, _ = await callers.place(
        TERMINAL,
        [elder.terminal],
        ip=sipp.TERMINAL_GATEWAY_IP,
        rate=1,
        patience_ms=120_000,
        tag=f"emergency_{i}",
    )
    await phone.wait_for("answered", i + 1, limit=20)
    call = await live_call(db, since)
    steps = f"/api/calls/{call['id']}/emergency"
    try:
        confirmed = time.monotonic()
        reply = await floor.api("POST", steps)
        reply_ms = 1000 * (time.monotonic() - confirmed)
        if reply != {"status": "confirmed"}:
            raise RuntimeError(f"emergency {i}: the confirmation was answered {reply}")
        await dialled(outside, [AMBULANCE, *elder.family], confirmed, limit=10)
    except BaseException:  # the conference (if any) ended, so that nothing calls on
        with contextlib.suppress(Exception):
            await floor.api("POST", f"{steps}/end")
        raise

    def ms(number: str) -> float | None:
        at = outside.first(number, confirmed)
        return None if at is None else 1000 * (at - confirmed)

    result = Confirmation(reply_ms, ms(AMBULANCE), [ms(n) for n in elder.family])
    ended = await floor.api("POST", f"{steps}/end")
    if ended != {"status": "ended"}:
        raise RuntimeError(f"emergency {i}: ending the conference was answered {ended}")
    if await callers.finish(proc, 20) != 0:
        print(f"  emergency {i}: the terminal's SIPp did not end cleanly")
    await phone.wait_for("ended", i + 1, limit=15)
    await asterisk_empty(15)
    return result


async def run_emergencies(
    args: argparse.Namespace,
    floor: BenchFloor,
    database: str,
    outside: Carrier,
    callers: Callers,
) -> list[Confirmation]:
    queue = await floor.make_queue()
    await floor.route("terminal", queue)
    routes = await floor.api("GET", "/api/emergency/routes")
    if any(r["area"] == DISTRICT for r in routes):  # a second round on the same service
        await floor.api("PUT", f"/api/emergency/routes/{DISTRICT}", {"ambulance": AMBULANCE})
    else:
        await floor.api("POST", "/api/emergency/routes", {"area": DISTRICT, "ambulance": AMBULANCE})
    op_id, phone = await floor.operator({queue: 0}, behaviour="answer")
    print(f"confirmation: {args.emergencies} emergencies ...", flush=True)
    results: list[Confirmation] = []
    db = await asyncpg.connect(_dsn(database))
    try:
        # A second round on the same database (bench.login_flood) makes new elders.
        made = int(await db.fetchval("SELECT count(*) FROM elders WHERE district = $1", DISTRICT))
        for i in range(args.emergencies):
            elder = await make_elder(db, made + i, args.family)
            results.append(await one_emergency(i, elder, floor, phone, db, outside, callers))
    finally:
        await db.close()
        with contextlib.suppress(AssertionError, aiohttp.ClientError, TimeoutError):
            await floor.state(op_id, "logged_out")
    return results


# -- part 2: a terminal's call and a hotline call to the first operator INVITE -------------


@dataclass
class LineCalls:
    target: str
    calls: list[Call]

    @property
    def offer_ms(self) -> list[float]:
        return [1000 * (c.offered - c.dialled) for c in self.calls if c.offered]

    @property
    def failed(self) -> int:
        return sum(c.end is None for c in self.calls)


async def run_lines(
    args: argparse.Namespace, floor: BenchFloor, callers: Callers, workdir: Path
) -> list[LineCalls]:
    queue = await floor.make_queue()
    scenario = operator_scenario(workdir, args.ring_ms, round(args.talk_s * 1000))
    phones = [await floor.bench_operator(queue, scenario) for _ in range(args.operators)]
    await floor.route("terminal", queue)
    await floor.route("hotline", queue)
    count = args.line_calls
    print(f"lines: {count} terminal and {count} hotline calls, at once ...", flush=True)
    numbers = {
        TERMINAL: [f"1868{n:07d}" for n in range(1, count + 1)],
        HOTLINE: [f"1397{n:07d}" for n in range(1, count + 1)],
    }
    ips = {TERMINAL: sipp.TERMINAL_GATEWAY_IP, HOTLINE: sipp.CARRIER_IP}
    patience_ms = round(args.patience_s * 1000)
    started = [
        callers.place(
            target,
            numbers[target],
            ip=ips[target],
            rate=args.line_rate,
            patience_ms=patience_ms,
            tag=f"line_{target}",
            delay_s=k * 0.5 / args.line_rate,
        )
        for k, target in enumerate((TERMINAL, HOTLINE))
    ]
    placed = await asyncio.gather(*started)
    limit = count / args.line_rate + args.patience_s + args.talk_s + 60
    codes = await asyncio.gather(*(callers.finish(proc, limit) for proc, _ in placed))
    for target, code in zip((TERMINAL, HOTLINE), codes, strict=True):
        if code not in (0, 1):  # 1: some calls failed, counted from the log
            print(f"  sipp caller {target} exited {code}")
    await asyncio.sleep(1.5)  # the last BYEs, and the softphones' logs written
    lines: list[LineCalls] = []
    all_calls: list[Call] = []
    for target, (_, log) in zip((TERMINAL, HOTLINE), placed, strict=True):
        by_number = read_calls(log)
        calls = [by_number[n] for n in numbers[target] if n in by_number]
        all_calls += calls
        lines.append(LineCalls(target, calls))
    match_operators(all_calls, phones)
    for phone in phones:  # kept for --keep-logs
        text = "".join(" ".join(f) + "\n" for f in phone.lines())
        (workdir / f"operator_{phone.endpoint}.log").write_text(text)
    return lines


# -- the run -------------------------------------------------------------------------------


def sound_files(directory: Path, prefix: str = "tts-") -> set[Path]:
    return set(directory.glob(f"{prefix}*.wav")) if directory.is_dir() else set()


async def recordings(database: str) -> list[str]:
    db = await asyncpg.connect(_dsn(database))
    try:
        return [r["name"] for r in await db.fetch("SELECT name FROM case_recordings")]
    finally:
        await db.close()


def drop_recordings(names: Iterable[str]) -> None:
    for name in names:
        try:
            ari_request("DELETE", f"/recordings/stored/{name}")
        except OSError as err:
            print(f"clean-up: recording {name}: {err!r}")


@dataclass
class Results:
    confirmations: list[Confirmation]
    lines: list[LineCalls]
    said: speech.Result
    synthesised: int  # shared sound files the service made during the run (then removed)
    private_left: int  # private ones (summaries: sum-*) still there after the run: should be 0


async def run(args: argparse.Namespace) -> Results:
    print("summary: synthesising ...", flush=True)
    said = await speech.run(args.elders, args.runs, args.rate)
    async with bench_database("hotline_bench_emergency") as database:
        with tempfile.TemporaryDirectory(prefix="bench-emergency-") as tmp:
            workdir = Path(tmp)
            sounds = Path(Service(database, workdir).env()["HOTLINE_SOUNDS_DIR"])
            before = sound_files(sounds)
            private_before = sound_files(sounds, "sum-")
            synthesised: set[Path] = set()
            private_left: set[Path] = set()
            try:
                async with (
                    carrier() as outside,
                    running_service(database, workdir) as service,
                    aiohttp.ClientSession() as http,
                ):
                    floor = BenchFloor(service, http)
                    callers = Callers(workdir)
                    try:
                        confirmations = await run_emergencies(
                            args, floor, database, outside, callers
                        )
                        lines = await run_lines(args, floor, callers, workdir)
                    finally:
                        await callers.stop_all()
                        await floor.undo()
                        if args.keep_logs:
                            shutil.copytree(workdir, args.keep_logs, dirs_exist_ok=True)
            finally:
                await asyncio.to_thread(drop_recordings, await recordings(database))
                synthesised = sound_files(sounds) - before  # family notices, one per name
                private_left = sound_files(sounds, "sum-") - private_before
                for path in synthesised | private_left:
                    path.unlink(missing_ok=True)
    return Results(confirmations, lines, said, len(synthesised), len(private_left))


# -- the report ----------------------------------------------------------------------------


def row(name: str, values: list[float], decimals: int = 0, width: int = 40) -> str:
    """name, n, p50, p99, max."""
    if not values:
        return f"{name:<{width}}{0:>5}{'-':>9}{'-':>9}{'-':>9}"
    return (
        f"{name:<{width}}{len(values):>5}{percentile(values, 50):>9.{decimals}f}"
        f"{percentile(values, 99):>9.{decimals}f}{max(values):>9.{decimals}f}"
    )


HEAD = f"{'':<40}{'n':>5}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"


def present(values: Iterable[float | None]) -> list[float]:
    return [v for v in values if v is not None]


def report(r: Results, args: argparse.Namespace) -> None:
    print(
        f"\nemergency benchmark: {os.cpu_count()} CPUs ({platform.machine()},"
        f" {platform.system()} {platform.release()}), the sandbox Asterisk,\nthe service on a"
        f" scratch database with HOTLINE_GREETING={GREETING} and the default emergency"
        " settings;\np99 is the nearest rank (with n under 100: the largest value or next to it)"
    )
    c = r.confirmations
    print(
        f"\n1. Confirmation to the outside INVITEs: {len(c)} emergencies one after another,"
        f" each a new elder\n   with {args.family} tier-1 contacts and a route to 120; 120 and"
        f" the family are a responder on {sipp.CARRIER_IP}:5060\n   answering 486 Busy Here at"
        " once. From just before the operator's confirmation request to the\n   first INVITE"
        " reaching:"
    )
    print(HEAD)
    print(row("120", present(x.ambulance_ms for x in c)))
    print(row("each tier-1 family number", present(m for x in c for m in x.family_ms)))
    print(row("the last of them (everyone dialled)", present(x.last_ms for x in c)))
    print(row("(the confirmation request's reply)", [x.reply_ms for x in c]))
    missing = sum(1 for x in c if x.last_ms is None)
    within = sum(1 for x in c if x.last_ms is not None and x.last_ms < 200)
    print(
        f"   target under 200 ms: met by {within} of {len(c)} emergencies (every INVITE)"
        + (f"; {missing} missed an INVITE for 10 s" if missing else "")
    )
    print(
        f"   meanwhile the service left {r.synthesised} new shared speech files (tts-*) in"
        f" HOTLINE_SOUNDS_DIR, and\n   {r.private_left} of the elders' private summaries (sum-*:"
        " each is removed when its conference ends); both removed after the run"
    )
    print(
        f"\n2. Caller's INVITE to the first operator's INVITE: {args.line_calls} calls per line"
        f" at {args.line_rate:g} calls/s each,\n   both lines at once (interleaved); one queue"
        f" of {args.operators} operators, answering after {args.ring_ms} ms, talking"
        f" {args.talk_s:g} s"
    )
    print(f"{HEAD}{'failed':>8}")
    for line in r.lines:
        print(f"{row(LINE_NAMES[line.target], line.offer_ms)}{line.failed:>8}")
    terminal, hotline = r.lines
    if terminal.offer_ms and hotline.offer_ms:
        p50 = percentile(terminal.offer_ms, 50) - percentile(hotline.offer_ms, 50)
        p99 = percentile(terminal.offer_ms, 99) - percentile(hotline.offer_ms, 99)
        print(f"   the terminal vs the hotline: p50 {p50:+.0f} ms, p99 {p99:+.0f} ms")
    s = r.said
    print(
        "\n3. Summary synthesis: Speech.say(emergency_summary(elder)), espeak-ng | sox at"
        f" {args.rate} words a minute,\n   into a temporary directory (bench.speech)"
    )
    print(HEAD)
    print(row("first (cold), a different elder each", s.cold_ms, 1))
    print(row("again (cached)", s.cached_ms, 2))
    print(
        f"   a summary plays for {percentile(s.cold_audio_s, 50):.1f} s (p50); the prompt set"
        f" ({s.prompts} prompts) took {s.prompts_cold_ms:.0f} ms cold"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.emergency",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    one = parser.add_argument_group("confirmation")
    one.add_argument(
        "--emergencies", type=int, default=20, metavar="N", help="one after another [20]"
    )
    one.add_argument("--family", type=int, default=2, metavar="N", help="tier-1 contacts [2]")
    two = parser.add_argument_group("lines")
    two.add_argument("--line-calls", type=int, default=30, metavar="N", help="per line [30]")
    two.add_argument(
        "--line-rate", type=float, default=0.5, metavar="R", help="calls/s per line [0.5]"
    )
    two.add_argument("--operators", type=int, default=4, metavar="N", help="softphones [4]")
    two.add_argument(
        "--ring-ms", type=int, default=200, metavar="MS", help="operators answer after [200]"
    )
    two.add_argument("--talk-s", type=float, default=1.0, metavar="S", help="talk time [1]")
    two.add_argument(
        "--patience-s",
        type=float,
        default=30.0,
        metavar="S",
        help="a caller no operator has hung up on this long after dialling gives up [30]",
    )
    three = parser.add_argument_group("summary")
    three.add_argument("--elders", type=int, default=8, metavar="N", help="cold summaries [8]")
    three.add_argument("--runs", type=int, default=50, metavar="N", help="cached says [50]")
    three.add_argument("--rate", type=int, default=120, metavar="WPM", help="speech rate [120]")
    parser.add_argument(
        "--keep-logs", type=Path, metavar="DIR", help="copy the SIPp logs and scenarios to DIR"
    )
    args = parser.parse_args()
    default_pg()

    results = run_until_done(
        lambda: run(args), "interrupted (operators, queues, lines, callers undone)"
    )
    report(results, args)


if __name__ == "__main__":
    main()
