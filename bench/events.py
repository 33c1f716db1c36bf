"""Event-stream delay benchmark: from an Asterisk event to the subscribers' sockets.

How long after Asterisk sees something does a supervisor's screen hear of it, with 1, 10
and 50 subscribers of GET /api/events connected at once? And next to it, in the same run,
how long Asterisk itself takes to put the same event on a raw ARI client's socket, so that
what the service adds is visible.

Method. SIPp places --calls calls at --rate calls/s to the hotline (12349) from the carrier
address, presenting a known elder's number; each caller holds --hold-ms and hangs up (no
operator is ready: the calls wait in queue `general`, then become callbacks, so every call
gives several events: call.arrived, call.identified, case.changed, call.queued, call.ended,
callback.scheduled, and the callback's own call.arrived and call.queued).

- An ARI observer (this script's own Stasis app `bench-observer`, `subscribeAll=true`: every
  channel event of Asterisk, owning none) records, for each caller channel, Asterisk's
  `timestamp` of the event that starts the call in our app, and the observer's own arrival
  time of it. The observer is not sent StasisStart (only the app that gets the channel is).
  It sees, in order: ChannelDialplan (dialplan_app "Stasis", app data "hotline,hotline"),
  then ChannelVarset STASISSTATUS="" which app_stasis sets just before it hands the
  channel to the app (stasis_app_exec, which sends StasisStart): that varset is the call's
  start here, the observer's last sight of the channel before StasisStart (the two are
  mostly in the same millisecond). ARI timestamps are the machine's clock, to the
  millisecond. The end of a call is the first ChannelHangupRequest of the caller channel
  (the caller's BYE; the service ends the call on it and the StasisEnd that follows).
- Subscribers (aiohttp WebSocket clients, `Authorization: Bearer`) run in --readers child
  processes of this script (default 2, each with its share of the sockets, one asyncio
  loop), so that 50 sockets do not all wait on one Python loop. Each takes time.time() as
  each message is received and parses it only at the end.
- The delay to a subscriber is its arrival time of call.arrived (call.ended) for the call id
  hotline.core.ids.call_id_for(<caller channel id>) minus the Asterisk timestamp of that
  ChannelVarset (ChannelHangupRequest). The baseline is the same for the
  observer's socket: Asterisk -> a raw ARI client. Timestamps are cut to the millisecond,
  so both figures read up to 1 ms high, alike.

Each round (one per subscriber count in --subscribers) gets a fresh service process on the
same scratch database (the previous round's pending callbacks cancelled in the database, as
the integration tests' fixture does), so the rounds start alike. It prints per round p50,
p99 and max of both delays, the events each subscriber got (and any gap in `seq`),
subscribers dropped (must be 0), the spread of one event's arrival across the subscribers,
the service's CPU time per call and how busy the machine was.

    set -a; . /var/lib/hotline/secrets.env; set +a
    .venv/bin/python -m bench.events      # 200 calls at 5/s, 1, 10, 50 subscribers: 2.5 min
    .venv/bin/python -m bench.events --subscribers 50 --readers 1 --rate 10 --calls 300

Needs the sandbox Asterisk and PostgreSQL up (scripts/up or scripts/test brings them) and
nothing else using the sandbox. Everything it creates (service, readers, observer, scratch
database) is undone at the end, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
from tests.integration import sipp
from tests.integration.conftest import Service
from tests.integration.pg import _dsn

from bench.common import (
    AriObserver,
    MachineCpu,
    ari_time,
    asterisk_empty,
    bench_database,
    cpu_seconds,
    default_pg,
    free_tcp_port,
    percentile,
    run_until_done,
)
from bench.queues import hang_up_callers
from hotline.core.ids import call_id_for

CALLER = "13800000001"  # the demo data's elder: identified from the in-memory index
SERVICE = "12349"


# -- the reader processes ------------------------------------------------------------------


async def reader(port: int, count: int, out: Path) -> None:
    """A child process: ``count`` subscribers; prints "ready" once every socket has its
    snapshot; on EOF of stdin writes what each got to ``out`` (JSON) and exits."""
    url = f"http://127.0.0.1:{port}/api/events"
    headers = {"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"}
    got: list[list[tuple[float, str]]] = [[] for _ in range(count)]
    closed: list[int | None] = [None] * count  # close code of a socket the service closed
    snapshots = asyncio.Semaphore(0)

    async def read(i: int, ws: aiohttp.ClientWebSocketResponse) -> None:
        first = True
        while (msg := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
            got[i].append((time.time(), msg.data))
            if first:
                first = False
                snapshots.release()
        closed[i] = ws.close_code if ws.close_code is not None else -1

    async with aiohttp.ClientSession() as http:
        sockets = [
            await http.ws_connect(url, headers=headers, max_msg_size=0) for _ in range(count)
        ]
        tasks = [asyncio.create_task(read(i, ws)) for i, ws in enumerate(sockets)]
        async with asyncio.timeout(30):
            for _ in range(count):
                await snapshots.acquire()
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.buffer.read)  # until the parent closes it
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for ws in sockets:
            await ws.close()
    _write(out, got, closed)


def _write(out: Path, got: list[list[tuple[float, str]]], closed: list[int | None]) -> None:
    subscribers = []
    for messages, code in zip(got, closed, strict=True):
        events = []
        for at, text in messages:
            m = json.loads(text)
            events.append([at, m.get("seq"), m.get("type"), m.get("call_id"), m.get("kind")])
        subscribers.append({"closed": code, "events": events})
    out.write_text(json.dumps(subscribers))


class Readers:
    """The reader processes of one round; the subscribers' events once stopped."""

    def __init__(self, subscribers: int, processes: int, port: int, workdir: Path) -> None:
        processes = max(1, min(processes, subscribers))
        share = [subscribers // processes + (i < subscribers % processes) for i in range(processes)]
        self.plan = [(n, workdir / f"reader_{subscribers}_{i}.json") for i, n in enumerate(share)]
        self.port = port
        self.procs: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        for count, out in self.plan:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "bench.events", "--reader", str(count), "--port", str(self.port)),
                *("--out", str(out)),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
            )
            self.procs.append(proc)
        for proc in self.procs:
            assert proc.stdout is not None
            line = await asyncio.wait_for(proc.stdout.readline(), 40)
            if line.strip() != b"ready":
                raise RuntimeError(f"a reader did not get ready: {line!r}")

    async def stop(self) -> list[dict[str, Any]]:
        for proc in self.procs:
            if proc.stdin is not None and proc.returncode is None:
                proc.stdin.close()
        for proc in self.procs:
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        subscribers: list[dict[str, Any]] = []
        for _, out in self.plan:
            if out.exists():
                subscribers += json.loads(out.read_text())
        return subscribers

    async def kill(self) -> None:
        for proc in self.procs:
            if proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                await proc.wait()


# -- one round -----------------------------------------------------------------------------


@dataclass
class Round:
    subscribers: int
    processes: int
    calls: int
    failed: int
    cpu_s: float
    busy: float
    observer_arrival_ms: list[float] = field(default_factory=list)
    observer_end_ms: list[float] = field(default_factory=list)
    arrival_ms: list[float] = field(default_factory=list)  # every subscriber, every call
    end_ms: list[float] = field(default_factory=list)
    missing: int = 0  # (subscriber, call) pairs without the call's call.arrived
    delivered: list[int] = field(default_factory=list)  # events per subscriber
    gaps: int = 0  # subscribers with a gap in seq
    dropped: int = 0
    spread_ms: list[float] = field(default_factory=list)  # one event: last - first arrival
    calls_seen: int = 0  # caller channels the observer saw enter Stasis(hotline)


async def place_calls(rate: float, calls: int, hold_ms: int, workdir: Path) -> int:
    """SIPp calls to the hotline; returns how many failed."""
    scenario = workdir / "caller.xml"  # SIPp writes its statistics next to the scenario
    scenario.write_bytes((sipp.SCENARIOS / "caller.xml").read_bytes())
    proc = await asyncio.create_subprocess_exec(
        "sipp",
        *("-sf", str(scenario), "-s", SERVICE, "-key", "caller", CALLER),
        *("-i", sipp.CARRIER_IP, "-p", str(sipp.free_port(sipp.CARRIER_IP))),
        *("-r", f"{rate:g}", "-m", str(calls), "-l", str(calls), "-d", str(hold_ms)),
        *("-trace_stat", "-fd", "1", "-nostdin", "-timeout", f"{int(calls / rate) + 120}s"),
        sipp.ASTERISK,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
        cwd=workdir,
    )
    try:
        _, err = await proc.communicate()
    finally:
        if proc.returncode is None:  # interrupted: no BYEs were sent, so end the calls here
            proc.kill()
            await proc.wait()
            await asyncio.to_thread(hang_up_callers, {CALLER})
    if proc.returncode not in (0, 1):
        print(f"sipp exited {proc.returncode}: {err.decode(errors='replace')[-1500:]}")
    return _failed(workdir, calls)


def _failed(workdir: Path, calls: int) -> int:
    """Calls SIPp did not count as successful (its -trace_stat file, then removed)."""
    failed = calls
    for path in workdir.glob("caller_*_.csv"):
        lines = path.read_text().splitlines()
        if len(lines) >= 2:
            row = dict(zip(lines[0].split(";"), lines[-1].split(";"), strict=False))
            failed = calls - int(row.get("SuccessfulCall(C)", 0))
        path.unlink()
    return failed


def asterisk_times(observer: AriObserver) -> tuple[dict[str, tuple[float, float]], ...]:
    """Per call id: (Asterisk timestamp, observer arrival) of the caller channel entering
    Stasis(hotline), and of its first ChannelHangupRequest (the caller's BYE).

    Entering: Stasis() first sets STASISSTATUS to "" (ChannelVarset), then hands the channel
    to the app (StasisStart, sent to the app only); so the ChannelVarset that follows a
    ChannelDialplan running Stasis with app data "hotline,..." is the observer's last
    sight of the channel before StasisStart."""
    start: dict[str, tuple[float, float]] = {}
    end: dict[str, tuple[float, float]] = {}
    entering: set[str] = set()  # ChannelDialplan Stasis(hotline) seen, varset not yet
    channels: dict[str, str] = {}  # caller channel id -> call id
    for at, event in observer.events():
        kind = event.get("type")
        cid = (event.get("channel") or {}).get("id")
        if (
            kind == "ChannelDialplan"
            and event.get("dialplan_app") == "Stasis"
            and str(event.get("dialplan_app_data", "")).split(",")[0] == "hotline"
        ):
            entering.add(cid)
        elif (
            kind == "ChannelVarset"
            and cid in entering
            and event.get("variable") == "STASISSTATUS"
            and not event.get("value")
        ):
            entering.discard(cid)
            channels[cid] = str(call_id_for(cid))
            start[channels[cid]] = (ari_time(event["timestamp"]), at)
        elif kind == "ChannelHangupRequest" and cid in channels:
            end.setdefault(channels[cid], (ari_time(event["timestamp"]), at))
    return start, end


def measure(
    rnd: Round, observer: AriObserver, subscribers: list[dict[str, Any]], expected: int
) -> None:
    start, end = asterisk_times(observer)
    rnd.calls_seen = len(start)
    rnd.observer_arrival_ms = [1000 * (at - ts) for ts, at in start.values()]
    rnd.observer_end_ms = [1000 * (at - ts) for ts, at in end.values()]
    arrivals: dict[int, list[float]] = {}  # seq -> arrival times across the subscribers
    for sub in subscribers:
        if sub["closed"] is not None:
            rnd.dropped += 1
        events = sub["events"][1:]  # [0] is the snapshot
        rnd.delivered.append(len(events))
        seqs = [e[1] for e in events]
        if seqs and seqs != list(range(seqs[0], seqs[0] + len(seqs))):
            rnd.gaps += 1
        seen: set[str] = set()
        for at, seq, kind, call_id, _ in events:
            arrivals.setdefault(seq, []).append(at)
            if kind == "call.arrived" and call_id in start:
                seen.add(call_id)
                rnd.arrival_ms.append(1000 * (at - start[call_id][0]))
            elif kind == "call.ended" and call_id in end:
                rnd.end_ms.append(1000 * (at - end[call_id][0]))
        rnd.missing += len(start.keys() - seen)
    rnd.spread_ms = [
        1000 * (max(times) - min(times)) for times in arrivals.values() if len(times) == expected
    ]


async def run_round(
    subscribers: int, args: argparse.Namespace, database: str, workdir: Path
) -> Round:
    await cancel_pending_callbacks(database)
    service = Service(database, workdir)
    service.port = free_tcp_port()
    readers = Readers(subscribers, args.readers, service.port, workdir)
    await service.start(HOTLINE_LOG_LEVEL="WARNING")
    try:
        assert service.proc is not None
        async with AriObserver() as observer:
            await readers.start()
            health = await asyncio.to_thread(service.api, "/healthz")
            if health["event_subscribers"] != subscribers:
                raise RuntimeError(f"{health['event_subscribers']} subscribers, not {subscribers}")
            print(
                f"{subscribers} subscribers in {len(readers.plan)} reader process(es):"
                f" {args.calls} calls at {args.rate:g}/s ...",
                flush=True,
            )
            machine = MachineCpu()
            cpu_before = cpu_seconds(service.proc.pid)
            failed = await place_calls(args.rate, args.calls, args.hold_ms, workdir)
            await asterisk_empty(30)  # every caller gone from Asterisk ...
            await asyncio.sleep(2)  # ... and its last events on every socket
            cpu = cpu_seconds(service.proc.pid) - cpu_before
            busy = machine.busy()
            health = await asyncio.to_thread(service.api, "/healthz")
            got = await readers.stop()
        rnd = Round(subscribers, len(readers.plan), args.calls, failed, cpu, busy)
        measure(rnd, observer, got, subscribers)
        rnd.dropped = max(rnd.dropped, subscribers - int(health["event_subscribers"]))
        return rnd
    finally:
        await readers.kill()
        if service.proc is not None:
            await service.stop()


async def cancel_pending_callbacks(database: str) -> None:
    """The previous round's callbacks (its abandoned callers) no longer pending, as the
    integration tests' fixture does, so each round's service starts with none."""
    conn = await asyncpg.connect(_dsn(database))
    try:
        await conn.execute("UPDATE callbacks SET status = 'cancelled' WHERE status = 'pending'")
    finally:
        await conn.close()


async def run(args: argparse.Namespace) -> list[Round]:
    rounds = []
    async with bench_database() as database:
        with tempfile.TemporaryDirectory(prefix="bench-events-") as tmp:
            for n in args.subscribers:
                rounds.append(await run_round(n, args, database, Path(tmp)))
    return rounds


# -- the report ----------------------------------------------------------------------------


def _cells(values: list[float]) -> str:
    if not values:
        return f"{'-':>7}{'-':>7}{'-':>7}"
    return f"{percentile(values, 50):>7.1f}{percentile(values, 99):>7.1f}{max(values):>7.1f}"


def report(rounds: list[Round], args: argparse.Namespace) -> None:
    print(
        f"\nevent stream delay: {args.calls} calls per round at {args.rate:g} calls/s, callers"
        f" hold {args.hold_ms / 1000:g} s and hang up while queued; subscribers are aiohttp"
        f" WebSocket clients in up to {args.readers} reader processes"
    )
    print("delay (ms) from the Asterisk event (its timestamp) to a socket's arrival time")
    print(
        f"{'subscribers':<13}{'socket':<26}{'start -> arrived':>21}"
        f"{'hang-up -> ended':>21}{'samples':>9}"
    )
    print(f"{'':<13}{'':<26}" + f"{'p50':>7}{'p99':>7}{'max':>7}" * 2)
    for r in rounds:
        procs = f"{r.subscribers} ({r.processes} proc)"
        print(
            f"{procs:<13}{'ARI observer (baseline)':<26}{_cells(r.observer_arrival_ms)}"
            f"{_cells(r.observer_end_ms)}{len(r.observer_arrival_ms):>9}"
        )
        print(
            f"{'':<13}{'/api/events subscribers':<26}{_cells(r.arrival_ms)}{_cells(r.end_ms)}"
            f"{len(r.arrival_ms):>9}"
        )
        base, ours = percentile(r.observer_arrival_ms, 50), percentile(r.arrival_ms, 50)
        base99, ours99 = percentile(r.observer_arrival_ms, 99), percentile(r.arrival_ms, 99)
        print(f"{'':<13}{'service adds (arrival)':<26}{ours - base:>7.1f}{ours99 - base99:>7.1f}")
    print(
        'call start: ChannelVarset STASISSTATUS="" as Stasis(hotline) starts (an observer\'s'
        " last sight before StasisStart); hang-up: the caller channel's first"
        " ChannelHangupRequest (its BYE)"
    )
    print(
        f"\n{'subscribers':<13}{'calls':>7}{'failed':>8}{'seen':>6}{'delivered':>11}"
        f"{'events/sub':>12}"
        f"{'gaps':>6}{'missing':>9}{'dropped':>9}{'spread p50/p99 ms':>19}"
        f"{'CPU ms/call':>13}{'machine busy':>14}"
    )
    for r in rounds:
        lo, hi = min(r.delivered, default=0), max(r.delivered, default=0)
        per_sub = f"{lo}" if lo == hi else f"{lo}-{hi}"
        spread = f"{percentile(r.spread_ms, 50):.1f}/{percentile(r.spread_ms, 99):.1f}"
        print(
            f"{r.subscribers:<13}{r.calls:>7}{r.failed:>8}{r.calls_seen:>6}{sum(r.delivered):>11}"
            f"{per_sub:>12}"
            f"{r.gaps:>6}{r.missing:>9}{r.dropped:>9}{spread:>19}"
            f"{1000 * r.cpu_s / max(r.calls, 1):>13.1f}{100 * r.busy:>13.0f}%"
        )
    print(
        "seen: caller channels the observer saw enter Stasis(hotline); delivered: events all"
        " subscribers got; events/sub: events each subscriber got after its snapshot; gaps:"
        " subscribers with a hole in seq; missing:"
        " (subscriber, call) pairs without call.arrived; dropped: subscribers the service"
        " closed (4008 too slow) or lost; spread: one event, last subscriber's arrival minus"
        " the first's; CPU: the service process's, per call; machine busy: all CPUs"
    )


def _counts(text: str) -> list[int]:
    try:
        counts = [int(x) for x in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of numbers") from None
    if not counts or min(counts) < 1:
        raise argparse.ArgumentTypeError("subscriber counts are 1 or more")
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.events",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--subscribers",
        type=_counts,
        default=[1, 10, 50],
        metavar="N,N",
        help="subscriber counts, one round each [1,10,50]",
    )
    parser.add_argument(
        "--readers", type=int, default=2, metavar="P", help="reader processes at most [2]"
    )
    parser.add_argument("--rate", type=float, default=5.0, metavar="R", help="calls/s [5]")
    parser.add_argument("--calls", type=int, default=200, metavar="N", help="per round [200]")
    parser.add_argument(
        "--hold-ms", type=int, default=2000, metavar="MS", help="callers hang up after [2000]"
    )
    parser.add_argument("--reader", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader is not None:  # a child: see Readers
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops it (stdin closed)
        asyncio.run(reader(args.port, args.reader, args.out))
        return
    default_pg()

    rounds = run_until_done(
        lambda: run(args), "interrupted (service, readers and scratch database undone)"
    )
    report(rounds, args)
    if any(r.dropped for r in rounds):
        sys.exit(1)


if __name__ == "__main__":
    main()
