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
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.integration import sipp
from tests.integration.conftest import Service

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


def _sipp(target: str, rate: int, calls: int, hold_ms: int, workdir: Path) -> Result:
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
            str(rate * 10),
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


async def run(rate: int, calls: int, hold_ms: int) -> list[Result]:
    async with bench_database() as database:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            baseline = await asyncio.to_thread(_sipp, "9999", rate, calls, hold_ms, workdir)
            service = Service(database, workdir)
            await service.start(HOTLINE_LOG_LEVEL="WARNING")
            assert service.proc is not None
            cpu_before = cpu_seconds(service.proc.pid)
            ours = await asyncio.to_thread(_sipp, "12349", rate, calls, hold_ms, workdir)
            ours.cpu_s = cpu_seconds(service.proc.pid) - cpu_before
            await service.stop()
        return [baseline, ours]


def report(results: list[Result], rate: int) -> None:
    print(f"\nanswer time (INVITE -> 200 OK), {results[0].calls} calls at {rate} calls/s")
    print(f"{'target':<28}{'p50 ms':>8}{'p99 ms':>8}{'failed':>8}{'calls/s':>9}{'CPU ms/call':>13}")
    names = {"9999": "dialplan Answer() (9999)", "12349": "hotline service (12349)"}
    for r in results:
        cps = (r.calls - r.failed) / r.wall_s if r.wall_s else 0.0
        cpu = f"{1000 * r.cpu_s / max(r.calls - r.failed, 1):.2f}" if r.cpu_s is not None else "-"
        print(
            f"{names[r.name]:<28}{r.pct(50):>8.1f}{r.pct(99):>8.1f}{r.failed:>8}{cps:>9.1f}"
            f"{cpu:>13}"
        )
    base, ours = results
    if base.answer_ms and ours.answer_ms:
        # SIPp measures whole milliseconds, so the ratio is of the means, not of p50s near 0.
        mean_ours, mean_base = statistics.fmean(ours.answer_ms), statistics.fmean(base.answer_ms)
        ratio = mean_ours / max(mean_base, 0.1)
        print(
            f"mean {mean_ours:.1f} ms vs {mean_base:.1f} ms (ratio {ratio:.1f}x); "
            f"p50 {ours.pct(50) - base.pct(50):+.1f} ms, p99 {ours.pct(99) - base.pct(99):+.1f} ms "
            "over the baseline (target: p99 within 20 ms, zero failed)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--rate", type=int, default=20)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--hold-ms", type=int, default=2000)
    args = parser.parse_args()
    default_pg()
    report(asyncio.run(run(args.rate, args.calls, args.hold_ms)), args.rate)


if __name__ == "__main__":
    main()
