"""The satisfaction survey's keypad (hotline.survey.keys): good and bad inputs side by side."""

from __future__ import annotations

import pytest

from hotline.speech.prompts import PromptTexts
from hotline.survey.keys import Asking, Done, verdict
from hotline.survey.requests import SurveyPrompts


def run(*inputs: str) -> Asking | Done:
    """Feed keys ("5", "*") and timeouts ("-") to a fresh survey until it is done."""
    state: Asking | Done = Asking()
    for item in inputs:
        assert isinstance(state, Asking), f"input {item!r} after the survey ended"
        state = state.timed_out() if item == "-" else state.key(item)
    return state


@pytest.mark.parametrize(
    ("inputs", "done"),
    [
        (("5",), Done("answered", 5, 1)),
        (("1",), Done("answered", 1, 1)),
        (("3",), Done("answered", 3, 1)),
        (("9", "4"), Done("answered", 4, 2)),  # a wrong key, then a score on the repeat
        (("-", "2"), Done("answered", 2, 2)),  # no key, then a score on the repeat
        (("-", "-"), Done("timeout", None, 2)),
        (("9", "*"), Done("invalid", None, 2)),
        (("0", "#"), Done("invalid", None, 2)),
        (("6", "-"), Done("timeout", None, 2)),  # the second failure names the outcome
        (("-", "7"), Done("invalid", None, 2)),
    ],
    ids=lambda v: "".join(v) if isinstance(v, tuple) else None,
)
def test_keys_timeouts_and_the_one_repeat(inputs: tuple[str, ...], done: Done) -> None:
    assert run(*inputs) == done


def test_the_repeat_says_why_it_is_asked_again() -> None:
    assert Asking().key("9") == Asking(2, "invalid")
    assert Asking().timed_out() == Asking(2, "timeout")
    assert Asking().key("") == Asking(2, "invalid")
    assert Asking().key("55") == Asking(2, "invalid")  # one key is one digit


def test_hanging_up_ends_the_survey_at_any_point() -> None:
    assert Asking().hung_up() == Done("hung_up", None, 1)
    assert Asking(2, "timeout").hung_up() == Done("hung_up", None, 2)


@pytest.mark.parametrize(
    ("score", "said", "dissatisfied"),
    [
        (5, "satisfied", False),
        (4, "satisfied", False),
        (3, "neutral", False),
        (2, "dissatisfied", True),
        (1, "dissatisfied", True),
    ],
)
def test_scores_as_the_reports_count_them(score: int, said: str, dissatisfied: bool) -> None:
    assert verdict(score) == said
    done = Done("answered", score, 1)
    assert (done.verdict, done.dissatisfied) == (said, dissatisfied)


@pytest.mark.parametrize("score", [0, 6, -1])
def test_no_verdict_outside_1_to_5(score: int) -> None:
    with pytest.raises(ValueError, match="1 to 5"):
        verdict(score)


def test_no_score_no_verdict_and_nothing_reopened() -> None:
    for outcome in ("timeout", "invalid", "hung_up"):
        done = Done(outcome, None, 2)  # type: ignore[arg-type]
        assert (done.verdict, done.dissatisfied) == (None, False)


def test_prompts_are_synthesised_recorded_or_stock() -> None:
    fixed = PromptTexts().fixed()
    for name in ("survey_question", "survey_invalid", "survey_thanks"):
        assert fixed[name]  # said in Mandarin unless a recording replaces it
    assert "按5" in fixed["survey_question"] and "按1" in fixed["survey_question"]
    built = {"survey_question": "sound:hotline/tts-q", "survey_thanks": "recording:thanks"}
    prompts = SurveyPrompts.of(built)
    assert prompts.question == ("sound:hotline/tts-q",)
    assert prompts.thanks == ("recording:thanks",)
    assert prompts.invalid == SurveyPrompts().invalid  # not given: the stock sound
    assert SurveyPrompts.of({}) == SurveyPrompts()
