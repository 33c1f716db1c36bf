"""Takeover benchmark (issue 16): the leader killed again and again under live calls.

Two controllers on one database, each with the service's defaults (the synthesised greeting,
speech on, a 2.5 s lease): A leads, B stands by. --operators softphones answer and talk
until the caller hangs up; --calls callers (SIPp from the carrier address, --rate a second)
call the hotline and hold --hold-s seconds after being answered, so that at any time some
are talking to an operator, the rest waiting in the queue, and, while they arrive, some are
being greeted. Then --kills times: SIGKILL the leader, time until the standby leads with its
events socket up and Asterisk's state adopted (an upper bound of "last event handled by the
old leader to first handled by the new": the old one handled nothing after its kill), start
the killed one again as the standby, and wait until it stands by.

Reported: takeover time p50/p99/max; calls dropped (a caller who got a BYE before hanging
up: SIPp counts the call failed; target 0); records lost against the bench's ledger (every
call placed has a row, ended, with the caller as the one who ended it; every talk has one
`operator_answered` step; target 0); how long a queued caller heard nothing new (the music
plays on in Asterisk; an offer waits for the new leader: the takeover time).

    set -a; . /var/lib/hotline/secrets.env; set +a
    export HOTLINE_SOUNDS_DIR=$(asterisk-docker/sandbox.sh sounds)
    .venv/bin/python -m bench.takeover            # about 5 minutes

Needs the sandbox and PostgreSQL, and no other controller using the Stasis app.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import signal
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import asyncpg
from tests.integration.conftest import SYNTHESISED_GREETING, Service
from tests.integration.pg import _dsn

from bench.calls import CALLER, Result, _sipp
from bench.common import bench_database, default_pg, free_tcp_port, percentile, run_until_done
from bench.emergency import BenchFloor
from bench.queues import operator_scenario

DEFAULTS = {"HOTLINE_LOG_LEVEL": "WARNING", "HOTLINE_GREETING": SYNTHESISED_GREETING}


@dataclass
class Outcome:
    takeovers_s: list[float] = field(default_factory=list)
    calls: Result | None = None
    placed: int = 0
    rows: int = 0
    unended: int = 0
    not_by_caller: int = 0
    talks: int = 0
    answered_twice: int = 0
    talking_at_kills: list[int] = field(default_factory=list)


async def leads(service: Service, limit: float) -> float:
    """Seconds until `service` leads with its events socket up."""
    started = time.monotonic()
    async with asyncio.timeout(limit):
        while True:
            seen = await asyncio.to_thread(service.health)
            if seen.get("role") == "leader" and seen.get("ari_connected"):
                return time.monotonic() - started
            await asyncio.sleep(0.02)


async def kill_loop(
    args: argparse.Namespace, pair: list[Service], floor: BenchFloor, outcome: Outcome
) -> None:
    for i in range(args.kills):
        leader, standby = pair
        view = await floor.api("GET", "/api/floor")
        outcome.talking_at_kills.append(
            sum(1 for op in view["operators"].values() if op.get("state") == "on_call")
        )
        killed_at = time.monotonic()
        await leader.stop(signal.SIGKILL)
        await leads(standby, 30)
        outcome.takeovers_s.append(time.monotonic() - killed_at)
        print(f"kill {i + 1}: takeover {outcome.takeovers_s[-1]:.2f} s", flush=True)
        floor.service = standby
        await leader.start_standby(**DEFAULTS)
        pair.reverse()
        await asyncio.sleep(args.pause_s)


async def ledger(database: str, since: dt.datetime, outcome: Outcome) -> None:
    conn = await asyncpg.connect(_dsn(database))
    try:
        async with asyncio.timeout(30):  # the recorder writes behind the calls
            while await conn.fetchval(
                "SELECT count(*) FROM calls WHERE started_at >= $1 AND caller_number = $2"
                " AND ended_at IS NULL",
                since,
                CALLER,
            ):
                await asyncio.sleep(0.5)
    except TimeoutError:
        pass
    try:
        rows = await conn.fetch(
            "SELECT c.ended_at, c.ended_by, c.operator_id,"
            " (SELECT count(*) FROM case_events e WHERE e.case_id = c.case_id"
            "  AND e.kind = 'operator_answered') AS answers"
            " FROM calls c WHERE c.started_at >= $1 AND c.caller_number = $2",
            since,
            CALLER,
        )
    finally:
        await conn.close()
    outcome.rows = len(rows)
    outcome.unended = sum(r["ended_at"] is None for r in rows)
    outcome.not_by_caller = sum(r["ended_by"] != "caller" for r in rows)
    outcome.talks = sum(r["operator_id"] is not None for r in rows)
    outcome.answered_twice = sum(r["answers"] > 1 for r in rows)


async def run(args: argparse.Namespace) -> Outcome:
    outcome = Outcome(placed=args.calls)
    async with bench_database("hotline_bench_takeover") as database:
        with tempfile.TemporaryDirectory(prefix="bench-takeover-") as tmp:
            workdir = Path(tmp)
            pair = []
            for name in ("a", "b"):
                (workdir / name).mkdir()
                service = Service(database, workdir / name)
                service.port = free_tcp_port()
                pair.append(service)
            await pair[0].start(**DEFAULTS)
            await pair[1].start_standby(**DEFAULTS)
            try:
                async with aiohttp.ClientSession() as http:
                    floor = BenchFloor(pair[0], http)
                    try:
                        await drill(args, database, pair, floor, workdir, outcome)
                    finally:
                        await floor.undo()
            finally:
                for service in pair:
                    if service.proc is not None:
                        await service.stop()
    return outcome


async def drill(
    args: argparse.Namespace,
    database: str,
    pair: list[Service],
    floor: BenchFloor,
    workdir: Path,
    outcome: Outcome,
) -> None:
    queue = await floor.make_queue()
    await floor.route("hotline", queue)
    scenario = operator_scenario(workdir, ring_ms=500, talk_ms=3_600_000)
    for _ in range(args.operators):
        await floor.bench_operator(queue, scenario)
    since = dt.datetime.now(dt.UTC)
    (workdir / "callers").mkdir()
    calls = asyncio.create_task(
        asyncio.to_thread(
            _sipp,
            "12349",
            args.rate,
            args.calls,
            args.hold_s * 1000,
            workdir / "callers",
            args.calls,  # all of them live at once
        )
    )
    await asyncio.sleep(args.calls / args.rate / 2)  # half of them in: some still arriving
    await kill_loop(args, pair, floor, outcome)
    outcome.calls = await calls
    await ledger(database, since, outcome)


def report(outcome: Outcome, args: argparse.Namespace) -> None:
    took = outcome.takeovers_s
    print(
        f"\ntakeover: {len(took)} SIGKILLs of the leader; {args.calls} callers at {args.rate}/s"
        f" holding {args.hold_s} s, {args.operators} operators; settings: the service's"
        " defaults (synthesised greeting, speech on, lease 2.5 s), both controllers"
    )
    if took:
        print(
            f"takeover (kill -> the standby leads, events socket up, state adopted):"
            f" p50 {percentile(took, 50):.2f} s, p99 {percentile(took, 99):.2f} s,"
            f" max {max(took):.2f} s"
        )
    talking = outcome.talking_at_kills
    if talking:
        print(f"operators talking at each kill: {min(talking)}-{max(talking)}")
    result = outcome.calls
    if result is not None:
        print(f"calls dropped (a BYE before the caller hung up): {result.failed} of {result.calls}")
    lost = (outcome.placed - outcome.rows) + outcome.unended
    print(
        f"records: {outcome.rows} calls stored of {outcome.placed} placed, {outcome.unended}"
        f" without their end, {outcome.not_by_caller} not ended by the caller,"
        f" {outcome.answered_twice} answered twice; {outcome.talks} talked to an operator;"
        f" records lost: {lost}"
    )
    if took:
        print(
            "a queued caller heard the music throughout (Asterisk plays it); an offer waited"
            f" at most {max(took):.2f} s for the new leader"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.takeover",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--kills", type=int, default=20, help="SIGKILLs of the leader [20]")
    parser.add_argument("--calls", type=int, default=50, help="callers [50]")
    parser.add_argument("--rate", type=int, default=2, help="callers a second [2]")
    parser.add_argument("--operators", type=int, default=10, help="softphones [10]")
    parser.add_argument("--hold-s", type=int, default=240, help="each caller holds [240]")
    parser.add_argument("--pause-s", type=float, default=2.0, help="between kills [2]")
    args = parser.parse_args()
    default_pg()
    report(run_until_done(lambda: run(args), "interrupted (operators, queues undone)"), args)


if __name__ == "__main__":
    main()
