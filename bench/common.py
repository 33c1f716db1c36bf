"""What the benchmarks share: a scratch database with the demo data, the PostgreSQL default,
percentiles, a process's CPU time, free ports."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

from tests.integration.pg import create_database, drop_database, sqlalchemy_url


def default_pg() -> None:
    """The test cluster's admin URL from HOTLINE_DB_PASSWORD (secrets.env), unless set."""
    os.environ.setdefault(
        "HOTLINE_TEST_PG",
        f"postgresql://hotline:{os.environ.get('HOTLINE_DB_PASSWORD', '')}@127.0.0.1:5432/postgres",
    )


@asynccontextmanager
async def bench_database(prefix: str = "hotline_bench") -> AsyncIterator[str]:
    """A migrated scratch database with the demo data, dropped afterwards. Yields its name."""
    database = await create_database(prefix)
    try:
        env = {**os.environ, "HOTLINE_DATABASE_URL": sqlalchemy_url(database)}
        for args in (["db", "upgrade"], ["demo-data"]):
            await asyncio.to_thread(
                subprocess.run,
                [sys.executable, "-m", "hotline", *args],
                env=env,
                check=True,
                capture_output=True,
            )
        yield database
    finally:
        await drop_database(database)


def percentile(values: Sequence[float], p: float) -> float:
    """The nearest-rank ``p``-th percentile; NaN for no values."""
    data = sorted(values)
    return data[min(len(data) - 1, round(p / 100 * (len(data) - 1)))] if data else float("nan")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of a running process (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_tcp_port(ip: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((ip, 0))
        return int(s.getsockname()[1])
