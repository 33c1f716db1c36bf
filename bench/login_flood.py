"""Login flood benchmark (issue 15, R27): the call path while the console is under a flood
of failed logins, side by side with the same service quiet, in one run.

Each phase measures, on one service with its defaults (the synthesised greeting, speech on,
an /api/events subscriber attached):

  answer       --calls calls to the hotline number at --rate calls/s (SIPp from the carrier
               address, each hanging up after --hold-ms): INVITE to 200 OK, p50/p99
  emergency    --emergencies confirmations, one after another (bench.emergency's: a terminal
               calls, an operator answers and confirms): confirmation to the INVITEs reaching
               120 and both tier-1 family numbers, p50/p99, and how many confirmations
               dialled the family at all (the facts lookup starved: 120 only, no family)
  web          GET /api/cases with the admin token every 100 ms: p50/p99

The flood phase runs the same while --clients clients, each from its own loopback address
(127.77.x.y), post wrong passwords to /console/login as fast as they are answered: half of
them for the demo's real accounts, half for made-up names. The report counts the answers
(429 held back, 401 refused, other) and checks nobody got in. The flooding clients run in a
process of their own at nice 10 (an attacker's clients use the attacker's processors; see
`flooder`).

    set -a; . /var/lib/hotline/secrets.env; set +a
    export HOTLINE_SOUNDS_DIR=$(asterisk-docker/sandbox.sh sounds)
    .venv/bin/python -m bench.login_flood

Needs what bench.emergency needs (the sandbox, PostgreSQL, 127.0.0.2:5060 free).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from tests.integration.conftest import SYNTHESISED_GREETING, Service

from bench.calls import _sipp
from bench.common import bench_database, default_pg, free_tcp_port, percentile, run_until_done
from bench.emergency import (
    BenchFloor,
    Callers,
    Carrier,
    Confirmation,
    carrier,
    run_emergencies,
)

TOKEN = "test-admin-token-of-the-suite-0123456789"  # tests.integration.conftest's
FLOOD_NICE = 10  # the flooding process's CPU priority (see flooder)
REAL = ("op1001", "op1002", "sup1001", "admin1001")  # the demo's accounts


@dataclass
class Flood:
    answers: Counter[int] = field(default_factory=Counter)
    errors: int = 0
    got_in: int = 0


@dataclass
class Phase:
    name: str
    answer_ms: list[float]
    answer_failed: int
    confirmations: list[Confirmation]
    web_ms: list[float]
    flood: Flood | None = None


async def flood(port: int, clients: int, stop: asyncio.Event) -> Flood:
    """The flooding clients, in this process (see `flooder` for where they run)."""
    counts = Flood()
    base = f"http://127.0.0.1:{port}"

    async def client(i: int) -> None:
        address = f"127.77.{i // 250}.{i % 250 + 1}"
        connector = aiohttp.TCPConnector(local_addr=(address, 0))
        async with aiohttp.ClientSession(connector=connector) as http:
            while not stop.is_set():
                name = REAL[i % len(REAL)] if i % 2 else f"nobody{secrets.token_hex(3)}"
                form = {"username": name, "password": secrets.token_hex(6)}
                try:
                    async with http.post(
                        f"{base}/console/login",
                        data=form,
                        headers={"Origin": base},
                        allow_redirects=False,
                    ) as reply:
                        await reply.read()
                        counts.answers[reply.status] += 1
                        counts.got_in += reply.status == 303
                except (aiohttp.ClientError, TimeoutError):
                    counts.errors += 1
                    await asyncio.sleep(0.1)

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    await stop.wait()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return counts


async def flooder(port: int, clients: int, stop: asyncio.Event) -> Flood:
    """The flood from a process of its own at a low CPU priority (nice 10): an attacker's
    clients run on the attacker's machines, not on the hotline's 2 cores; sharing this
    process's event loop with SIPp's timing and the probe, they measured themselves."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.login_flood",
        "--flood-port",
        str(port),
        "--clients",
        str(clients),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        preexec_fn=lambda: os.nice(FLOOD_NICE),
    )
    assert child.stdin is not None
    await stop.wait()
    out, _ = await child.communicate(b"stop\n")
    found = json.loads(out.decode().strip().splitlines()[-1])
    return Flood(
        Counter({int(k): v for k, v in found["answers"].items()}), found["errors"], found["got_in"]
    )


async def _flood_until_stdin_closes(port: int, clients: int) -> None:
    stop = asyncio.Event()
    flooding = asyncio.create_task(flood(port, clients, stop))
    await asyncio.to_thread(sys.stdin.readline)
    stop.set()
    counts = await flooding
    print(json.dumps({"answers": counts.answers, "errors": counts.errors, "got_in": counts.got_in}))


async def probe(port: int, stop: asyncio.Event) -> list[float]:
    times: list[float] = []
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with aiohttp.ClientSession() as http:
        while not stop.is_set():
            started = time.monotonic()
            async with http.get(f"http://127.0.0.1:{port}/api/cases", headers=headers) as r:
                await r.read()
                if r.status == 200:
                    times.append(1000 * (time.monotonic() - started))
            await asyncio.sleep(0.1)
    return times


async def subscriber(port: int) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    async with (
        aiohttp.ClientSession() as http,
        http.ws_connect(f"http://127.0.0.1:{port}/api/events", headers=headers) as ws,
    ):
        async for _ in ws:
            pass


async def phase(
    name: str,
    flooding: bool,
    args: argparse.Namespace,
    service: Service,
    floor: BenchFloor,
    database: str,
    outside: Carrier,
    callers: Callers,
    workdir: Path,
) -> Phase:
    print(f"{name}: {args.calls} calls, {args.emergencies} emergencies ...", flush=True)
    stop = asyncio.Event()
    flooded = asyncio.create_task(flooder(service.port, args.clients, stop)) if flooding else None
    probed = asyncio.create_task(probe(service.port, stop))
    try:
        if flooded is not None:
            await asyncio.sleep(2.0)  # the flood at full strength before anything is measured
        answer = await asyncio.to_thread(
            _sipp, "12349", args.rate, args.calls, args.hold_ms, workdir / name
        )
        confirmations = await run_emergencies(args, floor, database, outside, callers)
    finally:
        stop.set()
    web = await probed
    return Phase(
        name,
        answer.answer_ms,
        answer.failed,
        confirmations,
        web,
        await flooded if flooded is not None else None,
    )


async def run(args: argparse.Namespace) -> list[Phase]:
    async with bench_database("hotline_bench_flood") as database:
        with tempfile.TemporaryDirectory(prefix="bench-flood-") as tmp:
            workdir = Path(tmp)
            for name in ("quiet", "flood"):
                (workdir / name).mkdir()
            service = Service(database, workdir)
            service.port = free_tcp_port()
            await service.start(HOTLINE_LOG_LEVEL="WARNING", HOTLINE_GREETING=SYNTHESISED_GREETING)
            events = asyncio.create_task(subscriber(service.port))
            try:
                async with carrier() as outside, aiohttp.ClientSession() as http:
                    floor = BenchFloor(service, http)
                    callers = Callers(workdir)
                    try:
                        common = (args, service, floor, database, outside, callers, workdir)
                        return [
                            await phase("quiet", False, *common),
                            await phase("flood", True, *common),
                        ]
                    finally:
                        await callers.stop_all()
                        await floor.undo()
            finally:
                events.cancel()
                with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
                    await events
                await service.stop()


def _ms(values: list[float]) -> str:
    if not values:
        return f"{'-':>8} {'-':>8}"
    return f"{percentile(values, 50):8.0f} {percentile(values, 99):8.0f}"


def report(phases: list[Phase], args: argparse.Namespace) -> None:
    print(
        f"\nlogin flood: {args.clients} clients; answer {args.calls} calls at {args.rate}/s;"
        f" {args.emergencies} emergencies; settings: the service's defaults (synthesised"
        " greeting, speech on), one /api/events subscriber"
    )
    print(f"{'':34}{'p50 ms':>8} {'p99 ms':>8}  other")
    for p in phases:
        last = [c.last_ms for c in p.confirmations if c.last_ms is not None]
        family = sum(all(m is not None for m in c.family_ms) for c in p.confirmations)
        print(
            f"{p.name}: answer (INVITE -> 200 OK)    {_ms(p.answer_ms)}  {p.answer_failed} failed"
        )
        print(
            f"{p.name}: emergency, all dialled      {_ms(last)}"
            f"  family dialled in {family}/{len(p.confirmations)}"
        )
        print(f"{p.name}: GET /api/cases               {_ms(p.web_ms)}  {len(p.web_ms)} probes")
    quiet, loud = phases

    def dialled(p: Phase) -> list[float]:
        return [c.last_ms for c in p.confirmations if c.last_ms is not None]

    for label, a, b in (
        ("answer p99", quiet.answer_ms, loud.answer_ms),
        ("emergency p99", dialled(quiet), dialled(loud)),
    ):
        if a and b:
            ratio = percentile(b, 99) / max(percentile(a, 99), 1.0)
            print(f"{label}: flood / quiet = {ratio:.2f}x (target: within 2x)")
    if loud.flood is not None:
        total = sum(loud.flood.answers.values())
        shown = ", ".join(f"{code}: {n}" for code, n in sorted(loud.flood.answers.items()))
        held = loud.flood.answers.get(429, 0)
        print(
            f"flood: {total} login attempts answered ({shown}); {held / max(total, 1):.0%} held"
            f" back with 429; {loud.flood.errors} connection errors; logged in: {loud.flood.got_in}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.login_flood",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--clients", type=int, default=100, help="flooding clients [100]")
    parser.add_argument("--calls", type=int, default=300, help="answer-time calls [300]")
    parser.add_argument("--rate", type=int, default=10, help="calls/s [10]")
    parser.add_argument("--hold-ms", type=int, default=2000, help="each call lasts [2000]")
    parser.add_argument("--emergencies", type=int, default=8, help="per phase [8]")
    parser.add_argument("--family", type=int, default=2, help="tier-1 contacts [2]")
    parser.add_argument("--flood-port", type=int, help=argparse.SUPPRESS)  # the flooder's
    args = parser.parse_args()
    if args.flood_port:
        asyncio.run(_flood_until_stdin_closes(args.flood_port, args.clients))
        return
    default_pg()
    phases = run_until_done(lambda: run(args), "interrupted (operators, queues undone)")
    report(phases, args)


if __name__ == "__main__":
    main()
