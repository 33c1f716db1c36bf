"""Phones whose audio is the test's own: SIPp does the signalling, and the SDP points at a
UDP socket here that speaks a tone (RTP, PCMA, 20 ms packets) and keeps what it receives.

So a test measures what a party really hears at their phone. A snoop channel cannot show
everything (tests/integration/listen.py): Asterisk feeds spies before it mixes a whisper
in, so a supervisor whispering to an operator is heard by the operator's phone but by no
snoop on the operator's channel.

    async with Voice("127.0.0.2", 440.0) as voice:
        caller = asyncio.create_task(voiced_call(voice, "12349", "13800000000"))
        ...
        heard = await voice.hears(2)       # what reached the phone in the next 2 s
        level(heard, 700.0)                # tones.level

Asterisk's endpoints use symmetric RTP: it sends to the address in our SDP, then to where
our packets come from. Both are this socket; the peer is learnt from its first packet.
"""

from __future__ import annotations

import array
import asyncio
import math
import struct
from collections import Counter
from pathlib import Path
from types import TracebackType
from typing import Self

from tests.integration import sipp
from tests.integration.floorkit import Floor
from tests.integration.softphone import Softphone
from tests.integration.tones import PACKET, PCMA, RATE, _alaw


def _alaw_to_linear(code: int) -> int:
    """One G.711 A-law byte as a 16-bit linear sample (the inverse of tones._alaw)."""
    code ^= 0x55
    magnitude = (code & 0x0F) << 4
    segment = (code & 0x70) >> 4
    if segment == 0:
        magnitude += 8
    else:
        magnitude = (magnitude + 0x108) << (segment - 1)
    return magnitude if code & 0x80 else -magnitude


_DECODE = [_alaw_to_linear(c) for c in range(256)]


class Voice(asyncio.DatagramProtocol):
    """One party's audio: speaks `hz` once it knows where to, records what it receives."""

    def __init__(self, ip: str, hz: float, *, level: float = 8000.0) -> None:
        self.ip = ip
        self.hz = hz
        self.port = 0
        self._level = level
        self._transport: asyncio.DatagramTransport | None = None
        self._peer: tuple[str, int] | None = None
        self._received: list[tuple[float, bytes]] = []  # (loop time, PCMA payload)
        self._speaker: asyncio.Task[None] | None = None
        self._payloads = self._tone_payloads()
        self.types: Counter[int] = Counter()  # payload types received

    def _tone_payloads(self) -> list[bytes]:
        """One second of the tone, 50 payloads (the tone's whole cycles fit in a second)."""
        return [
            bytes(
                _alaw(int(self._level * math.sin(2 * math.pi * self.hz * (n * PACKET + i) / RATE)))
                for i in range(PACKET)
            )
            for n in range(RATE // PACKET)
        ]

    async def __aenter__(self) -> Self:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(lambda: self, local_addr=(self.ip, 0))
        self._transport = transport
        self.port = transport.get_extra_info("sockname")[1]
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._speaker is not None:
            self._speaker.cancel()
            await asyncio.gather(self._speaker, return_exceptions=True)
        if self._transport is not None:
            self._transport.close()

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:  # type: ignore[override]
        if len(data) < 12 or data[0] >> 6 != 2:
            return
        if self._peer is None:
            self._peer = addr
            self._speaker = asyncio.get_running_loop().create_task(self._speak())
        self.types[data[1] & 0x7F] += 1
        if data[1] & 0x7F != PCMA:
            return  # telephone-event, comfort noise
        start = 12 + 4 * (data[0] & 0x0F)
        if data[0] & 0x10 and len(data) >= start + 4:  # a header extension
            start += 4 + 4 * struct.unpack_from("!H", data, start + 2)[0]
        self._received.append((asyncio.get_running_loop().time(), data[start:]))

    async def _speak(self) -> None:
        """20 ms packets on the loop's clock (no drift), with consecutive sequence numbers
        and timestamps, as a phone sends them."""
        assert self._transport is not None and self._peer is not None
        loop = asyncio.get_running_loop()
        ssrc = int(self.hz) * 7919
        origin = loop.time()
        n = 0
        while True:
            header = struct.pack("!BBHII", 0x80, PCMA, n & 0xFFFF, (n * PACKET) & 0xFFFFFFFF, ssrc)
            self._transport.sendto(header + self._payloads[n % len(self._payloads)], self._peer)
            n += 1
            await asyncio.sleep(max(0.0, origin + n * PACKET / RATE - loop.time()))

    @property
    def speaking(self) -> bool:
        return self._speaker is not None

    async def hears(self, seconds: float = 2.0) -> array.array[int]:
        """What reaches this phone in the next `seconds`, as 16-bit samples."""
        start = asyncio.get_running_loop().time()
        await asyncio.sleep(seconds)
        pcm = array.array("h")
        for at, payload in self._received:
            if at >= start:
                pcm.extend(_DECODE[b] for b in payload)
        return pcm


# --- SIPp scenarios whose media is a Voice -------------------------------------------------


def _media_to(text: str, port: int, offer: str) -> str:
    """The scenario with its SDP's audio line on `port`, offering PCMA (and DTMF) only."""
    assert offer in text, f"unexpected SDP in the scenario: {offer!r}"
    out: list[str] = []
    for line in text.splitlines(keepends=True):
        indent = line[: len(line) - len(line.lstrip())]
        if line.strip() == offer:
            out += [f"{indent}m=audio {port} RTP/AVP 8 101\n", f"{indent}a=rtpmap:8 PCMA/8000\n"]
        elif line.strip() not in ("a=rtpmap:0 PCMU/8000", "a=rtpmap:8 PCMA/8000"):
            out.append(line)
    return "".join(out)


class VoicedPhone(Softphone):
    """An operator's softphone (tests/integration/softphone.py) whose calls speak and hear
    through `voice` (one call at a time)."""

    def __init__(self, endpoint: str, password: str, ip: str, voice: Voice) -> None:
        super().__init__(endpoint, password, ip, "answer")
        self.voice = voice
        template = (sipp.SCENARIOS / "operator_calls.xml").read_text()
        self.scenario = self._dir / "voiced_calls.xml"
        self.scenario.write_text(
            _media_to(template, voice.port, "m=audio [media_port] RTP/AVP 0 8 101")
        )

    def _args(self, *, expires: int, log: Path, error: Path) -> list[str]:
        args = super()._args(expires=expires, log=log, error=error)
        args[args.index("-oocsf") + 1] = str(self.scenario)
        return args


async def voiced_operator(
    floor: Floor, queues: dict[str, int], voice: Voice, *, ready: bool = True
) -> tuple[int, VoicedPhone]:
    """An operator of the test's floor (floorkit) on a VoicedPhone."""
    op_id, plain = await floor.operator(queues, ready=False, register=False)
    await plain.stop()  # never started: only its account is used
    phone = VoicedPhone(plain.endpoint, plain.password, voice.ip, voice)
    floor.phones.append(phone)
    await phone.start()
    if ready:
        await floor.state(op_id, "ready")
    return op_id, phone


async def voiced_call(
    voice: Voice, service: str, caller: str, *, hold_ms: int, folder: Path
) -> sipp.SippRun:
    """A caller from the carrier (`voice.ip` must be sipp.CARRIER_IP) who speaks through
    `voice` and hangs up after `hold_ms`."""
    template = (sipp.SCENARIOS / "caller.xml").read_text()
    scenario = folder / f"voiced_caller_{voice.port}.xml"
    scenario.write_text(_media_to(template, voice.port, "m=audio [media_port] RTP/AVP 0 101"))
    return await sipp.call(
        service,
        caller,
        hold_ms=hold_ms,
        from_ip=voice.ip,
        scenario=str(scenario),
        limit=hold_ms / 1000 + 30,
    )
