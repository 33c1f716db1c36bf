"""What the operator (or a supervisor, or the API) asks of a talking call: hand the caller
to the satisfaction survey (R21). The operator's leg is released at once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from hotline.calls.messages import Request


@dataclass
class Survey(Request):
    pass


@dataclass(frozen=True)
class SurveyPrompts:
    """What the caller hears: the question, the word for a wrong key (said before the
    question is repeated) and the thanks before the service hangs up. The defaults are
    Asterisk's stock English sounds, for a service without speech."""

    question: tuple[str, ...] = ("sound:vm-press", "digits:12345")
    invalid: tuple[str, ...] = ("sound:pm-invalid-option",)
    thanks: tuple[str, ...] = ("sound:auth-thankyou", "sound:vm-goodbye")

    @classmethod
    def of(cls, prompts: Mapping[str, str]) -> SurveyPrompts:
        """From the service's prompts (hotline.speech.prompts.build_prompts: synthesised or
        recorded, by name); a prompt missing there keeps its stock sound."""
        stock = cls()

        def pick(name: str, default: tuple[str, ...]) -> tuple[str, ...]:
            media = prompts.get(name)
            return (media,) if media else default

        return cls(
            question=pick("survey_question", stock.question),
            invalid=pick("survey_invalid", stock.invalid),
            thanks=pick("survey_thanks", stock.thanks),
        )
