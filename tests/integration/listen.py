"""Listening to a channel through Asterisk, as a supervisor's snoop would: what a party hears
(spy "out") or says (spy "in"), recorded for a few seconds and measured.

The snoop channel lives in a Stasis app of the tests' own ("hotline-listen"), held open
here with an events socket, so the service under test never sees it.
"""

from __future__ import annotations

import array
import asyncio
import base64
import json
import math
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Literal

import aiohttp

from tests.integration.conftest import ARI
from tests.integration.tones import samples

APP = "hotline-listen"


def _auth() -> dict[str, str]:
    user = os.environ.get("HOTLINE_ARI_USER", "hotline")
    token = base64.b64encode(f"{user}:{os.environ['HOTLINE_ARI_PASSWORD']}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


def rms(pcm: array.array[int]) -> float:
    """Root mean square of 16-bit samples (0 for silence, ~32767 at most)."""
    return math.sqrt(sum(s * s for s in pcm) / len(pcm)) if pcm else 0.0


class Ear:
    def __init__(self, http: aiohttp.ClientSession, ws: aiohttp.ClientWebSocketResponse) -> None:
        self._http = http
        self._ws = ws

    async def _in_stasis(self, channel_id: str, limit: float = 5.0) -> None:
        """Wait for the snoop channel's StasisStart: recording it before is a 409."""
        async with asyncio.timeout(limit):
            async for message in self._ws:
                event = json.loads(message.data)
                if event.get("type") == "StasisStart" and event["channel"]["id"] == channel_id:
                    return

    async def _ari(self, method: str, path: str, **params: str) -> aiohttp.ClientResponse:
        response = await self._http.request(
            method, f"{ARI}/ari{path}", params=params, headers=_auth()
        )
        await response.read()
        return response

    async def hears(
        self, channel_id: str, seconds: int = 2, direction: Literal["out", "in"] = "out"
    ) -> array.array[int]:
        """What the party on `channel_id` hears (out) or says (in), for `seconds`."""
        snoop, name = f"listen-{uuid.uuid4().hex}", f"listen-{uuid.uuid4().hex}"
        made = await self._ari(
            "POST", f"/channels/{channel_id}/snoop", spy=direction, app=APP, snoopId=snoop
        )
        assert made.status == 200, f"snoop on {channel_id}: {made.status}"
        try:
            await self._in_stasis(snoop)
            recording = await self._ari(
                "POST",
                f"/channels/{snoop}/record",
                name=name,
                format="wav",
                maxDurationSeconds=str(seconds),
                ifExists="overwrite",
            )
            assert recording.status == 201, f"record: {recording.status}"
            await asyncio.sleep(seconds + 0.5)
        finally:
            await self._ari("DELETE", f"/channels/{snoop}")
        async with self._http.get(
            f"{ARI}/ari/recordings/stored/{name}/file", headers=_auth()
        ) as response:
            assert response.status == 200, f"recording {name}: {response.status}"
            data = await response.read()
        await self._ari("DELETE", f"/recordings/stored/{name}")
        return samples(data)


@asynccontextmanager
async def ear() -> AsyncIterator[Ear]:
    """An Ear, with the tests' Stasis app registered for as long as it is used."""
    async with aiohttp.ClientSession() as http:
        url = f"{ARI.replace('http', 'ws', 1)}/ari/events?app={APP}"
        async with http.ws_connect(url, headers=_auth()) as ws:
            yield Ear(http, ws)
