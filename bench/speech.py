"""Speech benchmark: synthesising the emergency summary (cold cache, a different elder each
time), finding it again (cached), and building the hotline's prompt set.

    .venv/bin/python -m bench.speech --elders 8 --runs 50

  summary cold    say() of each elder's emergency_summary() in turn, each text new: wall
                  time (espeak-ng | sox and the pinyin), and how long the result plays
  summary cached  say() of one summary already on disk, --runs times: wall time
  prompts         build_prompts() with the default texts and no overrides, into an empty
                  directory (cold), then again (every prompt cached)

Needs espeak-ng and sox (scripts/up installs them); writes into a temporary directory.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import wave
from dataclasses import dataclass
from pathlib import Path

from bench.common import percentile
from hotline.speech.prompts import PromptTexts, build_prompts
from hotline.speech.summary import ElderFacts, emergency_summary
from hotline.speech.tts import Speech

NAMES = ("王秀英", "李建国", "张桂兰", "刘德华", "陈淑珍", "杨志强", "赵玉梅", "黄国庆")
STREETS = ("幸福路", "长青街", "和平里", "建设大道", "光明巷")
CONDITIONS = ("高血压", "2 型糖尿病", "冠心病", "骨质疏松", "慢阻肺", "帕金森病")
MEDICATION = ("阿司匹林", "氨氯地平 5mg 每日一次", "二甲双胍", "钙片", "左旋多巴")
LIVING = ("独居", "与老伴同住", "与女儿同住")


def elder(i: int) -> ElderFacts:
    """A made-up elder; each `i` a different text."""
    return ElderFacts(
        full_name=NAMES[i % len(NAMES)],
        age=70 + (i * 7) % 30,
        sex="female" if i % 2 == 0 else "male",
        address=f"示范区{STREETS[i % len(STREETS)]} {i + 1} 号 {i % 6 + 1} 单元 {101 + i}",
        district="示范区",
        health_conditions=", ".join(CONDITIONS[i % 3 : i % 3 + 1 + i % 3]),
        medication="; ".join(MEDICATION[i % 4 : i % 4 + 2]),
        living_situation=LIVING[i % len(LIVING)],
    )


def plays_s(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


@dataclass
class Result:
    cold_ms: list[float]
    cold_audio_s: list[float]
    cached_ms: list[float]
    prompts_cold_ms: float
    prompts_warm_ms: float
    prompts: int


async def run(elders: int, runs: int, rate: int) -> Result:
    with tempfile.TemporaryDirectory() as tmp:
        speech = Speech(Path(tmp) / "summaries", "hotline", rate=rate)
        cold_ms: list[float] = []
        audio_s: list[float] = []
        for i in range(elders):
            text = emergency_summary(elder(i))
            started = time.perf_counter()
            sound = await speech.say(text)
            cold_ms.append(1000 * (time.perf_counter() - started))
            assert not sound.cached
            audio_s.append(plays_s(sound.path))
        text = emergency_summary(elder(0))
        cached_ms: list[float] = []
        for _ in range(runs):
            started = time.perf_counter()
            sound = await speech.say(text)
            cached_ms.append(1000 * (time.perf_counter() - started))
            assert sound.cached
        prompt_speech = Speech(Path(tmp) / "prompts", "hotline", rate=rate)
        started = time.perf_counter()
        prompts = await build_prompts(prompt_speech, PromptTexts(), {})
        prompts_cold = 1000 * (time.perf_counter() - started)
        started = time.perf_counter()
        await build_prompts(prompt_speech, PromptTexts(), {})
        prompts_warm = 1000 * (time.perf_counter() - started)
        return Result(cold_ms, audio_s, cached_ms, prompts_cold, prompts_warm, len(prompts))


def report(r: Result, rate: int) -> None:
    print(f"\nspeech at {rate} words a minute, {os.cpu_count()} CPUs")
    print(f"{'':<34}{'p50':>9}{'p99':>9}{'max':>9}")
    rows = (
        (f"summary cold, {len(r.cold_ms)} elders (ms)", r.cold_ms),
        ("  plays for (s)", r.cold_audio_s),
        (f"summary cached, {len(r.cached_ms)} runs (ms)", r.cached_ms),
    )
    for name, values in rows:
        print(
            f"{name:<34}{percentile(values, 50):>9.2f}{percentile(values, 99):>9.2f}"
            f"{max(values):>9.2f}"
        )
    print(
        f"prompt set, {r.prompts} prompts: {r.prompts_cold_ms:.0f} ms cold, "
        f"{r.prompts_warm_ms:.2f} ms cached"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.speech",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--elders", type=int, default=8, metavar="N", help="cold summaries [8]")
    parser.add_argument("--runs", type=int, default=50, metavar="N", help="cached says [50]")
    parser.add_argument("--rate", type=int, default=120, metavar="WPM", help="speech rate [120]")
    args = parser.parse_args()
    report(asyncio.run(run(args.elders, args.runs, args.rate)), args.rate)


if __name__ == "__main__":
    main()
