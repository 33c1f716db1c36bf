"""The supervisions in progress: started, switched and stopped for the API, each run in a
task of its own (hotline.supervision.stasis), all of them ended when the service stops."""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from hotline.ari import AriClient
from hotline.calls.asking import Ask
from hotline.calls.messages import Refused, Request
from hotline.calls.ports import Publish
from hotline.core.errors import Conflict, NotFound
from hotline.supervision.checks import Busy, start_refusal
from hotline.supervision.modes import Mode
from hotline.supervision.requests import ChangeMode, OperatorLeg, Stop
from hotline.supervision.stasis import Channels, Supervision, Target

log = logging.getLogger(__name__)

CallsOf = Callable[[int], Collection[uuid.UUID]]
"""The calls an operator is connected to (the desk's floor)."""
Log = Callable[[Target, Mode, str, str], Awaitable[None]]
"""Writes the access log's row of a supervision (target, mode, by, role) before it begins;
an error (the database away) refuses the supervision: none goes unlogged (R27)."""


async def _unlogged(_target: Target, _mode: Mode, _by: str, _role: str) -> None:
    return None


ANSWER_S = 15.0  # how long the API waits for a supervision's task to answer


class Supervisions:
    def __init__(
        self,
        *,
        ari: AriClient,
        app: str,
        channels: Channels,
        ask: Ask,
        calls_of: CallsOf,
        publish: Publish,
        log: Log = _unlogged,
        ring_s: int = 30,
    ) -> None:
        self._ari = ari
        self._app = app
        self._channels = channels
        self._ask = ask
        self._calls_of = calls_of
        self._publish = publish
        self._log = log
        self._ring_s = ring_s
        self._live: dict[uuid.UUID, Supervision] = {}
        self._tasks: dict[uuid.UUID, asyncio.Task[None]] = {}

    def running(self) -> list[Supervision]:
        return list(self._live.values())

    def get(self, supervision_id: uuid.UUID) -> Supervision:
        found = self._live.get(supervision_id)
        if found is None:
            raise NotFound("supervision_id", "no such supervision in progress")
        return found

    async def start(
        self,
        operator_id: int,
        supervisor_id: int,
        endpoint: str,
        mode: Mode,
        *,
        by: str,
        role: str = "supervisor",
    ) -> Supervision:
        """Snoop on the operator's call and ring the supervisor: returns once their
        softphone rings. Conflict if the operator is not talking on a call, or the
        supervisor cannot take it now."""
        self._refuse_if_busy(operator_id, supervisor_id)
        call_id, leg = await self._talking(operator_id, by)
        self._refuse_if_busy(operator_id, supervisor_id)  # asked again: time has passed
        target = Target(uuid.uuid4(), call_id, operator_id, leg, supervisor_id, f"PJSIP/{endpoint}")
        await self._log(target, mode, by, role)
        supervision = Supervision(
            target,
            mode,
            ari=self._ari,
            app=self._app,
            channels=self._channels,
            publish=self._publish,
            ring_s=self._ring_s,
        )
        key = target.supervision_id
        self._live[key] = supervision
        task = asyncio.create_task(supervision.run(), name=f"supervision-{key}")
        self._tasks[key] = task
        task.add_done_callback(lambda t: self._finished(key, t))
        try:
            await asyncio.wait_for(asyncio.shield(supervision.ready), ANSWER_S)
        except Refused as err:
            raise Conflict("operator_id", str(err)) from None
        except TimeoutError:
            task.cancel()  # it ends, tidily, in its own task
            raise Conflict("operator_id", "the supervision did not start in time") from None
        return supervision

    async def change(
        self, supervision_id: uuid.UUID, mode: Mode, by: str, role: str = "supervisor"
    ) -> Supervision:
        supervision = self.get(supervision_id)
        await self._log(supervision.target, mode, by, role)
        await self._asked(supervision_id, ChangeMode(by=by, mode=mode))
        return supervision

    async def stop(self, supervision_id: uuid.UUID, by: str) -> Supervision:
        """End it; returns once its channels and bridge are gone."""
        supervision = self.get(supervision_id)
        await self._asked(supervision_id, Stop(by=by))
        return supervision

    async def shutdown(self, grace: float = 5.0) -> None:
        """End every supervision (each hangs up its channels as its task is cancelled)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)

    # --- helpers ---------------------------------------------------------------------

    def _refuse_if_busy(self, operator_id: int, supervisor_id: int) -> None:
        running = [Busy(s.target.operator_id, s.target.supervisor_id) for s in self._live.values()]
        on_calls = len(self._calls_of(supervisor_id))
        why = start_refusal(operator_id, supervisor_id, on_calls, running)
        if why is not None:
            raise Conflict("supervisor_id", why)

    async def _talking(self, operator_id: int, by: str) -> tuple[uuid.UUID, str]:
        """The call the operator is talking on and their channel in it (asked of the call's
        own task, which knows its phase)."""
        for call_id in sorted(self._calls_of(operator_id)):
            try:
                leg = await self._ask(call_id, OperatorLeg(by=by, operator_id=operator_id))
            except Refused:
                continue
            return call_id, leg
        raise Conflict("operator_id", "the operator is not talking on a call")

    async def _asked(self, supervision_id: uuid.UUID, request: Request) -> str:
        """The supervision's answer; one that ends meanwhile has stopped (or cannot
        change any more)."""
        self.get(supervision_id).deliver(request)
        task = self._tasks[supervision_id]
        either: set[asyncio.Future[Any]] = {request.done, task}
        await asyncio.wait(either, timeout=ANSWER_S, return_when=asyncio.FIRST_COMPLETED)
        if not request.done.done():
            if not task.done():
                request.refuse("the supervision did not answer in time")
            elif isinstance(request, Stop):
                request.answer("ended")
            else:
                request.refuse("the supervision has ended")
        try:
            return request.done.result()
        except Refused as err:
            raise Conflict("supervision_id", str(err)) from None

    def _finished(self, key: uuid.UUID, task: asyncio.Task[None]) -> None:
        self._live.pop(key, None)
        self._tasks.pop(key, None)
        if not task.cancelled() and task.exception() is not None:
            log.error("supervision task %s died: %r", task.get_name(), task.exception())
