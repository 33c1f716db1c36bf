"""Every background task of the service, owned by one exit stack: started with one line,
cancelled and awaited when the stack closes (in the reverse order of their start)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class Tasks:
    def __init__(self, stack: contextlib.AsyncExitStack) -> None:
        self._stack = stack

    def start(self, coro: Coroutine[Any, Any, T], name: str) -> asyncio.Task[T]:
        task = asyncio.create_task(coro, name=name)
        self._stack.push_async_callback(self._stop, task)
        return task

    async def _stop(self, task: asyncio.Task[Any]) -> None:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
