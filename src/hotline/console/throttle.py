"""Console logins held back when they fail (R27): per address and per account. Pure: the
caller passes the clock, and the login page acts on the answers.

- A few failures cost nothing (FREE failures in WINDOW); each further one doubles the wait
  before the next attempt from that address or for that account (1 s, 2 s, ... MAX_WAIT),
  answered 429 with Retry-After without checking the password at all.
- LOCK_AFTER failures for one account in WINDOW lock it for LOCK_FOR, whatever the address
  and whatever the password (a supervisor is alerted, an audit row is written); a
  successful login ends an account's (or an address's) count.
- Memory is bounded: at most KEEP addresses and accounts are remembered, the stalest
  forgotten first, so a flood of made-up names cannot fill it.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field

WINDOW = 15 * 60.0  # seconds over which failures count
FREE = 3  # failures in WINDOW before anything waits
MAX_WAIT = 60.0  # the longest wait between two attempts (seconds)
LOCK_AFTER = 10  # failures of one account in WINDOW that lock it ...
LOCK_FOR = 15 * 60.0  # ... for this long
KEEP = 10_000  # addresses and accounts remembered at most


@dataclass(frozen=True)
class Wait:
    """Refused for now: try again in `seconds` (the account is `locked` until then)."""

    seconds: float
    locked: bool = False


@dataclass(frozen=True)
class Locked:
    """This failure locked the account `username` until `until` (monotonic)."""

    username: str
    until: float
    failures: int


@dataclass
class _Count:
    failures: deque[float] = field(default_factory=deque)
    next_try: float = 0.0
    locked_until: float = 0.0

    def recent(self, now: float) -> int:
        while self.failures and now - self.failures[0] > WINDOW:
            self.failures.popleft()
        return len(self.failures)


class _Book:
    def __init__(self, keep: int) -> None:
        self._keep = keep
        self._counts: OrderedDict[str, _Count] = OrderedDict()

    def get(self, key: str) -> _Count | None:
        return self._counts.get(key)

    def take(self, key: str) -> _Count:
        count = self._counts.pop(key, None) or _Count()
        self._counts[key] = count  # the most recent last
        while len(self._counts) > self._keep:
            self._counts.popitem(last=False)
        return count

    def forget(self, key: str) -> None:
        self._counts.pop(key, None)


def _wait_after(failures: int) -> float:
    return 0.0 if failures < FREE else min(MAX_WAIT, 2.0 ** (failures - FREE))


class LoginThrottle:
    def __init__(self, keep: int = KEEP, lock_after: int = LOCK_AFTER) -> None:
        if lock_after <= FREE:
            raise ValueError(f"lock_after must be more than the {FREE} free failures")
        self._addresses = _Book(keep)
        self._accounts = _Book(keep)
        self._lock_after = lock_after

    def check(self, address: str, username: str, now: float) -> Wait | None:
        """Before the password is checked: None to go on, or how long to wait."""
        account = self._accounts.get(username)
        if account is not None and now < account.locked_until:
            return Wait(account.locked_until - now, locked=True)
        waits = [
            count.next_try - now
            for count in (self._addresses.get(address), account)
            if count is not None and now < count.next_try
        ]
        return Wait(max(waits)) if waits else None

    def failed(self, address: str, username: str, now: float) -> Locked | None:
        """A wrong password (or an unknown name); a Locked when this failure locks it."""
        locked: Locked | None = None
        for book, key in ((self._addresses, address), (self._accounts, username)):
            count = book.take(key)
            count.failures.append(now)
            recent = count.recent(now)
            count.next_try = now + _wait_after(recent)
            if book is self._accounts and recent >= self._lock_after and now >= count.locked_until:
                count.locked_until = now + LOCK_FOR
                locked = Locked(username, count.locked_until, recent)
        return locked

    def succeeded(self, address: str, username: str) -> None:
        self._addresses.forget(address)
        self._accounts.forget(username)

    def unlock(self, username: str) -> None:
        """An admin changed the account (a new password): it may log in again at once."""
        self._accounts.forget(username)
