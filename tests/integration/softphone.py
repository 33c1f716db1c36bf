"""An operator's SIP softphone played by SIPp: registers with digest auth, then answers,
rings out or is busy for every call (tests/sipp/operator_register.xml + operator_calls.xml).

    phone = Softphone("op1001", "secret", "127.0.0.10", "answer")
    await phone.start()          # returns once Asterisk has the endpoint "online"
    ...                          # calls to PJSIP/op1001 reach it
    await phone.stop()           # unregisters (Expires: 0), so the endpoint goes offline
    phone.calls, phone.answered  # what it saw

Each softphone binds its own loopback address (127.0.0.10 and up) on port 5060.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

from tests.integration.conftest import ari_get
from tests.integration.sipp import ASTERISK, SCENARIOS, TraceLog, free_port, terminate

Behaviour = Literal["answer", "ringout", "busy"]
SIP_PORT = 5060
_IPS = itertools.cycle(range(10, 250))


def next_ip() -> str:
    """A softphone address: 127.0.0.10 .. 127.0.0.249, in turn (a fresh one per phone
    keeps a stopped phone's leftovers, e.g. a qualify in flight, away from the next)."""
    return f"127.0.0.{next(_IPS)}"


class RegistrationFailed(AssertionError):
    """SIPp gave up (the REGISTER was refused) or Asterisk never showed the endpoint online."""


class Softphone:
    def __init__(
        self,
        endpoint: str,
        password: str,
        ip: str,
        behaviour: Behaviour = "answer",
        *,
        ring_ms: int = 200,
        expires: int = 3600,
    ) -> None:
        self.endpoint = endpoint
        self.password = password
        self.ip = ip
        self.behaviour = behaviour
        self.ring_ms = ring_ms
        self.expires = expires
        self.proc: asyncio.subprocess.Process | None = None
        self._dir = Path(tempfile.mkdtemp(prefix=f"softphone-{endpoint}-"))
        self._log = self._dir / "events.log"
        self._out = self._dir / "sipp.out"
        self.registered = False
        self._trace = TraceLog(self._log)  # what it saw, kept once its folder is removed

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- SIPp --------------------------------------------------------------------------------

    def _args(self, *, expires: int, log: Path, error: Path) -> list[str]:
        return [
            "-sf",
            str(SCENARIOS / "operator_register.xml"),
            "-oocsf",
            str(SCENARIOS / "operator_calls.xml"),
            "-key",
            "behaviour",
            self.behaviour,
            "-key",
            "ring_ms",
            str(self.ring_ms),
            "-key",
            "expires",
            str(expires),
            "-s",
            self.endpoint,
            "-au",
            self.endpoint,
            "-ap",
            self.password,
            "-i",
            self.ip,
            "-p",
            str(SIP_PORT),
            "-mp",
            str(free_port(self.ip)),
            "-m",
            "1",
            "-d",
            str(max(expires // 2, 1) * 1000),  # re-REGISTER half-way to the expiry
            "-nostdin",
            "-trace_logs",
            "-log_file",
            str(log),
            "-trace_err",
            "-error_file",
            str(error),
            ASTERISK,
        ]

    async def start(self, *, limit: float = 25.0) -> None:
        """Start SIPp; return once registered and the endpoint is "online" in Asterisk.

        "online" needs the first qualify (OPTIONS) answered. A contact that was found
        unreachable before keeps that status across a re-REGISTER until the next periodic
        qualify (up to the aor's qualify_frequency, 15 s): hence the generous ``limit``.
        Raises :class:`RegistrationFailed` (and leaves nothing running) otherwise.
        """
        assert self.proc is None, "already started"
        with self._out.open("ab") as out:
            self.proc = await asyncio.create_subprocess_exec(
                "sipp",
                *self._args(expires=self.expires, log=self._log, error=self._dir / "errors.log"),
                stdout=out,
                stderr=asyncio.subprocess.STDOUT,
                stdin=asyncio.subprocess.DEVNULL,
                cwd=self._dir,
            )
        try:
            async with asyncio.timeout(limit):
                while not (self._said("registered") and await self.online()):
                    if self.proc.returncode is not None:
                        raise RegistrationFailed(
                            f"SIPp exited ({self.proc.returncode}): {self._tail()}"
                        )
                    await asyncio.sleep(0.1)
        except BaseException as err:
            await self._terminate()
            if isinstance(err, TimeoutError):
                raise RegistrationFailed(
                    f"{self.endpoint} not online after {limit} s"
                    f" (SIPp registered: {self._said('registered')}): {self._tail()}"
                ) from None
            raise
        self.registered = True

    async def stop(self, *, unregister: bool = True) -> None:
        """Stop SIPp; then, if it had registered, send REGISTER Expires: 0 (like a
        softphone that logs off) so the endpoint goes offline at once rather than after a
        failed qualify. Safe to call twice."""
        await self._terminate()
        if unregister and self.registered:
            self.registered = False
            proc = await asyncio.create_subprocess_exec(
                "sipp",
                *self._args(
                    expires=0, log=self._dir / "unregister.log", error=self._dir / "unreg.err"
                ),
                "-timeout",
                "10s",
                stdout=asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.DEVNULL,
                stdin=asyncio.subprocess.DEVNULL,
                cwd=self._dir,
            )
            try:
                await asyncio.wait_for(proc.wait(), 15)
            except TimeoutError:
                proc.kill()
                await proc.wait()
        shutil.rmtree(self._dir, ignore_errors=True)

    async def _terminate(self) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        await terminate(proc)
        self._trace.keep()

    # -- what it saw -------------------------------------------------------------------------

    def _events(self) -> list[str]:
        return self._trace.words()

    def _said(self, word: str) -> bool:
        return word in self._events()

    def _tail(self) -> str:
        try:
            return self._out.read_text(errors="replace")[-1500:]
        except FileNotFoundError:
            return ""

    @property
    def counts(self) -> Counter[str]:
        """invite / answered / ended / cancelled / busy, and registered (REGISTERs that
        succeeded, refreshes included)."""
        return self._trace.counts

    @property
    def calls(self) -> int:
        """INVITEs received."""
        return self.counts["invite"]

    @property
    def answered(self) -> int:
        return self.counts["answered"]

    async def wait_for(self, word: str, count: int = 1, *, limit: float = 10.0) -> None:
        """Wait until the softphone has logged ``word`` (e.g. "ended") ``count`` times."""
        await self._trace.wait_for(word, count, limit)

    async def online(self) -> bool:
        """Whether Asterisk shows this softphone's endpoint "online"."""
        return await endpoint_state(self.endpoint) == "online"


async def endpoint_state(endpoint: str) -> str | None:
    """ARI state of PJSIP/<endpoint> ("online", "offline", ...), None if it does not exist."""
    data = await asyncio.to_thread(ari_get, f"/endpoints/PJSIP/{endpoint}")
    return None if data is None else str(data.get("state"))
