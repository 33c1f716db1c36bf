"""The hotline's own spoken prompts, in slow clear Mandarin, and the media Asterisk plays for
each: synthesised, or a deployment's recording named in its configuration."""

# ruff: noqa: RUF001 - Mandarin text: its full-width punctuation is meant

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass

from .tts import Speech, SpeechError

log = logging.getLogger(__name__)

OVERRIDE_SCHEMES = ("sound:", "recording:")
RATES = {"greeting": 150}  # words a minute where a prompt is said faster than the engine's 120


@dataclass(frozen=True)
class PromptTexts:
    """The prompts' words. `queue_wait` and `transfer` are templates, said through
    `queue_position` and `transfer_to` when a call needs them."""

    # R3: the greeting is the operator's own; this one only says the caller reached the
    # hotline, in under 3 s, while the operator's softphone already rings (R1).
    greeting: str = "您好，养老服务热线。"
    after_hours: str = (
        "您好，这里是养老服务热线。现在不是服务时间。需要我们给您回电，请按1。"
        "如有紧急情况，请拨打120。"
    )
    queue_wait: str = "您前面还有{n}位，请稍候。"
    queue_next: str = "下一位就是您，请稍候。"
    outside_party: str = "外线电话"
    transfer: str = "正在为您转接{who}，请稍候。"
    callback_thanks: str = "好的，我们会尽快给您回电，请保持电话畅通。再见。"
    emergency_hold: str = "我们正在为您联系急救，请不要挂机。"
    elder_dropped: str = "老人的电话已断开，我们正在回拨，请不要挂机。"
    survey_question: str = "请您为本次服务打分：满意请按5，一般请按3，不满意请按1。"
    survey_invalid: str = "对不起，按键无效。"
    survey_thanks: str = "感谢您的评价，再见。"

    def fixed(self) -> dict[str, str]:
        """The prompts that are the same for every call, by name."""
        return {
            "greeting": self.greeting,
            "after_hours": self.after_hours,
            "callback_thanks": self.callback_thanks,
            "emergency_hold": self.emergency_hold,
            "elder_dropped": self.elder_dropped,
            "survey_question": self.survey_question,
            "survey_invalid": self.survey_invalid,
            "survey_thanks": self.survey_thanks,
        }

    def queue_position(self, n: int) -> str:
        return self.queue_wait.format(n=n) if n > 0 else self.queue_next

    def transfer_to(self, who: str) -> str:
        return self.transfer.format(who=who)


async def build_prompts(
    speech: Speech, texts: PromptTexts, overrides: Mapping[str, str]
) -> dict[str, str]:
    """Prompt name -> media reference for each of `texts.fixed()`: the override when there is
    one (`sound:custom/greeting`, `recording:greeting`; never synthesised), else the
    synthesised text. Raises ValueError for an override of no prompt or of no media form,
    SpeechError when synthesis fails."""
    fixed = texts.fixed()
    for name, media in overrides.items():
        if name not in fixed:
            raise ValueError(f"no prompt {name!r} to override; prompts: {', '.join(fixed)}")
        scheme = next((s for s in OVERRIDE_SCHEMES if media.startswith(s)), None)
        if scheme is None or not media.removeprefix(scheme).strip():
            raise ValueError(
                f"prompt {name!r}: override {media!r} is not sound:<file> or recording:<name>"
            )
    try:
        async with asyncio.TaskGroup() as group:
            said = {
                name: group.create_task(speech.say(text, rate=RATES.get(name)))
                for name, text in fixed.items()
                if name not in overrides
            }
    except ExceptionGroup as failed:
        raise failed.exceptions[0] from None
    return {name: overrides.get(name) or said[name].result().name for name in fixed}


class Voice:
    """The prompts said for the moment: a caller's place in the queue, who takes over a
    transferred call (R5). None when speech is unavailable: the caller hears the stock
    prompts instead, never silence in place of an error."""

    def __init__(self, speech: Speech | None, texts: PromptTexts) -> None:
        self._speech = speech
        self._texts = texts

    async def queue_position(self, ahead: int) -> list[str] | None:
        return await self._say(self._texts.queue_position(ahead))

    async def transfer_to(self, who: str | None) -> list[str] | None:
        """`who`: the queue or person taking over; None for an outside number."""
        return await self._say(self._texts.transfer_to(who or self._texts.outside_party))

    async def _say(self, text: str) -> list[str] | None:
        if self._speech is None:
            return None
        try:
            return [(await self._speech.say(text)).name]
        except (SpeechError, ValueError) as err:
            log.warning("prompt not spoken (%s)", type(err).__name__)
            return None
