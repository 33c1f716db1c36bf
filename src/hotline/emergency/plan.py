"""Who an emergency calls, and when: pure decisions, no I/O.

120 is reached through a route per area (the elder's district, else "*", else the
configured default): a number dialled through the carrier trunk, or a PJSIP endpoint of its
own. The family is called tier by tier (R9): everyone of a tier at once, the next tier when
nobody of the one before has answered in time. The parties of R10 (home-care service
centre, community, district office) are called into the conference or only notified, as
configured for the elder or their area.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from zoneinfo import ZoneInfo

from hotline.speech.summary import ElderFacts

Role = Literal["elder", "operator", "ambulance", "family", "supervisor", "party"]
ENDPOINT = re.compile(r"^PJSIP/[A-Za-z0-9_.-]{1,40}$")
NUMBER = re.compile(r"^[0-9]{3,15}$")


def endpoint_for(route: str, trunk: str) -> str:
    """What Asterisk dials for a route: an endpoint as it is, a number through the trunk."""
    if ENDPOINT.match(route):
        return route
    return f"PJSIP/{route}@{trunk}"


def valid_route(route: str) -> bool:
    return bool(ENDPOINT.match(route) or NUMBER.match(route))


@dataclass(frozen=True)
class Contact:
    contact_id: int
    relation: str
    tier: int
    number: str


@dataclass(frozen=True)
class OtherParty:
    role: str  # care_centre | community | district_office | other
    name: str
    number: str
    mode: str  # call | notify


@dataclass(frozen=True)
class Target:
    """One party to dial."""

    role: Role
    label: str  # relation or role: what the case shows
    route: str  # a number, or PJSIP/<endpoint>
    tier: int | None = None


@dataclass(frozen=True)
class Facts:
    """What the emergency needs to know of the elder (loaded at the start)."""

    elder_id: int | None
    high_risk: bool = False
    district: str | None = None
    contacts: tuple[Contact, ...] = ()
    parties: tuple[OtherParty, ...] = ()
    routes: tuple[str, ...] = ()  # 120: first route, then the second if configured
    about: ElderFacts | None = None  # what the summary says (None: the elder is unknown)


@dataclass(frozen=True)
class Settings:
    ambulance: str = "120"  # route when no area has one
    supervisor: str = "PJSIP/duty"  # the duty supervisor's phone
    tier_s: int = 20  # how long a family tier rings before the next is called
    ambulance_ring_s: int = 60
    ambulance_tries: int = 3  # on the routes in turn
    escalate_after_s: int = 20  # a terminal nobody answers, from its first ring
    elder_ring_s: int = 30  # calling the elder back after their line dropped
    elder_callbacks: int = 2  # at most, in one conference
    party_ring_s: int = 40


def routes_for(
    district: str | None, table: Mapping[str, tuple[str, str | None]], default: str
) -> tuple[str, ...]:
    """120's routes for an area: its own, else "*", else the default; a second if set."""
    row = table.get(district or "") or table.get("*")
    if row is None:
        return (default,)
    first, second = row
    return (first, second) if second else (first,)


def tiers(contacts: Iterable[Contact]) -> list[tuple[int, list[Contact]]]:
    """Contacts grouped by tier, lowest first; a number appears once (its lowest tier)."""
    seen: set[str] = set()
    grouped: dict[int, list[Contact]] = {}
    for contact in sorted(contacts, key=lambda c: (c.tier, c.contact_id)):
        if contact.number in seen:
            continue
        seen.add(contact.number)
        grouped.setdefault(contact.tier, []).append(contact)
    return sorted(grouped.items())


def family_tier(contacts: Sequence[Contact], tier: int) -> list[Target]:
    """Who is called for `tier` (a number already in a lower tier is not called again)."""
    grouped = dict(tiers(contacts))
    return [Target("family", c.relation, c.number, c.tier) for c in grouped.get(tier, [])]


def next_tier(contacts: Sequence[Contact], after: int | None) -> int | None:
    """The tier after `after` (None: the first), or None when there is no other."""
    later = [tier for tier, _ in tiers(contacts) if after is None or tier > after]
    return later[0] if later else None


@dataclass(frozen=True)
class Opening:
    """What the conference dials at its start, and who is only notified."""

    ambulance: bool
    supervisor: bool
    first_tier: int | None
    parties: tuple[Target, ...] = field(default=())
    notify: tuple[OtherParty, ...] = field(default=())


def opening(facts: Facts, how: str) -> Opening:
    """Confirmed by an operator: 120, the first tier and the parties to call, at once.
    Escalated (nobody answered the terminal): the first tier and the duty supervisor; 120
    too only for an elder flagged high-risk (calling 120 without a human is a policy)."""
    escalated = how == "escalated"
    called = tuple(Target("party", p.role, p.number) for p in facts.parties if p.mode == "call")
    notify = tuple(p for p in facts.parties if p.mode == "notify")
    return Opening(
        ambulance=not escalated or facts.high_risk,
        supervisor=escalated,
        first_tier=next_tier(facts.contacts, None),
        parties=() if escalated else called,
        notify=notify,
    )


def ambulance_route(routes: Sequence[str], attempt: int) -> str:
    """The route of the n-th try (1-based): the first route, then the second if there is
    one (else the first again), and so on in turn."""
    return routes[(attempt - 1) % len(routes)]


def follow_up_due(at: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """17:00 local time the next day (R12)."""
    local = at.astimezone(tz)
    next_day = local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(next_day, dt.time(17, 0), tzinfo=tz).astimezone(dt.UTC)


HOSPITAL_UPDATE_S = 30 * 60  # "stay with the elder until hospital" (R11): the first update
