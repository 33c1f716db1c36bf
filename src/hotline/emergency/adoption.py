"""A conference found running after a restart: who is still on it, who went away while
nobody listened (pure, no I/O).

Asterisk keeps a conference's bridge and every channel in it through a crash of the service,
but not what the service knew of them. What a restarted service needs is on the channels
themselves: each leg of a conference carries a mark (the channel variable `MARK`, set by the
conference once the leg has answered: its role, tier and try, the elder's line at the time
and the elder's id). `found` reads the marks beside what Asterisk shows now (in the bridge or
outside it) and says what to adopt, and which of the elder's lines went away meanwhile: that
is then handled as if it had gone with the service running.

Asterisk 22 sets a channel's variables only while it is in our app: a leg still ringing at
the crash has no mark, and is not adopted (legs.place would have to pass it at originate).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, get_args

from hotline.calls.legs import OUTSIDE_LEG
from hotline.emergency.plan import Role

MARK = "HOTLINE_EMERGENCY"
"""The channel variable that says what a leg is to its conference (`Mark.value`)."""

Status = Literal["in", "out", "waiting"]
"""In the bridge; the operator stepped out (music, outside the bridge); answered but not in
the bridge yet (hearing the briefing, or the elder just called back)."""

_ROLES: tuple[str, ...] = get_args(Role)


@dataclass(frozen=True)
class Mark:
    """What a leg of a conference carries in Asterisk: ids and words, nothing personal."""

    role: Role
    attempt: int = 1
    tier: int | None = None
    elder: str | None = None  # the elder's channel when the leg was marked
    elder_id: int | None = None

    def value(self) -> str:
        fields = {
            "role": self.role,
            "attempt": str(self.attempt),
            "tier": None if self.tier is None else str(self.tier),
            "elder": self.elder,
            "elder_id": None if self.elder_id is None else str(self.elder_id),
        }
        return ";".join(f"{k}={v}" for k, v in fields.items() if v is not None)

    @classmethod
    def parse(cls, value: str | None) -> Mark | None:
        """The mark, or None for an unset or foreign value."""
        if not value:
            return None
        try:
            fields = dict(part.split("=", 1) for part in value.split(";"))
        except ValueError:
            return None
        role = fields.get("role", "")
        numbers = (fields.get("attempt", "1"), fields.get("tier", "0"), fields.get("elder_id", "0"))
        if role not in _ROLES or not all(n.isdigit() for n in numbers):
            return None
        return cls(
            role,  # type: ignore[arg-type]  # checked against Role's words above
            attempt=int(fields.get("attempt", "1")),
            tier=int(fields["tier"]) if "tier" in fields else None,
            elder=fields.get("elder") or None,
            elder_id=int(fields["elder_id"]) if "elder_id" in fields else None,
        )


@dataclass(frozen=True)
class Seen:
    """One channel of the conference as Asterisk shows it after the restart."""

    channel_id: str
    mark: Mark | None
    in_bridge: bool


@dataclass(frozen=True)
class Adopted:
    """A channel taken on again, and what it is to the conference."""

    channel_id: str
    role: Role
    status: Status
    attempt: int = 1
    tier: int | None = None


@dataclass(frozen=True)
class Found:
    """What a restarted service adopts of a conference, and who has gone meanwhile."""

    legs: tuple[Adopted, ...]
    elder: str | None  # the elder's channel in the bridge
    elder_back: str | None  # else the elder called back, answered, not in the bridge yet
    elder_gone: tuple[str, ...]  # the elder's channels the marks name that are gone
    elder_id: int | None
    elder_calls: int  # times the elder has been called back in this conference

    @property
    def operator_in(self) -> bool:
        return any(leg.role == "operator" and leg.status == "in" for leg in self.legs)

    @property
    def elder_dropped(self) -> bool:
        """The elder is on no line of the conference: their line went while nobody listened
        (or before, with no call back under way): they are called back now."""
        return self.elder is None and self.elder_back is None


def found(seen: Sequence[Seen], *, customer: str | None, operator: str | None) -> Found:
    """`seen`: the conference's channels still in Asterisk; `customer`: the elder's own call
    if it is still there; `operator`: the operator's leg, in the bridge or stepped out."""
    legs = tuple(_adopted(s, customer, operator) for s in seen)
    elders = sorted(
        (leg for leg in legs if leg.role == "elder"),
        key=lambda leg: (leg.channel_id != customer, -leg.attempt),  # their own call first
    )
    elder = next((leg.channel_id for leg in elders if leg.status == "in"), None)
    back = None
    if elder is None:
        back = next((leg.channel_id for leg in elders if leg.status != "in"), None)
    live = {s.channel_id for s in seen}
    named = [s.mark.elder for s in seen if s.mark is not None and s.mark.elder is not None]
    gone = tuple(c for c in dict.fromkeys(named) if c not in live)
    ids = [s.mark.elder_id for s in seen if s.mark is not None and s.mark.elder_id is not None]
    called_back = {c for c in [*named, *(leg.channel_id for leg in elders)] if _ours(c)}
    return Found(legs, elder, back, gone, ids[0] if ids else None, len(called_back))


def _adopted(seen: Seen, customer: str | None, operator: str | None) -> Adopted:
    mark = seen.mark
    role: Role
    if seen.channel_id == customer:
        role = "elder"
    elif seen.channel_id == operator:
        role = "operator"
    else:
        role = mark.role if mark is not None else "party"
    status: Status = "in" if seen.in_bridge else "out" if role == "operator" else "waiting"
    attempt, tier = (mark.attempt, mark.tier) if mark is not None else (1, None)
    return Adopted(seen.channel_id, role, status, attempt, tier)


def _ours(channel_id: str) -> bool:
    """A line we placed (a call back to the elder), not the elder's own call."""
    return channel_id.startswith(OUTSIDE_LEG)
