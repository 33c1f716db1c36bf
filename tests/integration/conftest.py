"""The real stack for call-flow tests: the Asterisk sandbox, a scratch PostgreSQL database
with demo data, and the hotline service as a separate process."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import asyncpg
import pytest

if TYPE_CHECKING:
    from tests.integration.floorkit import Floor
from tests.integration.calendars import publish_missing
from tests.integration.pg import (
    _dsn,
    create_database,
    drop_database,
    retention_url,
    sqlalchemy_url,
)

REPO = Path(__file__).resolve().parents[2]
ARI = os.environ.get("HOTLINE_ARI_URL", "http://127.0.0.1:8088")
ARI_PORT = int(ARI.rsplit(":", 1)[1])
SANDBOX_ROOT = os.environ.get("HOTLINE_SANDBOX_ROOT", "/var/cache/hotline/sid-root")
SOUNDS_DIR = f"{SANDBOX_ROOT}/usr/share/asterisk/sounds/hotline"  # sandbox.sh sounds
SYNTHESISED_GREETING = "<synthesised>"


def ari_get(path: str) -> Any:
    """GET on ARI with the test credentials; None on 404."""
    return ari_request("GET", path)


def ari_request(method: str, path: str) -> Any:
    """A request to ARI with the test credentials; None on 404 or an empty reply."""
    user = os.environ.get("HOTLINE_ARI_USER", "hotline")
    token = base64.b64encode(f"{user}:{os.environ['HOTLINE_ARI_PASSWORD']}".encode()).decode()
    request = urllib.request.Request(
        ARI + "/ari" + path, headers={"Authorization": f"Basic {token}"}, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            body = response.read()
            return json.loads(body) if body.strip() else None
    except urllib.error.HTTPError as err:
        err.close()
        if err.code == 404:
            return None
        raise


@pytest.fixture(scope="session")
def asterisk() -> None:
    if "HOTLINE_ARI_PASSWORD" not in os.environ:
        pytest.fail("HOTLINE_ARI_PASSWORD is not set: run the suite with scripts/test")
    status = subprocess.run(
        [str(REPO / "asterisk-docker/sandbox.sh"), "status"], capture_output=True, check=False
    )
    if status.returncode != 0:
        subprocess.run([str(REPO / "asterisk-docker/sandbox.sh"), "start"], check=True)


@pytest.fixture(scope="session")
def database() -> Iterator[str]:
    """A migrated database with the demo data; yields its name."""

    name = asyncio.run(create_database("hotline_calls"))
    env = {**os.environ, "HOTLINE_DATABASE_URL": sqlalchemy_url(name)}
    for args in (["db", "upgrade"], ["demo-data"]):
        done = subprocess.run(
            [sys.executable, "-m", "hotline", *args],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    asyncio.run(publish_missing(sqlalchemy_url(name)))  # as an admin would (issue 20)
    yield name
    asyncio.run(drop_database(name))


class Service:
    """`hotline serve` as a child process, started and stopped by the tests."""

    def __init__(self, database: str, workdir: Path) -> None:
        self.database = database
        self.workdir = workdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 18080
        self.log = workdir / "service.log"

    def env(self, **overrides: str) -> dict[str, str]:
        """The service's environment. Tests hear Asterisk's short stock greeting unless they
        ask for the synthesised Mandarin one (HOTLINE_GREETING=SYNTHESISED_GREETING)."""
        env = {
            "HOTLINE_GREETING": "sound:hello-world",
            "HOTLINE_SOUNDS_DIR": SOUNDS_DIR,
            **os.environ,
            "HOTLINE_DATABASE_URL": sqlalchemy_url(self.database),
            "HOTLINE_RETENTION_DATABASE_URL": retention_url(self.database),
            "HOTLINE_API_LISTEN": f"127.0.0.1:{self.port}",
            "HOTLINE_API_TOKEN": "test-admin-token-of-the-suite-0123456789",
            "HOTLINE_SPOOL": str(self.workdir / "spool.jsonl"),
            "HOTLINE_LOG_LEVEL": os.environ.get("HOTLINE_LOG_LEVEL", "INFO"),
            "HOTLINE_CALLBACK_RING_S": "6",  # a number called back rings 6 s, not 30
            **overrides,
        }
        if env["HOTLINE_GREETING"] == SYNTHESISED_GREETING:
            del env["HOTLINE_GREETING"]
        return env

    async def start(self, **overrides: str) -> None:
        """Start, leading: until its events socket is up and reconciled."""
        await self._launch(self._registered, overrides)

    async def start_standby(self, **overrides: str) -> None:
        """Start beside a leader: until it stands by and knows who leads (issue 16)."""
        await self._launch(self._standing_by, overrides)

    async def _launch(self, ready: Callable[[], bool], overrides: dict[str, str]) -> None:
        assert self.proc is None
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hotline", "serve"],
                env=self.env(**overrides),
                stdout=log,
                stderr=log,
            )
        async with asyncio.timeout(20):
            while not await asyncio.to_thread(ready):
                if self.proc.poll() is not None:
                    raise AssertionError(f"service exited: {self.log.read_text()[-2000:]}")
                await asyncio.sleep(0.1)

    def health(self) -> dict[str, Any]:
        """/healthz, or {} when it does not answer."""
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/healthz", timeout=2) as r:
                return dict(json.loads(r.read()))
        except OSError:
            return {}

    def _standing_by(self) -> bool:
        seen = self.health()
        return seen.get("role") == "standby" and bool(seen.get("leader"))

    def _registered(self) -> bool:
        """Healthy, with the events socket up and the first reconciliation done."""
        return bool(self.health().get("ari_connected"))

    async def stop(self, sig: int = signal.SIGTERM) -> int:
        assert self.proc is not None
        self.proc.send_signal(sig)
        code = await asyncio.to_thread(self.proc.wait, 20)
        self.proc = None
        return code

    def api(self, path: str) -> Any:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}",
            headers={"Authorization": "Bearer test-admin-token-of-the-suite-0123456789"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            return json.loads(response.read())


@pytest.fixture
async def service(asterisk: None, database: str, tmp_path: Path) -> AsyncIterator[Service]:
    """The service, not yet started; callbacks left pending by earlier tests are cancelled so
    that no test's operators are offered another test's callback."""
    conn = await asyncpg.connect(_dsn(database))
    try:
        await conn.execute("UPDATE callbacks SET status = 'cancelled' WHERE status = 'pending'")
    finally:
        await conn.close()
    svc = Service(database, tmp_path)
    yield svc
    if svc.proc is not None:
        await svc.stop()


@pytest.fixture
async def db(database: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(_dsn(database))
    yield conn
    await conn.close()


@pytest.fixture
async def floor(service: Service) -> AsyncIterator[Floor]:
    """The service running, with a Floor to make queues and operators for one test."""
    from tests.integration.floorkit import Floor

    await service.start()
    async with aiohttp.ClientSession() as http:
        made = Floor(service, http)
        try:
            yield made
        finally:
            await made.undo()


# The console's tests drive Debian's chromium: its fixtures (tests/browser/conftest.py).
from tests.browser.conftest import browser, new_page  # noqa: E402, F401
