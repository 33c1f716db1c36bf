"""A phone reached through the carrier trunk (an elder's mobile, 120, the family): SIPp on the
carrier's address 127.0.0.2:5060 taking every call Asterisk sends to PJSIP/<number>@pstn.

It plays tests/sipp/operator_calls.xml as its main scenario, without registering: "answer"
(and wait for the BYE), "ringout" (ring until cancelled) or "busy".

    async with OutsidePhone("answer") as phone:
        ...
        await phone.wait_for("answered")
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.integration.sipp import CARRIER_IP, SCENARIOS, TraceLog, free_port, terminate
from tests.integration.softphone import Behaviour


class OutsidePhone:
    def __init__(self, behaviour: Behaviour, *, ip: str = CARRIER_IP, ring_ms: int = 300) -> None:
        self.behaviour = behaviour
        self.ip = ip
        self.ring_ms = ring_ms
        self.proc: asyncio.subprocess.Process | None = None
        self._dir = Path(tempfile.mkdtemp(prefix="outside-phone-"))
        self._log = self._dir / "events.log"
        self._trace = TraceLog(self._log)

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

    async def start(self) -> None:
        assert self.proc is None
        self.proc = await asyncio.create_subprocess_exec(
            "sipp",
            "-sf",
            str(SCENARIOS / "operator_calls.xml"),
            "-key",
            "behaviour",
            self.behaviour,
            "-key",
            "ring_ms",
            str(self.ring_ms),
            "-i",
            self.ip,
            "-p",
            "5060",
            "-mp",
            str(free_port(self.ip)),
            "-nostdin",
            "-trace_logs",
            "-log_file",
            str(self._log),
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
            stdin=asyncio.subprocess.DEVNULL,
            cwd=self._dir,
        )
        await asyncio.sleep(0.3)  # bound to its port
        if self.proc.returncode is not None:
            raise AssertionError(f"SIPp outside phone exited ({self.proc.returncode})")

    async def stop(self) -> None:
        proc, self.proc = self.proc, None
        await terminate(proc)
        self._trace.keep()
        shutil.rmtree(self._dir, ignore_errors=True)

    @property
    def counts(self) -> Counter[str]:
        """invite / answered / ended / cancelled / busy."""
        return self._trace.counts

    async def wait_for(self, word: str, count: int = 1, *, limit: float = 20.0) -> None:
        await self._trace.wait_for(word, count, limit)
