"""Phone number normalisation: one canonical form for storage and look-up.

Numbers are kept in their Chinese national significant form: mobiles as 11 digits
(13800000000), landlines with their area code and no trunk prefix (1088886666 for
Beijing 010-8888 6666). Numbers from other countries keep a leading "+" and their
country code. Short service numbers (120, 12349) stay as dialled.
"""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")
_HOME = "86"


class InvalidNumber(ValueError):
    """The text is not a phone number."""


def normalise(raw: str) -> str:
    """Return the canonical form of ``raw`` or raise InvalidNumber."""
    text = _SEPARATORS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    international = text.startswith("+")
    digits = text[1:] if international else text
    if not digits.isdigit() or not 3 <= len(digits) <= 15:
        raise InvalidNumber("not a phone number")
    if international:
        if not digits.startswith(_HOME):
            return "+" + digits
        digits = digits[len(_HOME) :]
        if not digits:
            raise InvalidNumber("no number after the country code")
    elif digits.startswith(_HOME) and len(digits) == 13 and digits[2] == "1":
        digits = digits[len(_HOME) :]  # 86 + mobile, sent without "+" by some carriers
    if digits.startswith("0") and len(digits) >= 9:
        digits = digits[1:]  # landline trunk prefix
    return digits


def try_normalise(raw: str | None) -> str | None:
    """Like normalise, but None for anything that is not a number (anonymous, empty)."""
    if not raw:
        return None
    try:
        return normalise(raw)
    except InvalidNumber:
        return None
