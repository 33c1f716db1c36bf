"""What the parties of an emergency hear: the spoken summary of the elder (120, the parties
of R10, the supervisor), a short notice (the family), and the conference's prompts.

Speech is synthesised on this machine (hotline.speech) and cached by content, so a repeat
costs nothing; synthesis starts when the conference opens, while 120's phone still rings.
Without speech (espeak-ng missing, a failure) the parties join without it and the operator
tells them: nobody waits on a speech engine.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping

from hotline.emergency.plan import Facts, Role
from hotline.speech.summary import ElderFacts, emergency_summary, family_notice
from hotline.speech.tts import Speech, SpeechError

log = logging.getLogger(__name__)
UNKNOWN_ELDER = ElderFacts(full_name="")
SWEEP_S = 3600.0
SYNTHESIS_LIMIT_S = 8.0


class Briefing:
    def __init__(
        self,
        speech: Speech | None,
        prompts: Mapping[str, str],
        *,
        today: Callable[[], dt.date] = dt.date.today,
    ) -> None:
        self._speech = speech
        self._prompts = dict(prompts)
        self._today = today
        self._tasks: set[asyncio.Task[object]] = set()

    def texts(self, role: Role, facts: Facts) -> str:
        about = facts.about or UNKNOWN_ELDER
        return family_notice(about) if role == "family" else emergency_summary(about)

    def prepare(self, facts: Facts) -> None:
        """Start synthesising the summary and the family notice (owned; see close())."""
        if self._speech is None:
            return
        for role in ("ambulance", "family"):
            task: asyncio.Task[object] = asyncio.create_task(
                self._say(self.texts(role, facts)), name="emergency-briefing"
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def media_for(self, role: Role, facts: Facts) -> list[str] | None:
        """The media a party hears on answering (None: no speech available)."""
        if self._speech is None:
            return None
        name = await self._say(self.texts(role, facts))
        return [name] if name else None

    async def forget(self, facts: Facts) -> None:
        """The conference is over: its summary and notice (personal data, spoken) are removed
        from the sounds directory. A later emergency synthesises them again (~40 ms)."""
        if self._speech is None or facts.about is None:
            return
        for role in ("ambulance", "family"):
            try:
                await self._speech.forget(self.texts(role, facts), private=True)
            except OSError as err:
                log.warning("emergency speech not removed (%s)", type(err).__name__)

    def prompt(self, name: str) -> list[str] | None:
        media = self._prompts.get(name)
        return [media] if media else None

    async def _say(self, text: str) -> str | None:
        assert self._speech is not None
        try:
            sound = await asyncio.wait_for(self._speech.say(text, private=True), SYNTHESIS_LIMIT_S)
        except (SpeechError, TimeoutError, OSError) as err:
            log.warning("emergency speech unavailable (%s)", type(err).__name__)
            return None
        return sound.name

    async def sweep(self) -> None:
        """Every hour, summaries older than an hour (a conference that ended without its
        forget, a crash) are removed; the service's own task, cancelled at shutdown."""
        if self._speech is None:
            return
        while True:
            await asyncio.sleep(SWEEP_S)
            try:
                removed = await self._speech.sweep(SWEEP_S)
            except OSError as err:
                log.warning("emergency speech not swept (%s)", type(err).__name__)
                continue
            if removed:
                log.info("emergency speech: %d old file(s) removed", removed)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks)
