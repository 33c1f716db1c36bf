"""Who is calling: a pure decision over the directory's matches for a number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

MatchKind = Literal["terminal", "elder", "contact"]
CallerKind = Literal["terminal", "elder", "contact", "unknown", "anonymous", "unverified"]

_PRECEDENCE: tuple[MatchKind, ...] = ("terminal", "elder", "contact")


@dataclass(frozen=True)
class Match:
    """One directory row whose number equals the caller's."""

    kind: MatchKind
    elder_id: int
    contact_id: int | None = None
    tier: int | None = None


@dataclass(frozen=True)
class Identity:
    caller_kind: CallerKind
    elder_id: int | None = None
    contact_id: int | None = None
    candidates: tuple[int, ...] = ()

    @property
    def identified(self) -> bool:
        return self.elder_id is not None


ANONYMOUS = Identity("anonymous")
UNKNOWN = Identity("unknown")
UNVERIFIED = Identity("unverified")  # the directory could not be asked (database down)


def decide(number: str | None, matches: Sequence[Match]) -> Identity:
    """Pick the caller among the matches.

    A terminal's line beats an elder's own number, which beats a contact's. Within a kind,
    one elder identifies the call; several (a shared home line, a son caring for both
    parents) leave the elder to the operator, with the candidates listed.
    """
    if number is None:
        return ANONYMOUS
    for kind in _PRECEDENCE:
        of_kind = [m for m in matches if m.kind == kind]
        if not of_kind:
            continue
        elders = tuple(sorted({m.elder_id for m in of_kind}))
        if len(elders) > 1:
            return Identity(kind, candidates=elders)
        best = min(of_kind, key=lambda m: (m.tier or 0, m.contact_id or 0))
        return Identity(kind, elder_id=best.elder_id, contact_id=best.contact_id)
    return UNKNOWN
