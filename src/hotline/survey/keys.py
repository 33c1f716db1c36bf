"""The survey's keypad, as a pure state machine: no I/O, no clock.

The question is asked; a key 1-5 is the score. A wrong key or no key in time asks once
more; a second failure ends the survey without a score (`invalid` or `timeout`, whichever
the second failure was). The caller hanging up ends it as `hung_up`.

    Asking(1) --key 1-5--> Done(answered, score)
    Asking(1) --other key / timeout--> Asking(2) --key 1-5--> Done(answered, score)
                                       Asking(2) --other key / timeout--> Done(invalid|timeout)
    any Asking --hang-up--> Done(hung_up)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hotline.core.words import SurveyOutcome as Outcome
from hotline.core.words import SurveyVerdict as Verdict

Failure = Literal["timeout", "invalid"]

SCORES = "12345"
TIMES_ASKED = 2  # the question and one repeat
DEFAULT_WAIT_S = 8.0  # for a key, from the end of the question


def verdict(score: int) -> Verdict:
    """How the reports count a score: 4-5 satisfied, 3 neutral, 1-2 dissatisfied."""
    if not 1 <= score <= 5:
        raise ValueError(f"a score is 1 to 5, not {score}")
    if score >= 4:
        return "satisfied"
    return "neutral" if score == 3 else "dissatisfied"


@dataclass(frozen=True)
class Done:
    outcome: Outcome
    score: int | None
    asked: int  # how many times the question was asked

    @property
    def verdict(self) -> Verdict | None:
        return verdict(self.score) if self.score is not None else None

    @property
    def dissatisfied(self) -> bool:
        """The case goes back to its owner (R20)."""
        return self.verdict == "dissatisfied"


@dataclass(frozen=True)
class Asking:
    """The question asked for the `asked`-th time; `after` says why it is asked again."""

    asked: int = 1
    after: Failure | None = None

    def key(self, digit: str) -> Asking | Done:
        if len(digit) == 1 and digit in SCORES:
            return Done("answered", int(digit), self.asked)
        return self._failed("invalid")

    def timed_out(self) -> Asking | Done:
        return self._failed("timeout")

    def hung_up(self) -> Done:
        return Done("hung_up", None, self.asked)

    def _failed(self, why: Failure) -> Asking | Done:
        if self.asked < TIMES_ASKED:
            return Asking(self.asked + 1, why)
        return Done(why, None, self.asked)
