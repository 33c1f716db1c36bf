"""Offline text to speech for Asterisk: espeak-ng piped into sox, written as 8 kHz mono
16-bit WAV files that Asterisk plays as `sound:<prefix>/tts-<hash>`.

A file is named by a hash of what shapes its sound (language, voice, rate, text), so a text
is synthesised once and then found on disk, also by later processes. The text itself is
never logged nor put in an error, a file name or a command line: it can hold an elder's
name and address.

Private texts (an emergency's spoken summary: name, address, medication) are kept apart:
named `sum-<hash>`, mode 0600 and owned by the sounds directory's owner (the user Asterisk
reads as), removed once they have served (forget) and swept away at start and every hour
(sweep), so that a crash leaves nothing behind for long.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from .pinyin import to_pinyin

log = logging.getLogger(__name__)

VOICES = {"zh": "cmn-latn-pinyin", "en": "en-us", "ru": "ru"}
ESPEAK = "espeak-ng"
SOX = "sox"
RATES = range(80, 451)  # words a minute espeak-ng accepts
TIMEOUT_S = 30.0
PRIVATE = "sum-"  # the prefix of private files
PIPELINE = 2  # part of every file's hash: bump when the same text would now sound different
_TO_ASTERISK = ("-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", "-t", "wav")
# espeak-ng peaks at full scale (resampling would clip): 1 dB of headroom. Its half second of
# silence before and after the words is cut: a caller should not wait on dead air.
_EFFECTS = (
    "gain", "-1",
    "silence", "1", "0.02", "0.5%", "reverse", "silence", "1", "0.02", "0.5%", "reverse",
)  # fmt: skip


class SpeechError(Exception):
    """Synthesis failed: espeak-ng or sox missing, failing or too slow."""


@dataclass(frozen=True)
class Sound:
    """A synthesised text: `name` is what Asterisk plays, `path` the file on this host."""

    name: str
    path: Path
    cached: bool  # found on disk, not synthesised by this call
    seconds: float  # synthesis time; 0 when cached


@dataclass
class _Flight:
    lock: asyncio.Lock
    users: int = 0


class Speech:
    """Synthesises texts into `directory`, which Asterisk knows as `sound:<media_prefix>/`.
    `rate` is in words a minute; espeak-ng counts a Mandarin syllable as a word."""

    def __init__(self, directory: Path, media_prefix: str, *, rate: int = 120) -> None:
        if rate not in RATES:
            raise ValueError(f"rate must be {RATES.start}..{RATES.stop - 1} words a minute")
        self.directory = directory
        self.media_prefix = media_prefix.strip("/")
        self.rate = rate
        self._flights: dict[str, _Flight] = {}

    def stem(
        self, text: str, *, lang: str = "zh", rate: int | None = None, private: bool = False
    ) -> str:
        """The file name (without .wav) that `text` is synthesised into."""
        said = rate or self.rate
        key = json.dumps([PIPELINE, lang, _voice(lang), said, text], ensure_ascii=False)
        return (PRIVATE if private else "tts-") + hashlib.sha256(key.encode()).hexdigest()[:20]

    async def say(
        self, text: str, *, lang: str = "zh", rate: int | None = None, private: bool = False
    ) -> Sound:
        """`text` as a sound Asterisk can play: from disk when synthesised before, else
        synthesised now (once, however many ask at the same time); at `rate` words a minute
        instead of the engine's own when given; `private` for personal data (see above).
        Raises SpeechError, or ValueError for an unknown `lang` or nothing to say."""
        if rate is not None and rate not in RATES:
            raise ValueError(f"rate must be {RATES.start}..{RATES.stop - 1} words a minute")
        stem = self.stem(text, lang=lang, rate=rate, private=private)
        path = self.directory / f"{stem}.wav"
        name = f"sound:{self.media_prefix}/{stem}" if self.media_prefix else f"sound:{stem}"
        async with self._alone(stem):
            if await asyncio.to_thread(path.is_file):
                return Sound(name, path, cached=True, seconds=0.0)
            started = time.monotonic()
            spoken = to_pinyin(text) if lang == "zh" else text.strip()
            if not spoken:
                raise ValueError("nothing to say: the text has no speakable characters")
            await self._synthesise(spoken, _voice(lang), rate or self.rate, path, private)
            seconds = time.monotonic() - started
        log.debug("synthesised %s (%s) in %.2f s", stem, lang, seconds)
        return Sound(name, path, cached=False, seconds=seconds)

    async def forget(self, text: str, *, lang: str = "zh", private: bool = True) -> None:
        """Remove `text`'s file (a summary naming an elder is not kept once it has served)."""
        stem = self.stem(text, lang=lang, private=private)
        async with self._alone(stem):
            with contextlib.suppress(FileNotFoundError):
                await asyncio.to_thread((self.directory / f"{stem}.wav").unlink)

    async def sweep(self, older_than_s: float = 0.0) -> int:
        """Remove the private files (and any half-written file) last written more than
        `older_than_s` seconds ago; how many. One still needed is synthesised again."""
        return await asyncio.to_thread(_sweep, self.directory, time.time() - older_than_s)

    @contextlib.asynccontextmanager
    async def _alone(self, stem: str) -> AsyncIterator[None]:
        """Hold `stem`'s lock; the lock is forgotten when its last user leaves."""
        flight = self._flights.setdefault(stem, _Flight(asyncio.Lock()))
        flight.users += 1
        try:
            async with flight.lock:
                yield
        finally:
            flight.users -= 1
            if not flight.users:
                del self._flights[stem]

    async def _synthesise(
        self, spoken: str, voice: str, rate: int, path: Path, private: bool
    ) -> None:
        part = self.directory / f".{path.stem}.{uuid.uuid4().hex}.part"
        try:
            await asyncio.to_thread(_make_directory, self.directory)
            async with asyncio.timeout(TIMEOUT_S):
                await self._pipeline(spoken, voice, rate, part)
            await asyncio.to_thread(_publish, part, path, private)
        except TimeoutError:
            raise SpeechError(f"synthesis took longer than {TIMEOUT_S:g} s") from None
        except OSError as err:
            raise SpeechError(f"cannot write into {self.directory}: {err.strerror}") from err
        finally:
            with contextlib.suppress(OSError):  # not awaited: must run even when cancelled
                part.unlink()

    async def _pipeline(self, spoken: str, voice: str, rate: int, out: Path) -> None:
        """espeak-ng (text on stdin, WAV on stdout) | sox -> `out`; kills both when stopped."""
        sox_in, espeak_out = os.pipe()
        procs: list[asyncio.subprocess.Process] = []
        try:
            espeak = await _start(
                ESPEAK,
                ["-v", voice, "-s", str(rate), "-b", "1", "--stdin", "--stdout"],
                stdin=asyncio.subprocess.PIPE,
                stdout=espeak_out,
            )
            procs.append(espeak)
            sox = await _start(
                SOX,
                ["-t", "wav", "-", *_TO_ASTERISK, str(out), *_EFFECTS],
                stdin=sox_in,
                stdout=asyncio.subprocess.DEVNULL,
            )
            procs.append(sox)
            os.close(sox_in)  # sox sees the end of its input when espeak-ng exits
            os.close(espeak_out)
            sox_in = espeak_out = -1
            (_, espeak_err), (_, sox_err) = await asyncio.gather(
                espeak.communicate(spoken.encode()), sox.communicate()
            )
            checks = [(ESPEAK, espeak, espeak_err), (SOX, sox, sox_err)]
            if espeak.returncode == -signal.SIGPIPE:  # sox stopped reading: its error first
                checks.reverse()
            for program, proc, stderr in checks:
                _check(program, proc, stderr)
        finally:
            for fd in (sox_in, espeak_out):
                if fd >= 0:
                    os.close(fd)
            for proc in procs:
                if proc.returncode is None:
                    proc.kill()
                    await proc.wait()


def _voice(lang: str) -> str:
    try:
        return VOICES[lang]
    except KeyError:
        raise ValueError(f"no voice for language {lang!r}; known: {', '.join(VOICES)}") from None


async def _start(
    program: str, args: list[str], *, stdin: int, stdout: int
) -> asyncio.subprocess.Process:
    try:
        return await asyncio.create_subprocess_exec(
            program, *args, stdin=stdin, stdout=stdout, stderr=asyncio.subprocess.PIPE
        )
    except FileNotFoundError:
        raise SpeechError(f"{program} is not installed (apt-get install {program})") from None
    except OSError as err:
        raise SpeechError(f"cannot run {program}: {err.strerror}") from None


def _check(program: str, proc: asyncio.subprocess.Process, stderr: bytes) -> None:
    if proc.returncode != 0:
        lines = stderr.decode(errors="replace").strip().splitlines()
        why = lines[-1][:200] if lines else "no message"
        raise SpeechError(f"{program} failed with exit status {proc.returncode}: {why}")


def _make_directory(directory: Path) -> None:
    if not directory.is_dir():
        directory.mkdir(parents=True, exist_ok=True)
        directory.chmod(0o755)  # whatever the umask: Asterisk reads it


def _publish(part: Path, path: Path, private: bool) -> None:
    """Make `part` readable by Asterisk and durable, then rename it into place."""
    if private:
        _keep_private(part)
    else:
        part.chmod(0o644)
    fd = os.open(part, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(part, path)


def _keep_private(part: Path) -> None:
    """0600, owned by the user Asterisk reads as (the sounds directory's owner): the service
    running as root hands the file over; running as that user, it is its own already. Running
    as another user, Asterisk could not read a 0600 file: 0640 for the directory's group, and
    a warning that the service should run as Asterisk's user."""
    home = part.parent.stat()
    if os.geteuid() == home.st_uid:
        part.chmod(0o600)
    elif os.geteuid() == 0:
        os.chown(part, home.st_uid, home.st_gid)
        part.chmod(0o600)
    else:
        os.chown(part, -1, home.st_gid)
        part.chmod(0o640)
        _warn_shared(str(part.parent))


@functools.cache
def _warn_shared(directory: str) -> None:  # once a directory
    log.warning(
        "private speech is 0640 for the group of %s: run the service as the user that "
        "owns it (Asterisk's) to keep it 0600",
        directory,
    )


def _sweep(directory: Path, before: float) -> int:
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        name = entry.name
        if not (name.startswith(PRIVATE) or (name.startswith(".") and name.endswith(".part"))):
            continue
        with contextlib.suppress(FileNotFoundError):
            if entry.stat().st_mtime < before:
                os.unlink(entry.path)
                removed += 1
    return removed
