"""Chinese text to numbered pinyin ("ni3 hao3, shi4 jie4.") for espeak-ng's
`cmn-latn-pinyin` voice, which cannot read Chinese characters. Pure.

Arabic numbers are first written out as they are said: up to four digits as a number
("82岁" -> 八十二岁), longer runs (phone numbers, ids) digit by digit with 一 for 1, as are
numbers with a leading zero, numbers to dial (拨打120, 120急救), years (1941年) and room
numbers (1201室). Punctuation becomes a pause: a comma, or a period at the end of a
sentence. Latin words are kept (espeak-ng reads them as English); other symbols are dropped.
"""

# ruff: noqa: RUF002, RUF003 - Mandarin text: its full-width punctuation is meant

from __future__ import annotations

import re
import unicodedata

from pypinyin import Style, lazy_pinyin

DIGITS = "零一二三四五六七八九"
LONGEST_NUMBER = 4  # digits; longer runs are read digit by digit

_UNITS = {  # after a number, longest first in the pattern
    "mmol/L": "毫摩尔每升",
    "mmHg": "毫米汞柱",
    "mg": "毫克",
    "kg": "公斤",
    "ml": "毫升",
    "mL": "毫升",
    "cm": "厘米",
    "°C": "度",
    "g": "克",
}
_UNIT = re.compile(r"(?<=\d)\s*(" + "|".join(re.escape(u) for u in _UNITS) + r")(?![A-Za-z])")
_GROUPED = re.compile(r"\d+(?:[ -]\d+)+")  # 138 0000 1111, 010-8888 6666
_DIAL_AFTER = re.compile(r"((?:拨打|呼叫|致电|电话|号码)[:\s]*)(\d+)")  # 请拨打120
_DIAL_BEFORE = re.compile(r"\d+(?=\s*(?:急救|救护))")  # 120急救
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_DECIMAL = re.compile(r"(\d+)\.(\d+)")
_BY_DIGIT = re.compile(r"\d{4}(?=\s*年)|\d{3,4}(?=\s*室)")
_RUN = re.compile(r"\d+")

_COMMA, _PERIOD = ",", "."
_PAUSES = {
    **dict.fromkeys(",、;:", _COMMA),
    **dict.fromkeys((".", "...", "。", "!", "?", "\n"), _PERIOD),
}
_OTHER = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?|\.\.\.|[,、;:.。!?\n]")
_SYLLABLE = re.compile(r"[a-z]+[1-5]")


def by_digit(digits: str) -> str:
    """'13800' -> 一三八零零."""
    return "".join(DIGITS[int(d)] for d in digits)


def as_number(digits: str) -> str:
    """A run of Arabic digits as it is said: a number up to four digits without a leading
    zero (101 -> 一百零一, 12 -> 十二), else digit by digit."""
    if len(digits) > LONGEST_NUMBER or (len(digits) > 1 and digits[0] == "0"):
        return by_digit(digits)
    n = int(digits)
    if n == 0:
        return DIGITS[0]
    out: list[str] = []
    zero = False
    for power, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d = n // power % 10
        if d == 0:
            zero = bool(out)
            continue
        if zero:
            out.append(DIGITS[0])
            zero = False
        out.append(unit if (d == 1 and unit == "十" and not out) else DIGITS[d] + unit)
    return "".join(out)


def _decimal(whole: str, fraction: str) -> str:
    return f"{as_number(whole)}点{by_digit(fraction)}"


def _grouped(match: re.Match[str]) -> str:
    groups = re.split(r"[ -]", match.group())
    if sum(map(len, groups)) <= LONGEST_NUMBER:
        return match.group()  # "1-2": each read on its own below
    return ",".join(by_digit(g) for g in groups)


def _percent(match: re.Match[str]) -> str:
    whole, _, fraction = match.group(1).partition(".")
    return "百分之" + (_decimal(whole, fraction) if fraction else as_number(whole))


def chinese_numbers(text: str) -> str:
    """`text` with its Arabic numbers (and the units that follow them) written in Chinese."""
    text = unicodedata.normalize("NFKC", text)  # full-width digits, letters and punctuation
    text = _UNIT.sub(lambda m: _UNITS[m.group(1)], text)
    text = _GROUPED.sub(_grouped, text)
    text = _DIAL_AFTER.sub(lambda m: m.group(1) + by_digit(m.group(2)), text)
    text = _DIAL_BEFORE.sub(lambda m: by_digit(m.group()), text)
    text = _PERCENT.sub(_percent, text)
    text = _DECIMAL.sub(lambda m: _decimal(m.group(1), m.group(2)), text)
    text = _BY_DIGIT.sub(lambda m: by_digit(m.group()), text)
    return _RUN.sub(lambda m: as_number(m.group()), text)


def _other(chunk: str) -> str:
    """What is kept of a run without pinyin: latin words and pauses, space separated."""
    return " ".join(_PAUSES.get(t, t) for t in _OTHER.findall(chunk))


def to_pinyin(text: str) -> str:
    """Numbered pinyin for `text`, syllables space separated, pauses as ',' and '.'
    ("您好，82岁" -> "nin2 hao3, ba1 shi2 er4 sui4"). Empty when nothing is speakable."""
    words: list[str] = []
    for item in lazy_pinyin(
        chinese_numbers(text),
        style=Style.TONE3,
        neutral_tone_with_five=True,
        errors=_other,
    ):
        for token in item.split():
            if token not in (_COMMA, _PERIOD):
                words.append(token)
            elif words and words[-1][-1] not in (_COMMA, _PERIOD):
                words[-1] += token
            elif words and token == _PERIOD:  # "，。" is one full stop
                words[-1] = words[-1][:-1] + _PERIOD
    return " ".join(words)


def syllables(pinyin: str) -> int:
    """How many Mandarin syllables a `to_pinyin` result holds (about what it takes to say)."""
    return len(_SYLLABLE.findall(pinyin))
