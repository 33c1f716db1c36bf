"""What the benchmarks share: a scratch database with the demo data, the PostgreSQL default,
percentiles, a process's CPU time, free ports; ARI credentials and event times, waiting for
Asterisk to be empty, how busy the machine was."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
from tests.integration.conftest import ARI, ari_get
from tests.integration.pg import create_database, drop_database, sqlalchemy_url

T = TypeVar("T")


def run_until_done(main: Callable[[], Coroutine[Any, Any, T]], interrupted: str) -> T:
    """Run a benchmark's `main` in a fresh event loop. SIGTERM or Ctrl-C cancel it, so its
    clean-up runs, and then exit with `interrupted` (saying what was undone)."""

    async def cancellable() -> T:
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await main()

    try:
        return asyncio.run(cancellable())
    except (KeyboardInterrupt, asyncio.CancelledError):
        raise SystemExit(interrupted) from None


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


# -- Asterisk (ARI) and the machine ---------------------------------------------------------


def ari_auth() -> dict[str, str]:
    """Headers with the ARI credentials of the environment (HOTLINE_ARI_USER /
    HOTLINE_ARI_PASSWORD)."""
    user = os.environ.get("HOTLINE_ARI_USER", "hotline")
    return {"Authorization": aiohttp.encode_basic_auth(user, os.environ["HOTLINE_ARI_PASSWORD"])}


def ari_time(stamp: str) -> float:
    """Unix seconds of an ARI event's ``timestamp`` ("2025-01-31T12:00:00.123+0000": Asterisk's
    clock, to the millisecond)."""
    return dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


async def asterisk_empty(limit: float = 10.0) -> float:
    """Wait until Asterisk has no channel and no bridge left; the seconds it took.
    Raises TimeoutError after ``limit``."""
    started = time.monotonic()
    async with asyncio.timeout(limit):
        while True:
            channels = await asyncio.to_thread(ari_get, "/channels")
            bridges = await asyncio.to_thread(ari_get, "/bridges")
            if not channels and not bridges:
                break
            await asyncio.sleep(0.05)
    return time.monotonic() - started


class MachineCpu:
    """How busy all the machine's CPUs were between start() and busy() (from /proc/stat)."""

    def __init__(self) -> None:
        self._start = self._read()

    @staticmethod
    def _read() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields), idle

    def start(self) -> None:
        self._start = self._read()

    def busy(self) -> float:
        """Share (0..1) of all CPU time that was not idle since start()."""
        total, idle = self._read()
        dtotal, didle = total - self._start[0], idle - self._start[1]
        return 1 - didle / dtotal if dtotal else float("nan")


class AriObserver:
    """An ARI events socket of the bench's own Stasis app (never the service's ``hotline``),
    keeping every message with its arrival time (time.time()). With ``subscribe_all`` it sees
    every channel, bridge and endpoint event of Asterisk without owning any channel (it is
    not sent StasisStart/StasisEnd of other apps' channels). Use as ``async with``."""

    def __init__(self, app: str = "bench-observer", *, subscribe_all: bool = True) -> None:
        self.app = app
        self.subscribe_all = subscribe_all
        self.messages: list[tuple[float, str]] = []
        self._http: aiohttp.ClientSession | None = None
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> AriObserver:
        self._http = aiohttp.ClientSession(headers=ari_auth())
        ws = await self._http.ws_connect(
            f"{ARI}/ari/events",
            params={"app": self.app, "subscribeAll": str(self.subscribe_all).lower()},
            max_msg_size=0,
        )
        self._task = asyncio.create_task(self._read(ws))
        return self

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        async with ws:
            while (msg := await ws.receive()).type == aiohttp.WSMsgType.TEXT:
                self.messages.append((time.time(), msg.data))

    async def __aexit__(self, *_: object) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._http is not None:
            await self._http.close()

    def events(self) -> list[tuple[float, dict[str, Any]]]:
        """(arrival time, event) for every message so far, in order."""
        return [(at, json.loads(text)) for at, text in self.messages]
