"""Benchmark: the deadline scheduler with 100,000 open deadlines.

A scratch database gets N open case tasks (set-based SQL): `--due` of them fall due during
the run, spread over `--window` seconds from a few seconds after the scheduler starts, the
rest over the next 30 days. The real scheduler (`hotline.deadlines.watch.DeadlineWatch`, the
one the service runs: one task, woken for the next due item) runs against it; each overdue
event's lateness is the time it was published minus its task's due time. Side by side in the
same run: the same with 1,000 open deadlines (the baseline: how much the other 99,000 cost).

    python -m bench.deadlines [--open 100000] [--due 500] [--window 20]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import time

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from tests.integration.pg import sqlalchemy_url

from bench.common import bench_database, default_pg, percentile, run_until_done
from hotline.core import events as ev
from hotline.deadlines.watch import DeadlineWatch

FILL = text(
    """
    WITH c AS (
        INSERT INTO cases (id, opened_at, status, channel, identified)
        SELECT gen_random_uuid(), now(), 'in_progress', 'hotline', false
        FROM generate_series(1, :cases)
        RETURNING id
    ), numbered AS (SELECT id, row_number() OVER () AS n FROM c)
    INSERT INTO case_tasks (id, case_id, kind, due_at, created_at, warned_at)
    SELECT gen_random_uuid(), numbered.id,
           (ARRAY['callback', 'complaint_handling', 'complaint_reply'])[1 + g % 3],
           CASE WHEN g <= :due
                THEN CAST(:start AS timestamptz)
                     + (g - 1) * (CAST(:window AS float8) / greatest(:due, 1))
                     * interval '1 second'
                ELSE now() + interval '1 day' + (g % 2592000) * interval '1 second' END,
           now(), now()
    FROM generate_series(1, :open) AS g
    JOIN numbered ON numbered.n = 1 + (g - 1) % :cases
    """
)


async def one_run(open_: int, due: int, window: float) -> dict[str, float]:
    async with bench_database("hotline_bench_deadlines") as database:
        engine = create_async_engine(sqlalchemy_url(database))
        try:
            start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
            filled = time.monotonic()
            async with engine.begin() as conn:
                await conn.execute(
                    FILL,
                    {
                        "cases": max(1, open_ // 10),
                        "open": open_,
                        "due": due,
                        "start": start,
                        "window": window,
                    },
                )
                await conn.execute(text("ANALYZE case_tasks"))
            fill_s = time.monotonic() - filled
            late: list[float] = []
            done = asyncio.Event()

            def publish(event: ev.DomainEvent) -> None:
                if isinstance(event, ev.DeadlineOverdue):
                    late.append((dt.datetime.now(dt.UTC) - event.due_at).total_seconds() * 1000)
                    if len(late) >= due:
                        done.set()

            watch = DeadlineWatch(engine, publish)
            runner = asyncio.create_task(watch.run(), name="bench-deadlines")
            try:
                await asyncio.wait_for(done.wait(), window + 60)
            finally:
                runner.cancel()
                await asyncio.gather(runner, return_exceptions=True)
            return {
                "open": open_,
                "fired": len(late),
                "fill_s": fill_s,
                "p50": percentile(late, 50),
                "p99": percentile(late, 99),
                "max": max(late),
            }
        finally:
            await engine.dispose()


async def main(args: argparse.Namespace) -> None:
    default_pg()
    rows = [
        await one_run(1000, min(args.due, 500), args.window),
        await one_run(args.open, args.due, args.window),
    ]
    print(f"{'open deadlines':>16} {'fired':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}  fill")
    for r in rows:
        print(
            f"{r['open']:>16,.0f} {r['fired']:>6.0f} {r['p50']:>8.1f} {r['p99']:>8.1f} "
            f"{r['max']:>8.1f}  {r['fill_s']:.1f} s"
        )


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=100_000, help="open deadlines in all")
    parser.add_argument("--due", type=int, default=500, help="how many fall due in the run")
    parser.add_argument("--window", type=float, default=20.0, help="seconds they fall due over")
    args = parser.parse_args()
    run_until_done(lambda: main(args), "interrupted; the scratch databases were dropped")


if __name__ == "__main__":
    cli()
