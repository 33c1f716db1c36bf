"""What is said about an elder in an emergency: the summary played to the ambulance service
(120) and the notice played to the family. Pure: texts in, texts out.

The summary keeps to about 25 seconds at the default rate: the elder and the address are
always said; then health conditions, living situation and medication take one item each in
turn, in that priority, while there is time left.
"""

# ruff: noqa: RUF001, RUF002 - Mandarin text: its full-width punctuation is meant

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Literal

from .pinyin import syllables, to_pinyin

# espeak-ng counts a Mandarin syllable as a word: 120 words a minute with the pauses comes
# to about 0.44 s a syllable, so 55 syllables take under 25 seconds.
SUMMARY_SYLLABLES = 55
EMERGENCY = "这里是养老服务热线，紧急呼叫。"
_SEX = {"female": "女", "male": "男"}
_ITEMS = re.compile(r"\s*[,，、;；/]\s*")


@dataclass(frozen=True)
class ElderFacts:
    """What the summaries may say about an elder; None or blank for unknown."""

    full_name: str
    age: int | None = None
    sex: Literal["female", "male"] | None = None
    address: str | None = None
    district: str | None = None
    health_conditions: str | None = None
    medication: str | None = None
    living_situation: str | None = None


def age_on(birth_date: dt.date | None, today: dt.date) -> int | None:
    """Age in whole years on `today`; None without a birth date or for one after `today`."""
    if birth_date is None or birth_date > today:
        return None
    before_birthday = (today.month, today.day) < (birth_date.month, birth_date.day)
    return today.year - birth_date.year - before_birthday


def _known(value: str | None) -> str:
    return value.strip() if value else ""


def _items(value: str | None) -> list[str]:
    return [item for item in _ITEMS.split(_known(value)) if item]


def _cost(text: str) -> int:
    return syllables(to_pinyin(text))


def _place(elder: ElderFacts) -> str:
    address, district = _known(elder.address), _known(elder.district)
    return address if district in address else district + address


def _sentence(label: str, items: list[str]) -> str:
    return f"{label}{'，'.join(items)}。" if items else ""


def emergency_summary(elder: ElderFacts, *, syllables_max: int = SUMMARY_SYLLABLES) -> str:
    """The summary for the ambulance service, e.g. "这里是养老服务热线，紧急呼叫。老人王秀英，
    85岁，女。地址：示范区幸福路1号。主要疾病：高血压。用药：阿司匹林。独居。"."""
    who = [f"老人{_known(elder.full_name)}"]
    if elder.age is not None:
        who.append(f"{elder.age}岁")
    if elder.sex is not None:
        who.append(_SEX[elder.sex])
    head = EMERGENCY + "，".join(who) + "。"
    if place := _place(elder):
        head += f"地址：{place}。"
    room = syllables_max - _cost(head)
    fields = {  # in priority order; each gets its next item in turn while there is room
        "conditions": ("主要疾病：", _items(elder.health_conditions)),
        "living": ("", _items(elder.living_situation)),
        "medication": ("用药：", _items(elder.medication)),
    }
    said = dict.fromkeys(fields, 0)
    grown = True
    while grown:
        grown = False
        for key, (label, items) in fields.items():
            n = said[key]
            if n == len(items):
                continue
            more = _cost(_sentence(label, items[: n + 1])) - _cost(_sentence(label, items[:n]))
            if more <= room:
                said[key], room, grown = n + 1, room - more, True
    return head + "".join(
        _sentence(fields[key][0], fields[key][1][: said[key]])
        for key in ("conditions", "medication", "living")
    )


def family_notice(elder: ElderFacts) -> str:
    """What the family hears when they answer the hotline's call about an emergency."""
    return f"这里是养老服务热线。您的家人{_known(elder.full_name)}发出紧急呼叫，我们正在为您接通。"
