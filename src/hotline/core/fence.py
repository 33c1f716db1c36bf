"""The fence between a controller that leads and one that no longer does (issue 16).

Asterisk does not stop a deposed controller's REST calls, and PostgreSQL does not know who
leads: the controller fences itself. `acting()` answers from its own clock (the lease is
still good: renewed less than its length ago); `check(conn)` answers inside a transaction
(the lease row still carries our epoch, read FOR SHARE, so a takeover waits for the
transaction to end). Whatever acts for the leader asks first and stops on `Deposed`.
"""

from __future__ import annotations

from typing import Any, Protocol


class Deposed(Exception):
    """This controller does not lead (any more): it must not act."""


class Fence(Protocol):
    @property
    def epoch(self) -> int | None: ...

    def acting(self) -> bool: ...

    async def check(self, conn: Any) -> None:
        """Raise Deposed unless the lease row still names us with our epoch (FOR SHARE)."""
        ...


class Unfenced:
    """The fence of a controller that runs alone (tests, tools): always acting."""

    epoch: int | None = None

    def acting(self) -> bool:
        return True

    async def check(self, conn: Any) -> None:
        return None
