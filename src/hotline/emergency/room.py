"""Who is in an emergency conference right now: pure bookkeeping, no I/O.

The Conference phase (calls.phases) names the bridge and the operator; this keeps the rest,
which changes all through the phase: every leg dialled, answered, heard the summary, joined,
left; the family tier being called and when the next is due; 120's tries.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from hotline.emergency.plan import Facts, Role, Target

OUTSIDE: tuple[Role, ...] = ("ambulance", "family", "supervisor", "party")
_LEGS = uuid.UUID("0c6b8f52-3f7e-4d55-9a43-6f1e2b7c9d10")


def leg_id_for(channel_id: str) -> uuid.UUID:
    """A leg's record id, from its channel (unique): the same leg found again after a restart
    is the same record."""
    return uuid.uuid5(_LEGS, channel_id)


@dataclass
class Leg:
    """One party's channel. `leg_id` is the record's id (emergency_legs)."""

    channel_id: str
    target: Target
    attempt: int = 1
    dialled_at: dt.datetime | None = None
    answered_at: dt.datetime | None = None
    acknowledged_at: dt.datetime | None = None
    joined: bool = False
    left_at: dt.datetime | None = None

    @property
    def leg_id(self) -> uuid.UUID:
        return leg_id_for(self.channel_id)

    @property
    def role(self) -> Role:
        return self.target.role

    @property
    def ringing(self) -> bool:
        return self.answered_at is None and self.left_at is None

    @property
    def briefing(self) -> bool:
        """Answered, hearing the summary (or notice), not yet in the bridge."""
        return self.answered_at is not None and not self.joined and self.left_at is None

    @property
    def present(self) -> bool:
        return self.joined and self.left_at is None


@dataclass
class Room:
    facts: Facts
    legs: dict[str, Leg] = field(default_factory=dict)  # by channel id
    tier: int | None = None  # the family tier called last
    tier_due: float | None = None  # monotonic: when the next tier is called
    ambulance_tries: int = 0
    playing: dict[str, str] = field(default_factory=dict)  # playback id -> channel id
    recording: str | None = None
    operator_in: bool = True  # in the bridge (not stepped out, not gone)
    elder_back: str | None = None  # the leg calling the elder back after a drop
    elder_calls: int = 0  # times the elder was called back
    elder_channel: str | None = None  # the elder's line last known (kept after a drop)
    marks: dict[str, str] = field(default_factory=dict)  # channel id -> its mark, as set

    def add(self, leg: Leg) -> Leg:
        self.legs[leg.channel_id] = leg
        return leg

    def of(self, channel_id: str) -> Leg | None:
        return self.legs.get(channel_id)

    def outsiders_present(self) -> bool:
        return any(leg.present and leg.role in OUTSIDE for leg in self.legs.values())

    def anyone_coming(self) -> bool:
        """A leg still ringing or hearing its briefing."""
        return any(
            (leg.ringing or leg.briefing) and leg.role in OUTSIDE for leg in self.legs.values()
        )

    def family_answered(self, tier: int | None) -> bool:
        return any(
            leg.role == "family" and leg.target.tier == tier and leg.answered_at is not None
            for leg in self.legs.values()
        )

    def ambulance_reached(self) -> bool:
        return any(
            leg.role == "ambulance" and leg.answered_at is not None for leg in self.legs.values()
        )

    def ambulance_coming(self) -> bool:
        return any(leg.role == "ambulance" and leg.ringing for leg in self.legs.values())

    def live_channels(self) -> list[str]:
        return [c for c, leg in self.legs.items() if leg.left_at is None]
