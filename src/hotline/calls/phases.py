"""The phases of a call's life, as a union of frozen states whose methods return the next.

Pure: no I/O. A phase handler (calls.intake, queues.waiting, calls.talk, transfers.consult,
callbacks.dialer) performs what a phase needs and moves the call on with these methods.
Ended has no methods: nothing follows it.

    Arriving -> Greeting -> Routing -> Queued <-> Ringing -> Talking <-> Consulting
                                         ^                     |
                                         +---- (transfer) -----+
    a callback we place:        Queued <-> Ringing -> Dialing -> Talking
    after the service:          Talking --(the operator hands over)--> Surveying -> Ended
    an emergency:   Talking --(confirmed)--> Conference;  Queued --(nobody in time)--> Conference
                    Conference --(only the elder left in it)--> Queued
    any live phase -> Ended (hung up, handed to the duty phones, lost, ended by the service)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Ended:
    at: dt.datetime
    by: str  # caller | operator | party | service | fallback | lost
    cause: int | None = None
    cause_txt: str | None = None


@dataclass(frozen=True)
class Party:
    """Who the caller talks to: an operator, or an outside number (neither: unknown)."""

    operator_id: int | None = None
    number: str | None = None

    @property
    def label(self) -> str:
        if self.operator_id is not None:
            return f"operator {self.operator_id}"
        return "outside number"


@dataclass(frozen=True)
class _Live:
    started_at: dt.datetime

    def hung_up(self, at: dt.datetime, cause: int | None, cause_txt: str | None) -> Ended:
        return Ended(at, "caller", cause, cause_txt)

    def lost(self, at: dt.datetime) -> Ended:
        """The channel vanished while nobody watched (seen at reconciliation)."""
        return Ended(at, "lost")

    def handed_over(self, at: dt.datetime) -> Ended:
        """Sent to the dialplan's duty ring group."""
        return Ended(at, "fallback")


@dataclass(frozen=True)
class Arriving(_Live):
    """In Stasis, not yet answered."""

    def answered(self, at: dt.datetime) -> Greeting:
        return Greeting(self.started_at, at)


@dataclass(frozen=True)
class Greeting(_Live):
    answered_at: dt.datetime

    def greeted(self) -> Routing:
        return Routing(self.started_at, self.answered_at)


@dataclass(frozen=True)
class Routing(_Live):
    """Greeted and identified: the line decides where the call waits (R2)."""

    answered_at: dt.datetime

    def queued(self, queue: str, priority: int, at: dt.datetime) -> Queued:
        return Queued(self.started_at, self.answered_at, queue, priority, at)


@dataclass(frozen=True)
class Ring:
    """One operator's softphone ringing for the call; `deadline` on the monotonic clock."""

    channel_id: str
    operator_id: int
    deadline: float


@dataclass(frozen=True)
class Queued(_Live):
    """Waiting for an operator in `queue` since `since`. A callback waits here too, with
    nobody on the line yet (`answered_at` None)."""

    answered_at: dt.datetime | None
    queue: str
    priority: int
    since: dt.datetime

    def ringing(self, rings: tuple[Ring, ...]) -> Ringing:
        return Ringing(
            self.started_at, self.answered_at, self.queue, self.priority, self.since, rings
        )

    def escalated(self, bridge_id: str, at: dt.datetime) -> Conference:
        """Nobody answered a terminal in time: the service calls help in itself."""
        return Conference(
            self.started_at,
            self.answered_at or at,
            self.queue,
            bridge_id,
            None,
            None,
            at,
            "escalated",
        )

    def moved(self, queue: str, at: dt.datetime) -> Queued:
        """Overflow into another queue."""
        return Queued(self.started_at, self.answered_at, queue, self.priority, at)

    def talking(self, bridge_id: str, leg: str, party: Party, at: dt.datetime) -> Talking:
        return Talking(
            self.started_at, self.answered_at or at, self.queue, bridge_id, leg, party, at
        )


@dataclass(frozen=True)
class Ringing(Queued):
    """Still waiting, with operators' softphones ringing (one, or several for ring-all)."""

    rings: tuple[Ring, ...] = ()

    def ring(self, channel_id: str) -> Ring | None:
        return next((r for r in self.rings if r.channel_id == channel_id), None)

    def more(self, rings: tuple[Ring, ...]) -> Ringing:
        return replace(self, rings=self.rings + rings)

    def stopped(self, channel_id: str) -> Queued:
        """One ring ended (no answer, busy, refused): the others ring on, or none is left."""
        left = tuple(r for r in self.rings if r.channel_id != channel_id)
        waiting = Queued(self.started_at, self.answered_at, self.queue, self.priority, self.since)
        return waiting.ringing(left) if left else waiting

    def waiting(self) -> Queued:
        return Queued(self.started_at, self.answered_at, self.queue, self.priority, self.since)


@dataclass(frozen=True)
class Talking(_Live):
    """The caller and `party` (on channel `leg`) share the mixing bridge `bridge_id`."""

    answered_at: dt.datetime
    queue: str  # where the caller goes back to if a transfer fails, and whose wrap-up applies
    bridge_id: str
    leg: str
    party: Party
    since: dt.datetime

    def requeued(self, queue: str, priority: int, at: dt.datetime) -> Queued:
        """A blind transfer to a queue: the caller waits again."""
        return Queued(self.started_at, self.answered_at, queue, priority, at)

    def with_party(self, bridge_id: str, leg: str, party: Party, at: dt.datetime) -> Talking:
        return Talking(self.started_at, self.answered_at, self.queue, bridge_id, leg, party, at)

    def surveying(self, at: dt.datetime) -> Surveying:
        """The operator hands the caller to the satisfaction survey (R21) and is free."""
        return Surveying(self.started_at, self.answered_at, self.queue, self.party.operator_id, at)

    def conference(self, at: dt.datetime) -> Conference:
        """The operator confirmed an emergency: the bridge becomes its conference."""
        return Conference(
            self.started_at,
            self.answered_at,
            self.queue,
            self.bridge_id,
            self.leg,
            self.party.operator_id,
            at,
            "confirmed",
        )

    def consulting(
        self,
        consult_leg: str,
        target: Party,
        at: dt.datetime,
        *,
        by: str,
        announce: tuple[str, ...] = (),
    ) -> Consulting:
        return Consulting(
            self.started_at,
            self.answered_at,
            self.queue,
            self.bridge_id,
            self.leg,
            self.party,
            self.since,
            consult_leg,
            target,
            at,
            by,
            announce,
        )


@dataclass(frozen=True)
class Consulting(_Live):
    """Attended transfer: the party speaks with `target` (on `consult_leg`) in the bridge,
    the caller hears music outside it."""

    answered_at: dt.datetime
    queue: str
    bridge_id: str
    leg: str
    party: Party
    since: dt.datetime
    consult_leg: str
    target: Party
    consulting_since: dt.datetime
    by: str  # who asked for the transfer
    announce: tuple[str, ...]  # what the caller hears before meeting the target

    def completed(self, at: dt.datetime) -> Talking:
        """The caller meets the target; the party that consulted has left."""
        return Talking(
            self.started_at,
            self.answered_at,
            self.queue,
            self.bridge_id,
            self.consult_leg,
            self.target,
            at,
        )

    def cancelled(self) -> Talking:
        return Talking(
            self.started_at,
            self.answered_at,
            self.queue,
            self.bridge_id,
            self.leg,
            self.party,
            self.since,
        )


@dataclass(frozen=True)
class Surveying(_Live):
    """The caller alone, answering the satisfaction survey on the keypad (R21); the
    operator who handed over (`operator_id`, if one) is free. `outcome` is set once the
    survey has its result (the caller is being thanked): leaving then records nothing."""

    answered_at: dt.datetime
    queue: str
    operator_id: int | None
    since: dt.datetime  # when the survey was asked for
    outcome: str | None = None

    def given(self, outcome: str) -> Surveying:
        return replace(self, outcome=outcome)

    def done(self, at: dt.datetime) -> Ended:
        """Thanked and hung up by the service."""
        return Ended(at, "service")


@dataclass(frozen=True)
class Dialing(_Live):
    """A callback: the operator answered on `operator_leg`; we dial `number` for them."""

    queue: str
    operator_leg: str
    operator_id: int
    number: str
    since: dt.datetime

    def answered(self, bridge_id: str, at: dt.datetime) -> Talking:
        party = Party(operator_id=self.operator_id)
        return Talking(self.started_at, at, self.queue, bridge_id, self.operator_leg, party, at)


@dataclass(frozen=True)
class Conference(_Live):
    """An emergency: the elder, the operator (on `operator_leg`, if any), 120, the family
    and the other parties called in, in the mixing bridge `bridge_id`. Who else is in it
    changes during the phase; the emergency feature keeps that, not this state."""

    answered_at: dt.datetime
    queue: str
    bridge_id: str
    operator_leg: str | None
    operator_id: int | None
    since: dt.datetime
    how: str  # confirmed | escalated | adopted (found running after a restart)
    adopted: tuple[str, ...] = ()  # adopted: the other parties' channels found in the bridge

    def moved(self, bridge_id: str) -> Conference:
        """The conference in a bridge of its own (named as one, for an adoption)."""
        return replace(self, bridge_id=bridge_id)

    def requeued(self, priority: int, at: dt.datetime) -> Queued:
        """Everyone else has gone and the elder is still on the line: an operator again."""
        return Queued(self.started_at, self.answered_at, self.queue, priority, at)


CallState = (
    Arriving
    | Greeting
    | Routing
    | Queued
    | Ringing
    | Talking
    | Consulting
    | Surveying
    | Dialing
    | Conference
    | Ended
)
LiveState = (
    Arriving
    | Greeting
    | Routing
    | Queued
    | Ringing
    | Talking
    | Consulting
    | Surveying
    | Dialing
    | Conference
)


def resumed(started_at: dt.datetime, answered: bool, now: dt.datetime) -> Arriving | Routing:
    """The phase to carry on from for a caller found parked in Stasis after a restart."""
    if not answered:
        return Arriving(started_at)
    return Routing(started_at, now)
