"""Each party of a test call speaks its own tone, so a recording of what one party hears
tells whose audio reached it: a pcap of RTP (PCMA, 20 ms packets) for SIPp to play, and a
Goertzel filter to find a tone in a recording.

One long pcap, played once per call: replaying a short one would repeat its RTP sequence
numbers and timestamps, which is not what a phone sends.
"""

from __future__ import annotations

import array
import io
import math
import struct
import wave
from pathlib import Path

RATE = 8000
PACKET = 160  # samples: 20 ms
PCMA = 8


def _alaw(sample: int) -> int:
    """One 16-bit linear sample as G.711 A-law."""
    sign = 0x80 if sample >= 0 else 0x00
    magnitude = min(abs(sample), 32635) >> 3
    if magnitude < 32:
        code = magnitude >> 1
    else:
        exponent = magnitude.bit_length() - 5
        code = (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    return (code | sign) ^ 0x55


def tone_pcap(path: Path, hz: float, seconds: float, *, level: float = 8000.0) -> Path:
    """A pcap of RTP packets carrying a `hz` sine for `seconds`, 20 ms apart."""
    packets = int(seconds * RATE / PACKET)
    out = io.BytesIO()
    out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))  # Ethernet
    ssrc = int(hz) * 7919
    for n in range(packets):
        payload = bytes(
            _alaw(int(level * math.sin(2 * math.pi * hz * (n * PACKET + i) / RATE)))
            for i in range(PACKET)
        )
        rtp = struct.pack("!BBHII", 0x80, PCMA, n & 0xFFFF, n * PACKET, ssrc) + payload
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = (
            struct.pack(
                "!BBHHHBBH4s4s",
                0x45,
                0,
                20 + len(udp),
                n & 0xFFFF,
                0,
                64,
                17,
                0,
                bytes([10, 0, 0, 1]),
                bytes([10, 0, 0, 2]),
            )
            + udp
        )
        frame = b"\x00" * 12 + b"\x08\x00" + ip
        usec = n * 20_000
        out.write(struct.pack("<IIII", usec // 1_000_000, usec % 1_000_000, len(frame), len(frame)))
        out.write(frame)
    path.write_bytes(out.getvalue())
    return path


def samples(wav: bytes) -> array.array[int]:
    with wave.open(io.BytesIO(wav)) as w:
        assert w.getsampwidth() == 2 and w.getnchannels() == 1 and w.getframerate() == RATE
        return array.array("h", w.readframes(w.getnframes()))


def level(pcm: array.array[int], hz: float) -> float:
    """How strong the `hz` tone is in the samples (Goertzel; RMS-like amplitude)."""
    if not pcm:
        return 0.0
    coeff = 2 * math.cos(2 * math.pi * hz / RATE)
    s1 = s2 = 0.0
    for x in pcm:
        s1, s2 = x + coeff * s1 - s2, s1
    power = s1 * s1 + s2 * s2 - coeff * s1 * s2
    return math.sqrt(max(power, 0.0)) / len(pcm) * 2
