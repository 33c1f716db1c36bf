"""Answer-time benchmark: dialplan-only Answer() vs the hotline service, in one run.

SIPp places calls at a fixed rate from the carrier address. For each target it prints
INVITE-to-200-OK p50/p99, failed calls, and for the service its CPU time per call.

    set -a; . /var/lib/hotline/secrets.env; set +a
    .venv/bin/python -m bench.calls --rate 20 --calls 1000

Needs the sandbox Asterisk and PostgreSQL up (scripts/up or scripts/test brings them).
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from tests.integration import sipp
from tests.integration.conftest import SYNTHESISED_GREETING, Service, ari_get
from tests.integration.pg import _dsn

from bench.common import bench_database, cpu_seconds, default_pg, percentile

CALLER = "13800000001"


@dataclass
class Result:
    name: str
    answer_ms: list[float]
    failed: int
    calls: int
    wall_s: float
    cpu_s: float | None = None

    def pct(self, p: float) -> float:
        return percentile(self.answer_ms, p)


def _sipp(
    target: str, rate: int, calls: int, hold_ms: int, workdir: Path, limit: int | None = None
) -> Result:
    scenario = workdir / f"{target}.xml"
    scenario.write_bytes((sipp.SCENARIOS / "caller.xml").read_bytes())
    started = time.monotonic()
    done = subprocess.run(
        [
            "sipp",
            "-sf",
            str(scenario),
            "-s",
            target,
            "-key",
            "caller",
            CALLER,
            "-i",
            sipp.CARRIER_IP,
            "-p",
            str(sipp.free_port(sipp.CARRIER_IP)),
            "-r",
            str(rate),
            "-m",
            str(calls),
            "-l",
            str(limit or rate * 10),
            "-d",
            str(hold_ms),
            "-trace_rtt",
            "-rtt_freq",
            "1",
            "-trace_stat",
            "-fd",
            "1",
            "-nostdin",
            "-timeout",
            "600s",
            sipp.ASTERISK,
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.monotonic() - started
    answer_ms: list[float] = []
    for path in workdir.glob(f"{target}_*_rtt.csv"):
        with path.open() as f:
            answer_ms += [
                float(row["response_time_ms"]) for row in csv.DictReader(f, delimiter=";")
            ]
    failed = calls
    for path in workdir.glob(f"{target}_*_.csv"):
        with path.open() as f:
            rows = list(csv.DictReader(f, delimiter=";"))
        if rows:
            failed = calls - int(rows[-1]["SuccessfulCall(C)"])
    if done.returncode not in (0, 1):  # 1: some calls failed, counted above
        print(done.stdout[-2000:], done.stderr[-2000:], file=sys.stderr)
    return Result(target, answer_ms, failed, calls, wall)


async def run(args: argparse.Namespace) -> tuple[list[Result], Leftovers]:
    rate, calls, hold_ms, limit = args.rate, args.calls, args.hold_ms, args.limit
    async with bench_database() as database:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            baseline = await asyncio.to_thread(_sipp, "9999", rate, calls, hold_ms, workdir, limit)
            baselines = [baseline]
            if args.music:  # the same media work as a queue: every caller hears music
                baselines.append(
                    await asyncio.to_thread(_sipp, "9995", rate, calls, hold_ms, workdir, limit)
                )
            service = Service(database, workdir)
            greeting = {"default": SYNTHESISED_GREETING, "stock": "sound:hello-world"}
            await service.start(
                HOTLINE_LOG_LEVEL="WARNING", HOTLINE_GREETING=greeting[args.greeting]
            )
            assert service.proc is not None
            cpu_before = cpu_seconds(service.proc.pid)
            spy = _profile(service.proc.pid, args.profile)
            ours = await asyncio.to_thread(_sipp, "12349", rate, calls, hold_ms, workdir, limit)
            ours.cpu_s = cpu_seconds(service.proc.pid) - cpu_before
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(30)
            left = await leftovers(service)
            await service.stop()
        return [*baselines, ours], left


@dataclass
class Leftovers:
    """What the run left behind once every caller had hung up."""

    channels: int  # in Asterisk
    bridges: int
    open_calls: int  # call rows without an end
    live_calls: int  # the service's own count (callbacks waiting in their queue included)
    callbacks_pending: int

    def __str__(self) -> str:
        return (
            f"leftovers: {self.channels} channels, {self.bridges} bridges in Asterisk;"
            f" {self.open_calls} calls not ended in PostgreSQL; the service holds"
            f" {self.live_calls} calls ({self.callbacks_pending} callbacks pending, which"
            " wait in their queue without a channel)"
        )


async def leftovers(service: Service, settle_s: float = 3.0) -> Leftovers:
    await asyncio.sleep(settle_s)  # the last hang-ups handled and written
    channels = await asyncio.to_thread(ari_get, "/channels") or []
    bridges = await asyncio.to_thread(ari_get, "/bridges") or []
    health = await asyncio.to_thread(service.api, "/healthz")
    conn = await asyncpg.connect(_dsn(service.database))
    try:
        open_calls = int(await conn.fetchval("SELECT count(*) FROM calls WHERE ended_at IS NULL"))
    finally:
        await conn.close()
    return Leftovers(
        len(channels),
        len(bridges),
        open_calls,
        int(health.get("live_calls", -1)),
        int(health.get("callbacks_pending", -1)),
    )


def _profile(pid: int, out: str | None) -> subprocess.Popen[bytes] | None:
    """py-spy (pip install py-spy) sampling the service while SIPp calls: collapsed stacks
    (`--format raw`) in `out`, for bench/profile.py to sum up."""
    if out is None:
        return None
    return subprocess.Popen(
        [
            "py-spy",
            "record",
            "-p",
            str(pid),
            "-r",
            "250",
            "-o",
            out,
            "--format",
            "raw",
            "--nonblocking",
            "--gil",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def report(results: list[Result], rate: int, left: Leftovers | None = None) -> None:
    print(f"\nanswer time (INVITE -> 200 OK), {results[0].calls} calls at {rate} calls/s")
    print(f"{'target':<32}{'p50 ms':>8}{'p99 ms':>8}{'failed':>8}{'calls/s':>9}{'CPU ms/call':>13}")
    names = {
        "9999": "dialplan Answer() (9999)",
        "9995": "dialplan Answer()+music (9995)",
        "12349": "hotline service (12349)",
    }
    for r in results:
        cps = (r.calls - r.failed) / r.wall_s if r.wall_s else 0.0
        cpu = f"{1000 * r.cpu_s / max(r.calls - r.failed, 1):.2f}" if r.cpu_s is not None else "-"
        print(
            f"{names[r.name]:<32}{r.pct(50):>8.1f}{r.pct(99):>8.1f}{r.failed:>8}{cps:>9.1f}"
            f"{cpu:>13}"
        )
    base, ours = results[0], results[-1]
    if base.answer_ms and ours.answer_ms:
        # SIPp measures whole milliseconds, so the ratio is of the means, not of p50s near 0.
        mean_ours, mean_base = statistics.fmean(ours.answer_ms), statistics.fmean(base.answer_ms)
        ratio = mean_ours / max(mean_base, 0.1)
        print(
            f"mean {mean_ours:.1f} ms vs {mean_base:.1f} ms (ratio {ratio:.1f}x); "
            f"p50 {ours.pct(50) - base.pct(50):+.1f} ms, p99 {ours.pct(99) - base.pct(99):+.1f} ms "
            "over the baseline (target: p99 within 5 ms, zero failed)"
        )
    if left is not None:
        print(left)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=20)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--hold-ms", type=int, default=2000)
    parser.add_argument("--limit", type=int, help="callers on the line at once at most [10 x rate]")
    parser.add_argument(
        "--greeting",
        choices=("default", "stock"),
        default="default",
        help="the service's own synthesised greeting, or Asterisk's stock hello-world",
    )
    parser.add_argument(
        "--music",
        action="store_true",
        help="a second baseline: the dialplan answers and plays music on hold (9995), the media "
        "work every caller waiting in a queue costs Asterisk",
    )
    parser.add_argument("--profile", help="py-spy's collapsed stacks of the service, to this file")
    args = parser.parse_args()
    default_pg()
    results, left = asyncio.run(run(args))
    report(results, args.rate, left)


if __name__ == "__main__":
    main()
