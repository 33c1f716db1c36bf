"""When a controller may act, renew, or try to take the lease: pure, on one monotonic clock.

A leader's lease runs `length_s` in the database from each renewal; the leader itself acts
only until `margin_s` before that, counted from when it *sent* the renewal (the database
stamps the end later than that, never earlier), so it has stopped acting before anyone can
take the lease, whatever the network and the event loop did meanwhile. A process frozen
(SIGSTOP, a hung host) wakes with its clock past that point and acts no more.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Terms:
    length_s: float = 2.5  # the lease's length in the database, from each renewal
    renew_every_s: float = 1.0  # the leader renews this often (one miss is survived)
    margin_s: float = 0.5  # the leader stops acting this long before its lease ends
    try_every_s: float = 0.25  # a standby tries to take an ended lease this often

    @classmethod
    def of(cls, length_s: float) -> Terms:
        """Terms for a lease of `length_s` (HOTLINE_LEASE_MS): the margin a fifth of it (at
        most 0.5 s), renewed twice within what is left (at most every second)."""
        margin = min(0.5, length_s / 5)
        return cls(length_s, min(1.0, (length_s - margin) / 2), margin)

    def __post_init__(self) -> None:
        if not 0 < self.renew_every_s < self.length_s - self.margin_s:
            raise ValueError("renew_every_s must be shorter than length_s - margin_s")
        if self.margin_s <= 0 or self.try_every_s <= 0:
            raise ValueError("margin_s and try_every_s must be positive")


@dataclass(frozen=True)
class Term:
    """One stretch of leadership: its epoch, and when its last good renewal was sent."""

    epoch: int
    renewed_at: float

    def acting_until(self, terms: Terms) -> float:
        return self.renewed_at + terms.length_s - terms.margin_s

    def acting(self, terms: Terms, now: float) -> bool:
        return now < self.acting_until(terms)

    def renew_at(self, terms: Terms) -> float:
        return self.renewed_at + terms.renew_every_s

    def renewed(self, sent_at: float) -> Term:
        return Term(self.epoch, max(self.renewed_at, sent_at))
