"""Speech with sound: the real espeak-ng and sox write WAV files Asterisk can play; a file is
made once; failures say which program failed and never what was to be said."""

# ruff: noqa: RUF001 - Mandarin text: its full-width punctuation is meant

from __future__ import annotations

import array
import asyncio
import os
import shutil
import stat
import time
import wave
from pathlib import Path

import pytest

from hotline.speech import tts
from hotline.speech.prompts import PromptTexts, build_prompts
from hotline.speech.summary import ElderFacts, emergency_summary
from hotline.speech.tts import Speech, SpeechError

PRIVATE = "老人王秀英，地址：幸福路 1 号 3 单元 201。"
ESPEAK = shutil.which("espeak-ng")
SOX = shutil.which("sox")


def spoken(path: Path) -> float:
    """Seconds of speech in an Asterisk-ready WAV; fails unless 8 kHz mono 16-bit and audible."""
    with wave.open(str(path), "rb") as w:
        assert w.getframerate() == 8000
        assert w.getnchannels() == 1
        assert w.getsampwidth() == 2
        assert w.getcomptype() == "NONE"
        frames = w.getnframes()
        samples = array.array("h", w.readframes(frames))
    assert max(abs(s) for s in samples) > 3000  # speech, not silence
    return frames / 8000


def shim(bin_dir: Path, name: str, body: str) -> None:
    """A stand-in for `name` on PATH: a shell script running `body`."""
    bin_dir.mkdir(exist_ok=True)
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if not p.name.endswith(".wav"))


@pytest.fixture
def sounds(tmp_path: Path) -> Path:
    return tmp_path / "asterisk" / "sounds" / "hotline"


async def test_mandarin_becomes_an_asterisk_wav(sounds: Path) -> None:
    sound = await Speech(sounds, "hotline").say(
        "您好，这里是养老服务热线。请稍候，我们马上为您接通。"
    )
    assert not sound.cached
    assert sound.seconds > 0
    assert sound.path.parent == sounds
    assert sound.name == f"sound:hotline/{sound.path.stem}"
    assert sound.path.name.startswith("tts-") and len(sound.path.stem) == len("tts-") + 20
    assert 5 < spoken(sound.path) < 20  # 24 syllables, slowly
    assert stat.S_IMODE(sound.path.stat().st_mode) == 0o644
    assert stat.S_IMODE(sounds.stat().st_mode) == 0o755
    assert leftovers(sounds) == []


async def test_a_forgotten_text_is_removed_and_said_again_when_asked(sounds: Path) -> None:
    speech = Speech(sounds, "hotline")
    first = await speech.say("老人王秀英，地址示范路一号", private=True)
    await speech.forget("老人王秀英，地址示范路一号", private=True)
    assert not first.path.exists()
    await speech.forget("老人王秀英，地址示范路一号", private=True)  # nothing to remove: no error
    again = await speech.say("老人王秀英，地址示范路一号", private=True)
    assert not again.cached and again.path == first.path


async def test_a_private_text_is_0600_owned_like_its_directory_and_apart(sounds: Path) -> None:
    speech = Speech(sounds, "hotline")
    private = await speech.say("老人王秀英，地址示范路一号", private=True)
    public = await speech.say("老人王秀英，地址示范路一号")
    assert private.path != public.path  # never the same file as a public text's
    assert private.path.name.startswith("sum-") and public.path.name.startswith("tts-")
    assert stat.S_IMODE(private.path.stat().st_mode) == 0o600
    assert private.path.stat().st_uid == sounds.stat().st_uid
    assert stat.S_IMODE(public.path.stat().st_mode) == 0o644


@pytest.mark.skipif(os.geteuid() != 0, reason="handing a file to another user needs root")
async def test_run_as_root_a_private_text_is_handed_to_asterisks_user(sounds: Path) -> None:
    sounds.mkdir(parents=True)
    os.chown(sounds, 65534, 65534)  # the directory Asterisk's user owns (sandbox.sh)
    private = await Speech(sounds, "hotline").say("老人王秀英", private=True)
    assert (private.path.stat().st_uid, private.path.stat().st_gid) == (65534, 65534)
    assert stat.S_IMODE(private.path.stat().st_mode) == 0o600


async def test_sweep_removes_private_and_half_written_files_only(sounds: Path) -> None:
    speech = Speech(sounds, "hotline")
    private = await speech.say("老人王秀英，地址示范路一号", private=True)
    public = await speech.say("请稍候")
    half = sounds / ".sum-0123.abcd.part"
    half.write_bytes(b"RIFF")
    assert await speech.sweep(older_than_s=3600) == 0  # all of them are new
    old = time.time() - 7200
    for path in (private.path, public.path, half):
        os.utime(path, (old, old))
    assert await speech.sweep(older_than_s=3600) == 2
    assert not private.path.exists() and not half.exists()
    assert public.path.exists()  # prompts stay: they name nobody
    again = await speech.say("老人王秀英，地址示范路一号", private=True)
    assert not again.cached  # said again when needed after a sweep


async def test_directory_mode_whatever_the_umask(sounds: Path) -> None:
    old = os.umask(0o077)
    try:
        sound = await Speech(sounds, "hotline").say("你好")
    finally:
        os.umask(old)
    assert stat.S_IMODE(sounds.stat().st_mode) == 0o755
    assert stat.S_IMODE(sound.path.stat().st_mode) == 0o644


async def test_a_said_text_is_found_on_disk_without_running_anything(
    sounds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = await Speech(sounds, "hotline").say(PRIVATE)
    made = first.path.stat()
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # espeak-ng and sox are gone
    again = await Speech(sounds, "hotline").say(PRIVATE)  # a new instance: found on disk
    assert again.cached
    assert again.seconds == 0.0
    assert (again.name, again.path) == (first.name, first.path)
    assert again.path.stat().st_mtime_ns == made.st_mtime_ns
    assert again.path.stat().st_ino == made.st_ino


async def test_concurrent_says_synthesise_once(
    sounds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = tmp_path / "runs"
    shim(tmp_path / "bin", "espeak-ng", f'echo run >> "{runs}"\nexec {ESPEAK} "$@"')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    speech = Speech(sounds, "hotline")
    said = await asyncio.gather(*(speech.say(PRIVATE) for _ in range(8)))
    assert runs.read_text().splitlines() == ["run"]
    assert [s.cached for s in said].count(False) == 1
    assert len({s.path for s in said}) == 1
    assert speech._flights == {}  # the per-text locks are forgotten
    others = await asyncio.gather(speech.say("一"), speech.say("二"))  # different texts: both
    assert len(runs.read_text().splitlines()) == 3
    assert others[0].path != others[1].path


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("en", "Hello, this is the elderly care hotline. Please hold."),
        ("ru", "Здравствуйте, это горячая линия. Пожалуйста, подождите."),
    ],
)
async def test_english_and_russian(sounds: Path, lang: str, text: str) -> None:
    speech = Speech(sounds, "hotline")
    sound = await speech.say(text, lang=lang)
    assert 2 < spoken(sound.path) < 15
    assert sound.path.stem == speech.stem(text, lang=lang) != speech.stem(text)


async def test_the_file_depends_on_language_rate_and_text(sounds: Path) -> None:
    slow, fast = Speech(sounds, "hotline"), Speech(sounds, "hotline", rate=200)
    assert slow.stem("你好") != fast.stem("你好")
    assert slow.stem("你好") != slow.stem("您好")
    assert slow.stem("你好") != slow.stem("你好", lang="en")
    slow_s = spoken((await slow.say("这里是养老服务热线")).path)
    fast_s = spoken((await fast.say("这里是养老服务热线")).path)
    assert fast_s < slow_s * 0.8


async def test_the_demo_summary_takes_under_25_seconds(sounds: Path) -> None:
    elder = ElderFacts(
        "王秀英",
        age=85,
        sex="female",
        address="示范区幸福路 1 号 3 单元 201",
        district="示范区",
        health_conditions="高血压, 2 型糖尿病, 冠心病",
        medication="氨氯地平 5mg 每日一次; 二甲双胍",
        living_situation="独居",
    )
    sound = await Speech(sounds, "hotline").say(emergency_summary(elder))
    assert 15 < spoken(sound.path) < 25


async def test_prompts_are_synthesised_and_overrides_left_alone(sounds: Path) -> None:
    prompts = await build_prompts(
        Speech(sounds, "hotline"), PromptTexts(), {"greeting": "recording:greeting"}
    )
    assert prompts["greeting"] == "recording:greeting"
    files = sorted(sounds.glob("tts-*.wav"))
    assert len(files) == 7  # every fixed prompt but the greeting (its recording)
    assert sorted(prompts.values())[1:] == sorted(f"sound:hotline/{f.stem}" for f in files)
    for f in files:
        assert spoken(f) > 2


async def test_the_default_greeting_lasts_under_3_seconds_without_dead_air(sounds: Path) -> None:
    """R1: the greeting plays while the operator's softphone rings; it is one short sentence,
    and the half second of silence espeak-ng puts before and after words is cut."""
    prompts = await build_prompts(Speech(sounds, "hotline"), PromptTexts(), {})
    path = sounds / (prompts["greeting"].rpartition("/")[2] + ".wav")
    assert 1.5 < spoken(path) < 3.0
    with wave.open(str(path), "rb") as w:
        samples = array.array("h", w.readframes(w.getnframes()))
    edge = 8000 // 20  # 50 ms
    assert max(abs(v) for v in samples[: edge * 2]) > 300  # speech within the first 100 ms
    assert max(abs(v) for v in samples[-edge * 2 :]) > 30  # and to the last 100 ms


async def test_missing_espeak(
    sounds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(SpeechError, match="espeak-ng is not installed") as failed:
        await Speech(sounds, "hotline").say(PRIVATE)
    assert "王秀英" not in str(failed.value)
    assert leftovers(sounds) == []
    assert list(sounds.glob("*.wav")) == []


async def test_missing_sox(sounds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shim(tmp_path / "bin", "espeak-ng", f'exec {ESPEAK} "$@"')
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    with pytest.raises(SpeechError, match="sox is not installed"):
        await Speech(sounds, "hotline").say(PRIVATE)
    assert leftovers(sounds) == []


async def test_a_failing_program_is_named_with_its_message(
    sounds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shim(tmp_path / "bin", "sox", 'cat >/dev/null\necho "sox FAIL formats: disk full" >&2\nexit 2')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(SpeechError) as failed:
        await Speech(sounds, "hotline").say(PRIVATE)
    assert str(failed.value) == "sox failed with exit status 2: sox FAIL formats: disk full"
    assert leftovers(sounds) == []


async def test_sox_failing_early_is_reported_not_espeaks_broken_pipe(
    sounds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shim(tmp_path / "bin", "sox", 'echo "sox FAIL: cannot open" >&2\nexit 2')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    with pytest.raises(
        SpeechError, match=r"^sox failed with exit status 2: sox FAIL: cannot open$"
    ):
        await Speech(sounds, "hotline").say(PRIVATE * 20)


async def test_an_unwritable_directory(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(SpeechError, match=r"^cannot write into .*/file/sounds: Not a directory$"):
        await Speech(tmp_path / "file" / "sounds", "hotline").say(PRIVATE)


async def test_a_hung_synthesis_times_out_and_is_killed(
    sounds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"
    shim(tmp_path / "bin", "espeak-ng", f'echo $$ > "{pid_file}"\nexec sleep 30')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setattr(tts, "TIMEOUT_S", 0.5)
    with pytest.raises(SpeechError, match=r"^synthesis took longer than 0\.5 s$"):
        await Speech(sounds, "hotline").say(PRIVATE)
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert leftovers(sounds) == []


async def test_a_cancelled_say_kills_its_programs(
    sounds: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"
    shim(tmp_path / "bin", "espeak-ng", f'echo $$ > "{pid_file}"\nexec sleep 30')
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    speech = Speech(sounds, "hotline")
    task = asyncio.create_task(speech.say(PRIVATE))
    while not pid_file.exists() or not pid_file.read_text():
        await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    with pytest.raises(ProcessLookupError):
        os.kill(int(pid_file.read_text()), 0)
    assert leftovers(sounds) == []
    assert speech._flights == {}


async def test_nothing_to_say_and_unknown_languages(sounds: Path) -> None:
    speech = Speech(sounds, "hotline")
    with pytest.raises(ValueError, match="nothing to say"):
        await speech.say("，。")
    with pytest.raises(ValueError, match="no voice for language 'fr'"):
        await speech.say("bonjour", lang="fr")
    with pytest.raises(ValueError, match="rate"):
        Speech(sounds, "hotline", rate=20)
