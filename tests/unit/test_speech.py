"""Speech without sound: numbers and punctuation as pinyin, the emergency summary, ages, and
which prompts are synthesised."""

# ruff: noqa: RUF001 - Mandarin text: its full-width punctuation is meant

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from hotline.speech.pinyin import as_number, chinese_numbers, syllables, to_pinyin
from hotline.speech.prompts import PromptTexts, build_prompts
from hotline.speech.summary import (
    SUMMARY_SYLLABLES,
    ElderFacts,
    age_on,
    emergency_summary,
    family_notice,
)
from hotline.speech.tts import Sound, Speech


@pytest.mark.parametrize(
    ("digits", "said"),
    [
        ("0", "零"),
        ("7", "七"),
        ("10", "十"),
        ("12", "十二"),
        ("20", "二十"),
        ("82", "八十二"),
        ("100", "一百"),
        ("101", "一百零一"),
        ("110", "一百一十"),
        ("1001", "一千零一"),
        ("1010", "一千零一十"),
        ("1100", "一千一百"),
        ("9999", "九千九百九十九"),
        ("007", "零零七"),  # a leading zero: a code
        ("12345", "一二三四五"),  # over four digits: a code
    ],
)
def test_a_run_of_digits_as_it_is_said(digits: str, said: str) -> None:
    assert as_number(digits) == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("82岁", "八十二岁"),
        ("13800001111", "一三八零零零零一一一一"),
        ("电话 138 0000 1111", "电话 一三八,零零零零,一一一一"),
        ("010-8888 6666", "零一零,八八八八,六六六六"),
        ("1-2次", "一-二次"),  # four digits or fewer in all: numbers, not a code
        ("1941年出生", "一九四一年出生"),
        ("10年", "十年"),
        ("1201室", "一二零一室"),
        ("幸福路 1 号 3 单元 201", "幸福路 一 号 三 单元 二百零一"),
        ("如有紧急情况，请拨打120。", "如有紧急情况,请拨打一二零。"),
        ("120急救", "一二零急救"),
        ("120岁", "一百二十岁"),
        ("体温38.5℃", "体温三十八点五度"),
        ("血氧 95%", "血氧 百分之九十五"),
        ("氨氯地平 5mg 每日一次", "氨氯地平 五毫克 每日一次"),
        ("１２３", "一百二十三"),  # full width
    ],
)
def test_numbers_are_written_as_they_are_said(text: str, said: str) -> None:
    assert chinese_numbers(text) == said


@pytest.mark.parametrize(
    ("text", "pinyin"),
    [
        ("您好，这里是养老服务热线。", "nin2 hao3, zhe4 li3 shi4 yang3 lao3 fu2 wu4 re4 xian4."),
        ("82岁", "ba1 shi2 er4 sui4"),
        ("请按1。", "qing3 an4 yi1."),
        ("女", "nv3"),  # ü as v, as espeak-ng's pinyin voice reads it
        ("我们", "wo3 men5"),  # the neutral tone as 5
        ("重庆", "chong2 qing4"),  # a polyphone read in its word
        ("电话 138 0000 1111", "dian4 hua4 yi1 san1 ba1, ling2 ling2 ling2 ling2, yi1 yi1 yi1 yi1"),
        ("高血压、糖尿病；独居：是", "gao1 xue4 ya1, tang2 niao4 bing4, du2 ju1, shi4"),
        ("好！！再见？", "hao3. zai4 jian4."),
        ("是，。", "shi4."),  # a comma then a period is one period
        ("……好的", "hao3 de5"),  # no pause before the first word
        ("做CT检查", "zuo4 CT jian3 cha2"),  # latin kept for espeak-ng's English
        ("（住院）", "zhu4 yuan4"),  # brackets dropped
        ("", ""),
        ("，。！", ""),
    ],
)
def test_to_pinyin(text: str, pinyin: str) -> None:
    assert to_pinyin(text) == pinyin


def test_syllables_are_counted_without_pauses_or_latin() -> None:
    assert syllables(to_pinyin("您好，82岁。CT")) == 6


WANG = ElderFacts(
    full_name="王秀英",
    age=85,
    sex="female",
    address="示范区幸福路 1 号 3 单元 201",
    district="示范区",
    health_conditions="高血压",
    medication="阿司匹林",
    living_situation="独居",
)


def test_summary_with_every_field() -> None:
    assert emergency_summary(WANG) == (
        "这里是养老服务热线，紧急呼叫。老人王秀英，85岁，女。地址：示范区幸福路 1 号 3 单元 201。"
        "主要疾病：高血压。用药：阿司匹林。独居。"
    )


def test_summary_with_only_a_name() -> None:
    assert emergency_summary(ElderFacts("张桂兰")) == "这里是养老服务热线，紧急呼叫。老人张桂兰。"


def test_blank_fields_are_skipped_and_the_district_said_once() -> None:
    elder = ElderFacts(
        "李建国",
        age=None,
        sex="male",
        address=" ",
        district="示范区",
        health_conditions="",
        medication=None,
        living_situation="与老伴同住",
    )
    assert emergency_summary(elder) == (
        "这里是养老服务热线，紧急呼叫。老人李建国，男。地址：示范区。与老伴同住。"
    )
    elsewhere = ElderFacts("李建国", address="长青街 8 号", district="示范区")
    assert "地址：示范区长青街 8 号。" in emergency_summary(elsewhere)


def test_a_long_summary_keeps_to_its_time() -> None:
    elder = ElderFacts(
        "王秀英",
        age=85,
        sex="female",
        address="示范区幸福路 1 号 3 单元 201",
        district="示范区",
        health_conditions="高血压, 2 型糖尿病, 冠心病, 骨质疏松",
        medication="氨氯地平 5mg 每日一次; 二甲双胍; 阿司匹林",
        living_situation="独居",
    )
    summary = emergency_summary(elder)
    assert syllables(to_pinyin(summary)) <= SUMMARY_SYLLABLES
    # one item each in turn: 高血压, 独居, then the first medication is too long to fit
    assert summary.endswith("主要疾病：高血压，2 型糖尿病。独居。")
    assert "冠心病" not in summary
    assert "用药" not in summary
    shorter_first = dataclasses.replace(elder, medication="阿司匹林; 氨氯地平 5mg 每日一次")
    assert emergency_summary(shorter_first).endswith("主要疾病：高血压。用药：阿司匹林。独居。")
    # with room, everything is said
    roomy = emergency_summary(elder, syllables_max=200)
    assert "主要疾病：高血压，2 型糖尿病，冠心病，骨质疏松。" in roomy
    assert "用药：氨氯地平 5mg 每日一次，二甲双胍，阿司匹林。独居。" in roomy


def test_the_address_is_said_even_when_long() -> None:
    elder = ElderFacts("王秀英", address="很长的地址" * 20, health_conditions="高血压")
    summary = emergency_summary(elder)
    assert "很长的地址" * 20 in summary
    assert "高血压" not in summary


def test_family_notice() -> None:
    assert family_notice(WANG) == (
        "这里是养老服务热线。您的家人王秀英发出紧急呼叫，我们正在为您接通。"
    )


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (dt.date(1941, 3, 8), dt.date(2026, 3, 7), 84),
        (dt.date(1941, 3, 8), dt.date(2026, 3, 8), 85),
        (dt.date(1941, 3, 8), dt.date(2026, 12, 31), 85),
        (dt.date(1940, 2, 29), dt.date(2026, 2, 28), 85),
        (dt.date(1940, 2, 29), dt.date(2026, 3, 1), 86),
        (dt.date(2026, 3, 8), dt.date(2026, 3, 8), 0),
        (dt.date(2027, 1, 1), dt.date(2026, 3, 8), None),  # a birth date in the future
        (None, dt.date(2026, 3, 8), None),
    ],
)
def test_age_on(born: dt.date | None, today: dt.date, age: int | None) -> None:
    assert age_on(born, today) == age


class RecordingSpeech(Speech):
    """Says nothing: records the texts it is asked for."""

    def __init__(self) -> None:
        super().__init__(Path("/nonexistent"), "hotline")
        self.texts: list[str] = []
        self.rates: dict[str, int | None] = {}

    async def say(self, text: str, *, lang: str = "zh", rate: int | None = None) -> Sound:
        self.texts.append(text)
        self.rates[text] = rate
        stem = self.stem(text, lang=lang, rate=rate)
        return Sound(f"sound:hotline/{stem}", Path(f"/nonexistent/{stem}.wav"), False, 0.0)


async def test_prompts_are_synthesised_unless_overridden() -> None:
    speech = RecordingSpeech()
    texts = PromptTexts()
    overrides = {"greeting": "sound:custom/greeting", "after_hours": "recording:closed"}
    prompts = await build_prompts(speech, texts, overrides)
    assert prompts["greeting"] == "sound:custom/greeting"
    assert prompts["after_hours"] == "recording:closed"
    assert set(prompts) == set(texts.fixed())
    assert sorted(speech.texts) == sorted(
        [
            texts.callback_thanks,
            texts.emergency_hold,
            texts.elder_dropped,
            texts.survey_question,
            texts.survey_invalid,
            texts.survey_thanks,
        ]
    )
    assert prompts["elder_dropped"] == f"sound:hotline/{speech.stem(texts.elder_dropped)}"


async def test_the_greeting_is_one_short_sentence_said_a_little_faster() -> None:
    """R1/R3: the operator is rung while it plays; it only says where the caller is."""
    speech = RecordingSpeech()
    texts = PromptTexts()
    prompts = await build_prompts(speech, texts, {})
    assert speech.rates[texts.greeting] == 150 and speech.rates[texts.after_hours] is None
    assert texts.greeting.count("。") == 1 and len(texts.greeting) <= 12
    assert prompts["greeting"] == f"sound:hotline/{speech.stem(texts.greeting, rate=150)}"


@pytest.mark.parametrize(
    "overrides",
    [
        {"queue_wait": "sound:custom/wait"},  # a template, not a fixed prompt
        {"greting": "sound:custom/greeting"},
        {"greeting": "custom/greeting"},
        {"greeting": "sound:"},
        {"greeting": "tone:ring"},
    ],
)
async def test_bad_overrides_are_refused_before_anything_is_said(
    overrides: dict[str, str],
) -> None:
    speech = RecordingSpeech()
    with pytest.raises(ValueError, match=r"greeting|queue_wait|greting"):
        await build_prompts(speech, PromptTexts(), overrides)
    assert speech.texts == []


def test_templates() -> None:
    texts = PromptTexts()
    assert texts.queue_position(3) == "您前面还有3位，请稍候。"
    assert texts.transfer_to("社区医生") == "正在为您转接社区医生，请稍候。"
    assert to_pinyin(texts.after_hours).endswith("bo1 da3 yi1 er4 ling2.")
