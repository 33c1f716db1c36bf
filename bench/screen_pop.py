"""Screen pop benchmark: from the offer to the caller's record on the operator's console
socket, with a directory of a million generated elders (bench/elders.py).

  directory  a scratch database with the demo data; --small generated elders, then the rest
             up to --elders (set-based SQL, timed), each time VACUUM ANALYZE; the elder
             count in the database is printed
  reads      the pop's data read itself, `hotline.console.pop.load` called from this process
             on a pooled connection as the service's hub does, for --reads random elders
             (each once: cold, as a caller's record is), on --small elders and again on the
             million: p50/p99 side by side
  calls      the service (`hotline serve`, HOTLINE_GREETING=sound:beep) with --operators
             operators of a queue the `hotline` line routes to, each a SIPp softphone that
             answers after --ring-ms and a console logged in over HTTP with its WebSocket
             (/console/ws) open; the bench's own /api/events socket. --calls SIPp calls to
             12349, --operators at a time, each from a different random generated elder's
             phone, held --hold-ms. Per call: the offer's `at` (the service's clock, when
             the operator's softphone was rung) to the pop frame's arrival on the console
             socket (this machine's clock), and the gap between the call.offered frame's
             arrival on the event socket and the pop's. A pop must name the elder who
             called (id="pop-name"), else the call counts as failed and is printed.

    set -a; . /var/lib/hotline/secrets.env; set +a
    .venv/bin/python -m bench.screen_pop --calls 200

Needs the sandbox Asterisk and PostgreSQL up, and nothing else using the sandbox (run it
under flock /work/sandbox.lock beside the tests). Everything the run creates (operators,
queue, line route, softphones, SIPp callers, the service, the database) is undone at the
end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import html
import json
import random
import re
import secrets
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from sqlalchemy.ext.asyncio import AsyncEngine
from tests.integration import sipp
from tests.integration.pg import _dsn, sqlalchemy_url
from tests.integration.softphone import Softphone, next_ip

from bench import elders
from bench.common import bench_database, cpu_seconds, default_pg, percentile, run_until_done
from bench.emergency import BenchFloor
from bench.queues import hang_up_callers, running_service
from hotline.console import pop
from hotline.console.pop import CallFacts
from hotline.db.engine import make_engine

HOTLINE = "12349"
CONSOLE_COOKIE = "hotline_console"
_DATA_CALL = re.compile(r'data-call="([0-9a-f-]{36})"')
_POP_NAME = re.compile(r'id="pop-name">([^<]*)<')


# -- the data read, straight from this process ----------------------------------------------


async def timed_reads(engine: AsyncEngine, elder_ids: Sequence[int]) -> list[float]:
    """ms of pop.load for each elder (a fresh CallFacts, as the hub reads once the caller
    is identified), each on a pooled connection; one warm-up read first (not counted)."""
    today = dt.date.today()

    def facts(elder_id: int) -> CallFacts:
        return CallFacts(
            uuid.uuid4(),
            uuid.uuid4(),
            "hotline",
            elders.phone_of(elder_id),
            dt.datetime.now(dt.UTC),
            caller_kind="elder",
            elder_id=elder_id,
        )

    async with engine.connect() as conn:  # the pool's connection made
        await pop.load(conn, facts(elder_ids[0]), today)
    times = []
    for elder_id in elder_ids[1:]:
        started = time.perf_counter()
        async with engine.connect() as conn:
            data = await pop.load(conn, facts(elder_id), today)
        times.append(1000 * (time.perf_counter() - started))
        if data.record is None or data.record.id != elder_id:
            raise RuntimeError(f"pop.load found no record of elder {elder_id}")
    return times


# -- the console and the event stream --------------------------------------------------------


@dataclass
class Sockets:
    """Every frame of the operators' console sockets and of the event stream, with its
    arrival time (time.time())."""

    pops: dict[str, tuple[float, int, str]] = field(default_factory=dict)  # call -> first pop
    events: list[tuple[float, dict[str, Any]]] = field(default_factory=list)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def console(self, ws: aiohttp.ClientWebSocketResponse, operator_id: int) -> None:
        async with ws:
            while (msg := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
                at = time.time()
                text: str = msg.data
                if text.startswith('<section id="pop"'):
                    found = _DATA_CALL.search(text)
                    if found and found.group(1) not in self.pops:
                        self.pops[found.group(1)] = (at, operator_id, text)
        raise RuntimeError(f"a console socket closed ({ws.close_code})")

    async def stream(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async with ws:
            while (msg := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
                self.events.append((time.time(), json.loads(msg.data)))
        raise RuntimeError(f"the event stream closed ({ws.close_code})")

    def watch(self, work: Any) -> None:
        self.tasks.append(asyncio.create_task(work))

    def check(self) -> None:
        for task in self.tasks:
            if task.done():
                task.result()

    async def stop(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def first(self, kind: str, **match: Any) -> tuple[float, dict[str, Any]] | None:
        for at, event in self.events:
            if event.get("type") == kind and all(event.get(k) == v for k, v in match.items()):
                return at, event
        return None


class PopFloor(BenchFloor):
    async def console_operator(
        self, queue: str, console_password: str, ring_ms: int
    ) -> tuple[int, str]:
        """An operator of ``queue`` with a console password, on a softphone answering after
        ``ring_ms``, ready: (id, username)."""
        name = f"pop{secrets.token_hex(3)}"
        sip_password = secrets.token_hex(8)
        made = await self.api(
            "POST",
            "/api/operators",
            {
                "username": name,
                "display_name": name,
                "sip_password": sip_password,
                "console_password": console_password,
            },
        )
        op_id = int(made["id"])
        self.operators.append(op_id)
        await self.api("PUT", f"/api/queues/{queue}/members/{op_id}", {"penalty": 0})
        phone = Softphone(name, sip_password, next_ip(), "answer", ring_ms=ring_ms)
        self.phones.append(phone)  # stopped (unregistered) by undo()
        await phone.start()
        await self.state(op_id, "ready")
        return op_id, name


async def open_console(
    http: aiohttp.ClientSession, port: int, username: str, password: str
) -> aiohttp.ClientWebSocketResponse:
    """Log in to the console as a browser would (same-origin POST) and open its socket."""
    origin = f"http://127.0.0.1:{port}"
    async with http.post(
        f"{origin}/console/login",
        data={"username": username, "password": password},
        headers={"Origin": origin},
        allow_redirects=False,
    ) as response:
        cookie = response.cookies.get(CONSOLE_COOKIE)
        if response.status != 303 or cookie is None:
            raise RuntimeError(f"console login of {username}: {response.status}")
    return await http.ws_connect(
        f"{origin}/console/ws",
        headers={"Origin": origin, "Cookie": f"{CONSOLE_COOKIE}={cookie.value}"},
        max_msg_size=0,
    )


# -- the calls -------------------------------------------------------------------------------


@dataclass
class Caller:
    elder_id: int
    number: str
    name: str
    sipp_ok: bool = False


@dataclass
class Figures:
    offer_to_pop_ms: list[float] = field(default_factory=list)
    frame_gap_ms: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    cpu_ms_per_call: float = float("nan")
    wall_s: float = 0.0


async def callers(conn: asyncpg.Connection, ids: Sequence[int]) -> list[Caller]:
    rows = await conn.fetch(
        "SELECT e.id, p.number, e.full_name FROM elders e JOIN elder_phones p"
        " ON p.elder_id = e.id WHERE e.id = ANY($1::bigint[])",
        list(ids),
    )
    by_id = {r["id"]: Caller(r["id"], r["number"], r["full_name"]) for r in rows}
    return [by_id[i] for i in ids]


async def place_calls(
    todo: list[Caller], workers: int, hold_ms: int, sockets: Sockets, placed: set[str]
) -> None:
    """Each worker calls from the next elder's phone, one call at a time; the next call once
    the service has ended the last (call.ended), so each call finds a free operator."""
    queue = list(reversed(todo))

    async def worker() -> None:
        while queue:
            caller = queue.pop()
            placed.add(caller.number)
            run = await sipp.call(HOTLINE, caller.number, hold_ms=hold_ms, limit=30)
            caller.sipp_ok = run.ok
            with contextlib.suppress(TimeoutError):  # no end seen: measure() reports it
                async with asyncio.timeout(10):
                    while True:
                        sockets.check()
                        arrived = sockets.first("call.arrived", number=caller.number)
                        if arrived and sockets.first("call.ended", call_id=arrived[1]["call_id"]):
                            break
                        await asyncio.sleep(0.05)
            await asyncio.sleep(0.2)  # the operator's leg hung up, ready again

    await asyncio.gather(*(worker() for _ in range(workers)))


def measure(todo: list[Caller], sockets: Sockets) -> Figures:
    figures = Figures()
    for caller in todo:
        what = f"elder {caller.elder_id} ({caller.number})"
        if not caller.sipp_ok:
            figures.failures.append(f"{what}: SIPp call failed")
        arrived = sockets.first("call.arrived", number=caller.number)
        if arrived is None:
            figures.failures.append(f"{what}: no call.arrived")
            continue
        call_id = arrived[1]["call_id"]
        identified = sockets.first("call.identified", call_id=call_id)
        if identified is None or identified[1].get("elder_id") != caller.elder_id:
            figures.failures.append(f"{what}: identified as {identified and identified[1]}")
        offered = sockets.first("call.offered", call_id=call_id)
        if offered is None:
            figures.failures.append(f"{what}: never offered")
            continue
        popped = sockets.pops.get(call_id)
        if popped is None:
            figures.failures.append(f"{what}: offered, no pop on the console")
            continue
        received, operator_id, text = popped
        if operator_id not in offered[1]["operator_ids"]:
            figures.failures.append(f"{what}: pop on operator {operator_id}'s console")
        name = _POP_NAME.search(text)
        if name is None or html.unescape(name.group(1)) != caller.name:
            shown = "no name" if name is None else f"name {html.unescape(name.group(1))!r}"
            figures.failures.append(f"{what}: the pop shows {shown}, not {caller.name!r}")
            continue
        offered_at = dt.datetime.fromisoformat(offered[1]["at"]).timestamp()
        figures.offer_to_pop_ms.append(1000 * (received - offered_at))
        figures.frame_gap_ms.append(1000 * (received - offered[0]))
    return figures


# -- the run ---------------------------------------------------------------------------------


@dataclass
class Result:
    small: elders.Generated
    big: elders.Generated
    vacuum_s: float
    count: int
    db_size: str
    small_ms: list[float]
    big_ms: list[float]
    figures: Figures


async def run(args: argparse.Namespace) -> Result:
    rng = random.Random(args.seed)
    async with bench_database("hotline_pop") as database:
        conn = await asyncpg.connect(_dsn(database))
        engine = make_engine(sqlalchemy_url(database))
        try:
            print(f"generating {args.small} elders ...", flush=True)
            small = await elders.generate(conn, args.small)
            await elders.vacuum_analyze(conn)
            small_ids = range(small.first_id, small.last_id + 1)
            small_ms = await timed_reads(engine, rng.sample(small_ids, args.reads + 1))
            print(f"generating {args.elders - args.small} more ...", flush=True)
            big = await elders.generate(conn, args.elders - args.small)
            print(f"  {big.count} in {big.seconds:.1f} s; VACUUM ANALYZE ...", flush=True)
            vacuum_s = await elders.vacuum_analyze(conn)
            count = int(await conn.fetchval("SELECT count(*) FROM elders"))
            size = str(
                await conn.fetchval("SELECT pg_size_pretty(pg_database_size(current_database()))")
            )
            all_ids = range(small.first_id, big.last_id + 1)
            big_ms = await timed_reads(engine, rng.sample(all_ids, args.reads + 1))
            todo = await callers(conn, rng.sample(all_ids, args.calls))
        finally:
            await engine.dispose()
            await conn.close()
        figures = await call_service(database, todo, args)
    return Result(small, big, vacuum_s, count, size, small_ms, big_ms, figures)


async def call_service(database: str, todo: list[Caller], args: argparse.Namespace) -> Figures:
    with tempfile.TemporaryDirectory(prefix="bench-pop-") as tmp:
        async with (
            running_service(database, Path(tmp)) as service,
            aiohttp.ClientSession() as http,
        ):
            floor = PopFloor(service, http)
            sockets = Sockets()
            placed: set[str] = set()
            try:
                queue = await floor.make_queue()
                await floor.route("hotline", queue)
                password = secrets.token_urlsafe(12)
                stream = await http.ws_connect(
                    f"http://127.0.0.1:{service.port}/api/events",
                    headers={"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"},
                    max_msg_size=0,
                )
                sockets.watch(sockets.stream(stream))
                for _ in range(args.operators):
                    op_id, name = await floor.console_operator(queue, password, args.ring_ms)
                    ws = await open_console(http, service.port, name, password)
                    sockets.watch(sockets.console(ws, op_id))
                print(
                    f"{len(todo)} calls, {args.operators} at a time, to the service ...",
                    flush=True,
                )
                assert service.proc is not None
                cpu = cpu_seconds(service.proc.pid)
                started = time.monotonic()
                await place_calls(todo, args.operators, args.hold_ms, sockets, placed)
                wall = time.monotonic() - started
                cpu = cpu_seconds(service.proc.pid) - cpu
                figures = measure(todo, sockets)
                figures.cpu_ms_per_call = 1000 * cpu / max(len(todo), 1)
                figures.wall_s = wall
                return figures
            finally:
                await sockets.stop()
                with contextlib.suppress(Exception):
                    await asyncio.to_thread(hang_up_callers, placed)
                await floor.undo()


# -- the report ------------------------------------------------------------------------------


def _row(what: str, values: list[float]) -> str:
    return (
        f"{what:<58}{percentile(values, 50):>8.1f}{percentile(values, 99):>8.1f}"
        f"{max(values, default=float('nan')):>8.1f}{len(values):>7}"
    )


def report(result: Result, args: argparse.Namespace) -> None:
    f = result.figures
    print(
        f"\nscreen pop benchmark: {result.count:,} elders in the database"
        f" ({result.small.count:,} + {result.big.count:,} generated, the rest demo data;"
        f" {result.db_size}); the {result.big.count:,} generated in {result.big.seconds:.0f} s,"
        f" VACUUM ANALYZE {result.vacuum_s:.0f} s"
    )
    print(f"\n{'':<58}{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'n':>7}")
    print(_row(f"pop.load, {result.small.count:,} generated elders (baseline)", result.small_ms))
    print(_row(f"pop.load, {result.count:,} elders", result.big_ms))
    print(_row("service: offer (call.offered `at`) -> pop on the console", f.offer_to_pop_ms))
    print(_row("service: call.offered frame -> pop frame (arrivals)", f.frame_gap_ms))
    print(
        f"\n{len(f.offer_to_pop_ms)} of {args.calls} calls popped the caller's record;"
        f" {len(f.failures)} failed; {args.operators} at a time,"
        f" {args.calls / max(f.wall_s, 1e-9):.1f} calls/s;"
        f" service CPU {f.cpu_ms_per_call:.1f} ms per call"
    )
    for failure in f.failures:
        print(f"  failed: {failure}")
    print(
        "pop.load: this process, one pooled connection, each elder read once (random);"
        " offer: the service's `at` of call.offered (after the operator's softphone was"
        " rung); pop: the console frame's arrival (this machine's clock)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.screen_pop",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--elders", type=int, default=1_000_000, help="generated [1000000]")
    parser.add_argument(
        "--small", type=int, default=1_000, help="generated first, the baseline [1000]"
    )
    parser.add_argument("--reads", type=int, default=500, help="pop.load reads per size [500]")
    parser.add_argument("--calls", type=int, default=200, help="calls to the service [200]")
    parser.add_argument(
        "--operators", type=int, default=2, help="operators, and calls at a time [2]"
    )
    parser.add_argument("--ring-ms", type=int, default=1000, help="softphones answer after [1000]")
    parser.add_argument("--hold-ms", type=int, default=2500, help="callers hang up after [2500]")
    parser.add_argument("--seed", type=int, default=1, help="which elders are picked [1]")
    args = parser.parse_args()
    if not 0 < args.small < args.elders or args.reads >= args.small:
        parser.error("need 0 < --small < --elders and --reads < --small")
    default_pg()
    result = run_until_done(
        lambda: run(args),
        "interrupted (calls hung up; operators, queue, line, softphones, service and"
        " database undone)",
    )
    report(result, args)


if __name__ == "__main__":
    main()
