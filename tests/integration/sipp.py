"""SIPp as the real SIP peers: callers from the carrier address, duty phones that answer."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import signal
import socket
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SCENARIOS = Path(__file__).resolve().parents[1] / "sipp"
ASTERISK = f"127.0.0.1:{os.environ.get('HOTLINE_SIP_PORT', '5060')}"
CARRIER_IP = "127.0.0.2"
TERMINAL_GATEWAY_IP = "127.0.0.3"
DUTY_IP = "127.0.0.4"


_PORTS = itertools.count(random.randrange(30000, 50000, 4), 4)


def _bindable(ip: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.bind((ip, port))
        except OSError:
            return False
    return True


def free_port(ip: str) -> int:
    """A UDP port on `ip` for SIPp, with the three above it free too (SIPp takes -mp and
    -mp + 2 for media), never handed out twice in this process: two SIPp on one address
    cannot collide (an OS-chosen port could be the other's media port + 2)."""
    for port in _PORTS:
        if port > 60000:
            break
        if all(_bindable(ip, p) for p in range(port, port + 4)):
            return port
    raise RuntimeError(f"no free UDP ports left on {ip}")


@dataclass
class SippRun:
    returncode: int
    output: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


async def _run(args: list[str], limit: float) -> SippRun:
    proc = await asyncio.create_subprocess_exec(
        "sipp",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        stdin=asyncio.subprocess.DEVNULL,
    )
    try:
        out, _ = await asyncio.wait_for(proc.communicate(), limit)
    except TimeoutError:
        proc.kill()
        out, _ = await proc.communicate()
        return SippRun(-1, out.decode(errors="replace"))
    except asyncio.CancelledError:  # the test gave up on it: no SIPp left behind
        proc.kill()
        await proc.communicate()
        raise
    return SippRun(proc.returncode or 0, out.decode(errors="replace")[-3000:])


async def call(
    service: str,
    caller: str,
    *,
    hold_ms: int = 3000,
    from_ip: str = CARRIER_IP,
    limit: float = 60.0,
    scenario: str = "caller.xml",
    keys: dict[str, str] | None = None,
) -> SippRun:
    """One call to ``service`` presenting ``caller``; hangs up after ``hold_ms``. `keys`:
    the scenario's other -key values (caller_survey.xml: what the caller presses)."""
    port = free_port(from_ip)
    extra = [arg for name, value in (keys or {}).items() for arg in ("-key", name, value)]
    return await _run(
        [
            "-sf",
            str(SCENARIOS / scenario),
            "-s",
            service,
            "-key",
            "caller",
            caller,
            *extra,
            "-i",
            from_ip,
            "-p",
            str(port),
            "-mp",
            str(free_port(from_ip)),
            "-m",
            "1",
            "-d",
            str(hold_ms),
            "-nostdin",
            "-timeout",
            f"{int(limit)}s",
            "-timeout_error",
            ASTERISK,
        ],
        limit + 5,
    )


async def duty_phone(*, limit: float = 60.0, ip: str = DUTY_IP) -> SippRun:
    """The duty supervisor's phone: answers one call on 127.0.0.4:5060 and waits for BYE.
    With ``ip`` = CARRIER_IP it is an outside party reached through the carrier trunk."""
    return await _run(
        [
            "-sn",
            "uas",
            "-i",
            ip,
            "-p",
            "5060",
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            f"{int(limit)}s",
            "-timeout_error",
        ],
        limit + 5,
    )


async def message(
    target: str,
    body: str,
    *,
    content_type: str,
    log: Path,
    expect_snu: int | None = None,
    scenario: str = "scaip_message.xml",
) -> SippRun:
    """One out-of-dialog MESSAGE from the terminal gateway's address to `target` (host:port).
    With scaip_message.xml SIPp fails unless the 200 OK's <mrs> has `expect_snu`."""
    snu = ["-set", "expect_snu", str(expect_snu)] if expect_snu is not None else []
    ip = TERMINAL_GATEWAY_IP
    return await _run(
        [
            "-sf",
            str(SCENARIOS / scenario),
            "-s",
            "alarm",
            "-key",
            "ctype",
            content_type,
            "-key",
            "body",
            body,
            *snu,
            "-i",
            ip,
            "-p",
            str(free_port(ip)),
            "-mp",
            str(free_port(ip)),
            "-m",
            "1",
            "-nostdin",
            "-timeout",
            "10s",
            "-timeout_error",
            "-trace_logs",
            "-log_file",
            str(log),
            target,
        ],
        20,
    )


async def terminate(proc: asyncio.subprocess.Process | None) -> None:
    """Stop a SIPp process: SIGTERM, then a kill if it has not gone within 5 s."""
    if proc is None or proc.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.wait_for(proc.wait(), 5)
    except TimeoutError:
        proc.kill()
        await proc.wait()


class TraceLog:
    """What a SIPp scenario logs with -trace_logs: the first word of each line ("invite",
    "answered", "ended", ...). `keep()` holds on to them before the log's folder goes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._kept: list[str] = []

    def words(self) -> list[str]:
        try:
            text = self.path.read_text(errors="replace")
        except FileNotFoundError:
            return self._kept
        return [line.split()[0] for line in text.splitlines() if line.strip()]

    def keep(self) -> None:
        self._kept = self.words()

    @property
    def counts(self) -> Counter[str]:
        return Counter(self.words())

    async def wait_for(self, word: str, count: int, limit: float) -> None:
        """Wait until `word` has been logged `count` times."""
        async with asyncio.timeout(limit):
            while self.counts[word] < count:
                await asyncio.sleep(0.05)
