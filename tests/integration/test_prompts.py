"""The hotline's own Mandarin prompts, synthesised on this machine (hotline.speech) and
played by the real Asterisk: the greeting, and the transfer announcement naming who takes
over (R5)."""

from __future__ import annotations

import asyncio
import datetime as dt
import wave
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from hotline.speech.prompts import RATES, PromptTexts
from hotline.speech.tts import Speech
from tests.integration import sipp
from tests.integration.conftest import SOUNDS_DIR, SYNTHESISED_GREETING, Service
from tests.integration.floorkit import Floor
from tests.integration.test_calls import STRANGER
from tests.integration.test_transfers import call_in_progress

pytestmark = pytest.mark.integration
TEXTS = PromptTexts()


def media(text: str, rate: int | None = None) -> str:
    return f"sound:hotline/{Speech(Path(SOUNDS_DIR), 'hotline').stem(text, rate=rate)}"


def seconds(sound: str) -> float:
    with wave.open(str(Path(SOUNDS_DIR) / f"{sound.rpartition('/')[2]}.wav")) as w:
        return w.getnframes() / w.getframerate()


async def detail(db: asyncpg.Connection, case_id: object, kind: str) -> asyncpg.Record:
    async with asyncio.timeout(10):
        while True:
            row = await db.fetchrow(
                "SELECT at, detail FROM case_events WHERE case_id = $1 AND kind = $2",
                case_id,
                kind,
            )
            if row is not None:
                return row
            await asyncio.sleep(0.1)


async def test_greeting_and_handover_are_spoken_in_mandarin(
    service: Service, db: asyncpg.Connection
) -> None:
    await service.start(HOTLINE_GREETING=SYNTHESISED_GREETING)
    async with aiohttp.ClientSession() as http:
        floor = Floor(service, http)
        try:
            first = await floor.queue()
            other = await floor.queue(display_name="家政服务")
            await floor.route("hotline", first)
            _, phone_a = await floor.operator({first: 0})
            _, phone_b = await floor.operator({other: 0})
            since = dt.datetime.now(dt.UTC)
            caller = asyncio.create_task(sipp.call("12349", STRANGER, hold_ms=25000))
            await phone_a.wait_for("answered", limit=20)
            call_id = await call_in_progress(db, since)
            case_id = await db.fetchval("SELECT case_id FROM calls WHERE id = $1", call_id)
            await floor.api("POST", f"/api/calls/{call_id}/transfer", {"queue": other})
            await phone_b.wait_for("answered", limit=20)
            told = await detail(db, case_id, "handover_announced")
            assert (await caller).ok
        finally:
            await floor.undo()

    # The operator was rung at once and answered after 0.2 s: the greeting stopped then.
    greeted = await detail(db, case_id, "greeted")
    greeting = media(TEXTS.greeting, rate=RATES["greeting"])
    assert greeted["detail"] == f'{{"media": ["{greeting}"], "stopped": true}}'
    answered = await db.fetchval("SELECT answered_at FROM calls WHERE id = $1", call_id)
    heard = (greeted["at"] - answered).total_seconds()
    assert heard < seconds(greeting) - 1.0
    expected = media(TEXTS.transfer_to("家政服务"))
    assert told["detail"] == f'{{"media": ["{expected}"], "complete": true}}'
    assert seconds(expected) > 1
