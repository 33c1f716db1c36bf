"""Who is calling, answered from memory: a bounded index of the directory's numbers (elders'
phones, contacts, one-key terminals), loaded at start and refreshed by one owned task.

A number in the index is answered at once, without PostgreSQL; a number not in it is asked
of PostgreSQL (a caller new since the last refresh is found), and remembered. While
PostgreSQL is down, the index still answers for every number it holds, so a known elder is
identified as before the outage instead of "unverified". The index holds at most `limit`
numbers (terminals first); beyond that, numbers looked up most recently are kept.
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.directory.identify import ANONYMOUS, UNVERIFIED, Identity, Match, decide
from hotline.directory.lookup import every_number, matches_for, to_match

log = logging.getLogger(__name__)


class DirectoryIndex:
    def __init__(
        self,
        engine: AsyncEngine,
        *,
        limit: int = 200_000,
        refresh_s: float = 300.0,
        ask_timeout: float = 1.5,
    ) -> None:
        self._engine = engine
        self._limit = limit
        self._refresh_s = refresh_s
        self._ask_timeout = ask_timeout
        self._numbers: OrderedDict[str, tuple[Match, ...]] = OrderedDict()
        self.complete = False  # the whole directory fits: a miss is an unknown caller
        self._down = False

    def __len__(self) -> int:
        return len(self._numbers)

    async def identify(self, number: str | None) -> Identity:
        """The caller behind `number`: from memory when known, else from PostgreSQL."""
        if number is None:
            return ANONYMOUS
        known = self._numbers.get(number)
        if known is not None:
            self._numbers.move_to_end(number)
            return decide(number, known)
        try:
            matches = await asyncio.wait_for(self._ask(number), self._ask_timeout)
        except Exception as err:  # an outage must never stop the call
            self._outage(err)
            return UNVERIFIED
        self._recovered()
        if matches:
            self._remember(number, tuple(matches))
        return decide(number, matches)

    async def _ask(self, number: str) -> list[Match]:
        async with self._engine.connect() as conn:
            return await matches_for(conn, number)

    def _remember(self, number: str, matches: tuple[Match, ...]) -> None:
        self._numbers[number] = matches
        self._numbers.move_to_end(number)
        while len(self._numbers) > self._limit:
            self._numbers.popitem(last=False)

    async def load(self) -> None:
        """Read the directory (up to `limit` numbers) and swap the index in whole."""
        fresh: dict[str, list[Match]] = {}
        complete = True
        async with self._engine.connect() as conn:
            async for chunk in every_number(conn):
                for kind, number, elder_id, contact_id, tier in chunk:
                    if number not in fresh and len(fresh) >= self._limit:
                        complete = False
                        continue
                    fresh.setdefault(number, []).append(to_match(kind, elder_id, contact_id, tier))
                if not complete:
                    break
        self._numbers = OrderedDict((n, tuple(m)) for n, m in fresh.items())
        self.complete = complete
        log.info(
            "directory index: %d numbers%s", len(self._numbers), "" if complete else " (partial)"
        )

    async def run(self) -> None:
        """Owned task: refresh the index every `refresh_s`; an outage keeps the old one."""
        while True:
            await asyncio.sleep(self._refresh_s)
            try:
                await self.load()
            except Exception as err:
                self._outage(err)
            else:
                self._recovered()

    def _outage(self, err: BaseException) -> None:
        if not self._down:
            self._down = True
            log.warning(
                "directory: PostgreSQL unavailable (%s); identifying from the index (%d numbers)",
                type(err).__name__,
                len(self._numbers),
            )

    def _recovered(self) -> None:
        if self._down:
            self._down = False
            log.info("directory: PostgreSQL answers again")
