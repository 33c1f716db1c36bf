"""The lease, held: taking it, renewing it, giving it up, and the fence the rest asks.

One `Leadership` per process, on a small pool of its own (two connections, kept warm): the
call path's and the web's pools can be exhausted without the lease lapsing. A standby tries
to take the lease every `try_every_s`; the leader renews it every `renew_every_s` and acts
only while `rules.Term.acting` says so. `keep()` returns (raising Deposed) the moment the
lease is lost: a renewal refused, or no renewal answered before the acting time ran out.
Each process also says who it is, every second, in `controllers` (the floor, /healthz).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.fence import Deposed
from hotline.leadership import store
from hotline.leadership.rules import Term, Terms

log = logging.getLogger(__name__)

_OUTAGE = (SQLAlchemyError, OSError, TimeoutError)
SEEN_EVERY_S = 1.0  # how often a process says who it is


class Leadership:
    def __init__(
        self,
        engine: AsyncEngine,
        name: str,
        *,
        terms: Terms | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._engine = engine
        self.name = name
        self.holder = f"{name}/{os.getpid()}"  # a restarted process is another holder
        self.terms = terms or Terms()
        self._clock = clock
        self._term: Term | None = None
        self._aside = False  # handing over: still holds the lease, acts no more
        self._alone = False  # leading on through a database outage (see _renew)
        self.started_at = dt.datetime.now(dt.UTC)
        self.leader: str | None = None  # who leads, as last read (a standby's view)
        self.controllers: list[store.Seen] = []
        self._seen_at = -SEEN_EVERY_S

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    # --- the fence (hotline.core.fence.Fence) ----------------------------------------

    @property
    def epoch(self) -> int | None:
        return self._term.epoch if self._term is not None else None

    @property
    def role(self) -> str:
        return "leader" if self.acting() else "standby"

    def acting(self) -> bool:
        term = self._term
        if term is None or self._aside:
            return False
        return self._alone or term.acting(self.terms, self._clock())

    async def check(self, conn: Any) -> None:
        """Inside an acting write's transaction: raise Deposed unless our epoch still holds
        (the row is held FOR SHARE until the transaction ends: a takeover waits for it)."""
        term = self._term
        if term is None or not await store.still_leads(conn, self.holder, term.epoch):
            raise Deposed(self.holder)

    # --- standing by -----------------------------------------------------------------

    async def take(
        self, stop: asyncio.Event, ready: Callable[[], Awaitable[bool]] | None = None
    ) -> bool:
        """Stand by until the lease is ours (True) or `stop` is set (False). With `ready`,
        only try while it says this process could lead (it reaches Asterisk)."""
        while not stop.is_set():
            if ready is not None and not await ready():
                await self._say_who()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.terms.try_every_s)
                continue
            sent = self._clock()
            try:
                async with asyncio.timeout(self.terms.try_every_s * 4):
                    async with self._engine.begin() as conn:
                        epoch = await store.take(conn, self.holder, self.terms.length_s)
            except _OUTAGE as err:
                log.warning("leadership: cannot reach the database (%s)", type(err).__name__)
                epoch = None
            if epoch is not None:
                self._term, self._aside = Term(epoch, sent), False
                self.leader = self.holder
                log.warning("leadership: leading, epoch %d", epoch)
                await self._say_who()
                return True
            await self._say_who()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.terms.try_every_s)
        return False

    # --- leading ---------------------------------------------------------------------

    async def keep(self) -> None:
        """Renew until the lease is lost; then raise Deposed (having stopped acting)."""
        while True:
            term = self._term
            if term is None:
                raise Deposed(self.holder)
            await asyncio.sleep(max(0.0, term.renew_at(self.terms) - self._clock()))
            if not await self._renew(term):
                self.step_down("its lease was not renewed")
                raise Deposed(self.holder)
            await self._say_who()

    async def _renew(self, term: Term) -> bool:
        """Renew; retried until the acting time runs out. False: lost (refused, or the
        database unreachable that long while a standby is alive to take over).

        Alone (no other controller seen alive at the last look), a leader that cannot reach
        the database leads on past its lease: nobody else can take the lease without the
        database, and one that can (only this process cut off) opens the events socket as
        it takes over, which deposes this one at once (ApplicationReplaced). So a database
        outage does not stop the hotline: calls are answered and identified, records spooled.
        """
        failed = False
        while True:
            left = term.acting_until(self.terms) - self._clock()
            if left <= 0 and not self._alone:
                if self._others_alive():
                    return False
                self._alone = True
                log.error(
                    "leadership: the database unreachable past the lease and no standby seen:"
                    " leading on (Asterisk's app is the fence), epoch %d",
                    term.epoch,
                )
            sent = self._clock()
            try:
                async with asyncio.timeout(max(left, 1.0) if self._alone else left):
                    async with self._engine.begin() as conn:
                        ok = await store.renew(conn, self.holder, term.epoch, self.terms.length_s)
            except _OUTAGE as err:
                if not failed:
                    log.warning("leadership: renewal failed (%s)", type(err).__name__)
                    failed = True
                pause = 0.5 if self._alone else min(0.2, max(0.0, left - 0.01))
                await asyncio.sleep(pause)
                continue
            if not ok or self._term is not term:
                return False
            if self._alone:
                log.warning("leadership: the database answers again; lease renewed")
                self._alone = False
            self._term = term.renewed(sent)
            return True

    def _others_alive(self) -> bool:
        """Was another controller (a standby that could take over) alive at the last look?"""
        return any(
            c.alive and c.name != self.name and c.role != "stopped" for c in self.controllers
        )

    def step_down(self, why: str) -> None:
        """Stop acting at once (Asterisk gave the app to another, or the lease lapsed)."""
        if self._term is not None:
            log.error("leadership: deposed (%s): acting no more, epoch %d", why, self._term.epoch)
        self._term = None
        self._alone = False

    async def give_way(self, why: str) -> None:
        """Stop acting, then end the lease at once (not at its expiry): a standby that can
        do what this one cannot (reach Asterisk) takes over at its next try."""
        term = self._term
        self.step_down(why)
        if term is not None:
            await self._end(term)

    def stand_aside(self) -> None:
        """Handing over (SIGTERM): act no more, but keep the lease until `release`, so that
        what was recorded can still be written under our epoch."""
        self._aside = True

    async def release(self) -> None:
        """Give the lease up now: a standby takes it at its next try."""
        term, self._term = self._term, None
        if term is not None and await self._end(term):
            log.warning("leadership: lease released, epoch %d", term.epoch)

    async def _end(self, term: Term) -> bool:
        """End `term`'s lease in the database now; False if it could not (it ends by itself)."""
        try:
            async with asyncio.timeout(2.0), self._engine.begin() as conn:
                await store.release(conn, self.holder, term.epoch)
        except _OUTAGE as err:
            log.warning(
                "leadership: could not end the lease (%s); it ends by itself", type(err).__name__
            )
            return False
        return True

    async def standbys(self) -> int:
        """How many other controllers were seen alive lately (read now)."""
        await self._read_controllers()
        return sum(1 for c in self.controllers if c.alive and c.role == "standby")

    # --- who is who ------------------------------------------------------------------

    async def _say_who(self) -> None:
        if self._clock() - self._seen_at < SEEN_EVERY_S:
            return
        self._seen_at = self._clock()
        try:
            async with asyncio.timeout(1.0), self._engine.begin() as conn:
                await self._seen(conn, self.role, self.epoch)
                found = await store.leader(conn)
                self.controllers = await store.controllers(conn)
        except _OUTAGE:
            return
        self.leader = found.holder if found is not None and found.live else None

    async def _seen(self, conn: Any, role: str, epoch: int | None) -> None:
        await store.seen(
            conn,
            name=self.name,
            host=socket.gethostname(),
            pid=os.getpid(),
            role=role,
            epoch=epoch,
            started_at=self.started_at,
        )

    async def _read_controllers(self) -> None:
        with contextlib.suppress(*_OUTAGE):
            async with asyncio.timeout(1.0), self._engine.connect() as conn:
                self.controllers = await store.controllers(conn)

    async def stopped(self) -> None:
        """Say, on the way out, that this process is gone (the floor stops counting it)."""
        with contextlib.suppress(*_OUTAGE):
            async with asyncio.timeout(1.0), self._engine.begin() as conn:
                await self._seen(conn, "stopped", None)

    def view(self) -> dict[str, Any]:
        """For /healthz and the floor: this process's role, and the controllers seen."""
        return {
            "role": self.role,
            "name": self.name,
            "epoch": self.epoch,
            "leader": self.leader,
            "controllers": [
                {"name": c.name, "host": c.host, "role": c.role, "alive": c.alive}
                for c in self.controllers
                if c.alive or c.role != "stopped"
            ],
        }
