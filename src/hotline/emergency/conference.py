"""The emergency conference: phase Conference, in the call's own task (R8-R12).

Entered when the operator confirms (a request on a Talking call) or when nobody has answered
a terminal in time (the queue's escalation). At once, in parallel: 120 on its route, the
first family tier, the parties of R10 to call; the duty supervisor when escalated. Each
outside party, on answer, hears the spoken summary of the elder (120, parties, supervisor)
or a short notice (family) on its own channel before joining the one mixing bridge; having
heard it, it has acknowledged. The bridge is recorded. A family tier that does not answer
in time gives way to the next; 120 refused or failed is tried again at once (on the second
route if configured) and the supervisor alerted; the elder's line dropping is called back at
once, and everyone else is told and kept on the line (R11). The operator may step out and
back in, or leave: the conference goes on. It ends when nobody but the operator is left, or
when ended through the API; with only the elder left, the elder waits for an operator again.

Every leg carries a mark in Asterisk (emergency.adoption): a restarted service adopts the
conference from its bridge and the marks, and whoever went away while it was down is handled
as if they had gone with it running (the elder is called back).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import uuid
import weakref
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from hotline.ari import AriError
from hotline.ari.events import ChannelDestroyed, ChannelHangupRequest, PlaybackFinished, StasisStart
from hotline.calls import legs
from hotline.calls.messages import CallGone
from hotline.calls.phases import Conference, Ended, Queued, Talking
from hotline.calls.ports import Seats
from hotline.calls.session import Call, Why, now
from hotline.calls.switchboard import CALL_VARIABLE
from hotline.core import events as ev
from hotline.core.records import CaseClassified, LegSeen, RecordingKept, TaskDue
from hotline.core.words import EMERGENCY
from hotline.emergency import adoption, plan
from hotline.emergency.adoption import MARK, Mark
from hotline.emergency.briefing import Briefing
from hotline.emergency.plan import Facts, Settings, Target
from hotline.emergency.requests import (
    EMERGENCY_REQUESTS,
    Confirm,
    EndConference,
    OperatorStep,
    RepeatSummary,
)
from hotline.emergency.room import Leg, Room

LoadFacts = Callable[[int | None], Awaitable[Facts]]
"""The elder's contacts, parties, 120's routes and risk flag (never raises: a database
outage gives what is known without it, and 120 is still called)."""


class Emergencies:
    def __init__(
        self,
        seats: Seats,
        load_facts: LoadFacts,
        briefing: Briefing,
        settings: Settings,
        tz: ZoneInfo,
    ) -> None:
        self._seats = seats
        self._load_facts = load_facts
        self._briefing = briefing
        self._settings = settings
        self._tz = tz
        self._rooms: dict[uuid.UUID, Room] = {}
        self._escalated: weakref.WeakSet[Call] = weakref.WeakSet()

    # --- ways in ---------------------------------------------------------------------

    async def on_confirm(self, call: Call, state: Talking, req: Confirm) -> None:
        """The Talking phase's handler of Confirm: the bridge becomes the conference."""
        if state.party.operator_id is None:
            req.refuse("only a call with an operator on it can be confirmed as an emergency")
            return
        req.answer("confirmed")
        call.step("emergency_confirmed", actor=req.by, operator_id=state.party.operator_id)
        call.state = state.conference(now())

    def escalate_after(self, call: Call) -> float | None:
        """The queue's escalation: a terminal nobody answers (once per call)."""
        if call.info.entry != "terminal" or call in self._escalated:
            return None
        return float(self._settings.escalate_after_s)

    async def escalate(self, call: Call, state: Queued) -> None:
        assert call.channel is not None
        self._escalated.add(call)
        bridge_id = await legs.bridge(call, [call.channel], state.queue, kind="emergency")
        call.step("emergency_escalated", after_s=self._settings.escalate_after_s)
        call.state = state.escalated(bridge_id, now())

    # --- the phase -------------------------------------------------------------------

    async def run(self, call: Call, state: Conference) -> None:
        room = self._rooms[call.info.call_id] = Room(Facts(call.elder_id))  # leave() finds it
        if state.how == "adopted":
            await self._adopt(call, state, room)
        else:
            state = await self._open(call, state, room)
        loop = asyncio.get_running_loop()
        while not await self._settled(call, state, room):
            await self._remark(call, room)
            wait = None if room.tier_due is None else max(0.0, room.tier_due - loop.time())
            try:
                item = await call.next_event(wait, accept=EMERGENCY_REQUESTS)
            except CallGone as gone:
                await self._elder_gone(call, state, room, gone)
                item = None
            if item is None:
                await self._tier_timer(call, state, room, loop.time())
            elif isinstance(item, StasisStart):
                await self._answered(call, state, room, item.channel.id)
            elif isinstance(item, PlaybackFinished):
                await self._briefed(call, state, room, item.playback.id)
            elif isinstance(item, legs.LEG_END):
                cause = (
                    item.cause
                    if isinstance(item, ChannelHangupRequest | ChannelDestroyed)
                    else None
                )
                await self._gone(call, state, room, item.channel.id, cause)
            elif isinstance(item, EMERGENCY_REQUESTS) and await self._request(
                call, state, room, item
            ):
                return

    async def leave(self, call: Call, state: Conference, why: Why) -> None:
        room = self._rooms.pop(call.info.call_id, None)
        if room is not None:
            await self._close(call, state, room, f"call_{why}", hang_up_elder=False)

    # --- opening ---------------------------------------------------------------------

    async def _adopt(self, call: Call, state: Conference, room: Room) -> None:
        """Found running after a restart: everyone still on it stays and nobody is called
        again; a leg that had answered but not joined (hearing its briefing) joins now; the
        elder's line gone meanwhile is called back as if it had dropped with the service
        running."""
        at = now()
        seen = await self._look(call, state)
        found = adoption.found(seen, customer=call.channel, operator=state.operator_leg)
        call.elder_id = call.elder_id if call.elder_id is not None else found.elder_id
        room.facts = await self._load_facts(call.elder_id)
        room.operator_in = found.operator_in
        room.elder_calls = found.elder_calls
        room.elder_channel = found.elder or next(iter(found.elder_gone), None)
        room.marks = {s.channel_id: s.mark.value() for s in seen if s.mark is not None}
        for adopted in found.legs:
            room.add(
                Leg(
                    adopted.channel_id,
                    self._target(call, state, adopted.role, adopted.tier),
                    attempt=adopted.attempt,
                    answered_at=at,
                    joined=adopted.status != "waiting",
                )
            )
        gone = [
            room.add(Leg(c, self._target(call, state, "elder", None), joined=True))
            for c in found.elder_gone
        ]
        call.publish(
            ev.EmergencyStarted(
                call_id=call.info.call_id, case_id=call.info.case_id, how="adopted", by="system"
            )
        )
        call.step(
            "emergency_adopted",
            parties=len(state.adopted),
            operator="in" if room.operator_in else "out" if state.operator_leg else None,
            elder="gone" if found.elder_dropped else "back" if found.elder_back else "in",
        )
        for leg in gone:  # their ends were not seen: recorded now (a first end recorded stays)
            self._left(call, leg, None, "hung_up")
        for adopted in found.legs:
            if adopted.status == "waiting" and adopted.role != "elder":
                await self._join(call, state, room, room.legs[adopted.channel_id])
        if found.elder is not None:
            call.channel = found.elder  # the elder's own call, or a line that called them back
        elif found.elder_back is not None:
            await self._elder_back(call, state, room, room.legs[found.elder_back])
        else:
            for leg in gone:
                self._leg_event(call, leg, "left")
            await self._elder_lost(call, room, None)

    async def _look(self, call: Call, state: Conference) -> list[adoption.Seen]:
        """The conference's channels as Asterisk shows them now, with their marks."""
        try:
            bridged = set((await call.ari.get_bridge(state.bridge_id)).channels)
        except AriError:
            bridged = set()
        seen: list[adoption.Seen] = []
        for channel_id in (call.channel, state.operator_leg, *state.adopted):
            if channel_id is None:
                continue
            try:
                value = await call.ari.get_variable(channel_id, MARK)
            except AriError:
                continue  # gone since the switchboard looked: its end comes as an event
            seen.append(adoption.Seen(channel_id, Mark.parse(value), channel_id in bridged))
        return seen

    def _target(self, call: Call, state: Conference, role: plan.Role, tier: int | None) -> Target:
        """Who an adopted leg is, as far as a restarted service knows (its record keeps the
        label and number it was dialled with)."""
        if role == "elder":
            return Target("elder", "elder", call.info.number or "")
        if role == "operator":
            return Target("operator", f"operator {state.operator_id}", "")
        return Target(role, "120" if role == "ambulance" else "adopted", "", tier)

    async def _open(self, call: Call, state: Conference, room: Room) -> Conference:
        info, at = call.info, now()
        by = "system" if state.how == "escalated" else f"operator {state.operator_id}"
        call.record(CaseClassified(case_id=info.case_id, case_class="emergency"))
        call.publish(
            ev.EmergencyStarted(call_id=info.call_id, case_id=info.case_id, how=state.how, by=by)
        )
        call.publish(
            ev.CaseChanged(case_id=info.case_id, status="in_progress", case_class="emergency")
        )
        facts = room.facts = await self._load_facts(call.elder_id)
        room.operator_in = state.operator_leg is not None
        room.elder_channel = call.channel
        if call.channel is not None:
            self._seen(
                call,
                room.add(
                    Leg(
                        call.channel,
                        Target("elder", "elder", call.info.number or ""),
                        answered_at=at,
                        joined=True,
                    )
                ),
            )
        if state.operator_leg is not None:
            self._seen(
                call,
                room.add(
                    Leg(
                        state.operator_leg,
                        Target("operator", f"operator {state.operator_id}", ""),
                        answered_at=at,
                        joined=True,
                    )
                ),
            )
        self._briefing.prepare(facts)  # synthesis starts now; 120 answers in seconds
        opening = plan.opening(facts, state.how)
        if opening.ambulance:
            await self._dial_ambulance(call, room)
        if opening.supervisor:
            await self._dial(
                call,
                room,
                Target("supervisor", "duty supervisor", self._settings.supervisor),
                ring_s=self._settings.party_ring_s,
            )
        if opening.first_tier is not None:
            await self._dial_tier(call, room, opening.first_tier)
        for target in opening.parties:
            await self._dial(call, room, target, ring_s=self._settings.party_ring_s)
        for party in opening.notify:
            call.step("party_notified", role=party.role, number=party.number)
        if state.how == "confirmed":
            state = await self._own_bridge(call, state)
        await self._start_recording(call, state, room)
        self._tasks(call, state, at)
        call.log.info(
            "emergency %s: 120 %s, %d legs dialled",
            state.how,
            "called" if opening.ambulance else "not called",
            sum(1 for leg in room.legs.values() if leg.ringing),
        )
        return state

    async def _own_bridge(self, call: Call, state: Conference) -> Conference:
        """The conversation's bridge becomes a conference's own (named as one, so that a
        restarted service adopts it as a conference): the elder and the operator move over.
        Done once the outside calls are under way; the move takes milliseconds."""
        bridge_id = await legs.bridge(call, [], state.queue, kind="emergency")
        parties = [c for c in (call.channel, state.operator_leg) if c is not None]
        try:
            for channel in parties:
                with contextlib.suppress(AriError):
                    await call.ari.remove_channel(state.bridge_id, channel)
                await call.ari.add_channel(bridge_id, [channel])
        except AriError as err:  # someone hung up meanwhile: stay in the bridge we had
            call.log.warning("conference bridge not taken over (%s)", err.status)
            for channel in parties:
                with contextlib.suppress(AriError):
                    await call.ari.add_channel(state.bridge_id, [channel])
            await legs.unbridge(call, bridge_id)
            return state
        await legs.unbridge(call, state.bridge_id)
        moved = state.moved(bridge_id)
        call.state = moved
        return moved

    def _tasks(self, call: Call, state: Conference, at: dt.datetime) -> None:
        """The follow-ups owed (R11, R12), owned by the operator who confirmed."""
        for kind, due in (
            ("hospital_updates", at + dt.timedelta(seconds=plan.HOSPITAL_UPDATE_S)),
            ("family_follow_up", plan.follow_up_due(at, self._tz)),
        ):
            call.record(
                TaskDue(
                    task_id=uuid.uuid5(call.info.case_id, kind),
                    case_id=call.info.case_id,
                    kind=kind,
                    due_at=due,
                    owner_operator_id=state.operator_id,
                    at=at,
                )
            )
            call.step("task_created", task=kind, due_at=due.isoformat(), owner=state.operator_id)

    async def _start_recording(self, call: Call, state: Conference, room: Room) -> None:
        name = f"emergency-{call.info.case_id.hex}-{uuid.uuid4().hex[:8]}"
        try:
            await call.ari.record_bridge(state.bridge_id, name)
        except AriError as err:
            call.log.warning("conference recording refused (%s)", err.status)
            call.step("recording_failed", status=err.status)
            return
        room.recording = name
        call.record(
            RecordingKept(
                name=name, case_id=call.info.case_id, call_id=call.info.call_id, started_at=now()
            )
        )
        call.step("recording_started", name=name)

    # --- dialling --------------------------------------------------------------------

    async def _dial(
        self, call: Call, room: Room, target: Target, *, ring_s: int, attempt: int = 1
    ) -> Leg | None:
        endpoint = plan.endpoint_for(target.route, call.policy.trunk)
        leg = Leg(legs.outside_leg_id(), target, attempt=attempt, dialled_at=now())
        placed = await legs.place(
            call, endpoint, leg.channel_id, ring_s=ring_s, purpose="emergency"
        )
        room.add(leg)
        self._seen(call, leg)
        call.step(
            "leg_dialled",
            role=target.role,
            label=target.label,
            number=target.route,
            tier=target.tier,
            attempt=attempt,
        )
        self._leg_event(call, leg, "dialled")
        if placed.channel_id is None:
            await self._failed(call, room, leg, 34 if placed.unreachable else None)
            return None
        return leg

    async def _dial_ambulance(self, call: Call, room: Room) -> None:
        routes = room.facts.routes or (self._settings.ambulance,)
        room.ambulance_tries += 1
        route = plan.ambulance_route(routes, room.ambulance_tries)
        await self._dial(
            call,
            room,
            Target("ambulance", "120", route),
            ring_s=self._settings.ambulance_ring_s,
            attempt=room.ambulance_tries,
        )

    async def _dial_tier(self, call: Call, room: Room, tier: int) -> None:
        room.tier = tier
        room.tier_due = asyncio.get_running_loop().time() + self._settings.tier_s
        targets = plan.family_tier(room.facts.contacts, tier)
        call.step("family_tier_called", tier=tier, count=len(targets))
        for target in targets:
            await self._dial(call, room, target, ring_s=self._settings.tier_s)

    async def _tier_timer(self, call: Call, state: Conference, room: Room, at: float) -> None:
        if room.tier_due is None or at < room.tier_due:
            return
        room.tier_due = None
        if room.family_answered(room.tier):
            return
        following = plan.next_tier(room.facts.contacts, room.tier)
        if following is None:
            call.step("family_unreached", last_tier=room.tier)
            self._alert(call, "family_unreached")
            return
        call.step("family_tier_unanswered", tier=room.tier)
        await self._dial_tier(call, room, following)

    # --- legs answering, briefed, leaving --------------------------------------------

    async def _answered(self, call: Call, state: Conference, room: Room, channel_id: str) -> None:
        leg = room.of(channel_id)
        if leg is None or leg.answered_at is not None:
            return
        leg.answered_at = now()
        self._seen(call, leg)
        self._leg_event(call, leg, "answered")
        call.reached_human = True
        call.step("leg_answered", role=leg.role, label=leg.target.label, tier=leg.target.tier)
        if channel_id == room.elder_back:
            await self._elder_back(call, state, room, leg)
            return
        if leg.role == "family":  # the rest of the tier keeps ringing: all may join
            room.tier_due = None
        media = await self._briefing.media_for(leg.role, room.facts)
        if media is None:  # no speech: straight in (the operator tells them)
            await self._join(call, state, room, leg)
            return
        playback = f"brief-{uuid.uuid4().hex}"
        await self._remark(call, room)  # now: not while it plays (see _remark)
        try:
            await call.ari.play(channel_id, media, playback)
        except AriError:
            await self._join(call, state, room, leg)
            return
        room.playing[playback] = channel_id

    async def _briefed(self, call: Call, state: Conference, room: Room, playback: str) -> None:
        channel_id = room.playing.pop(playback, None)
        leg = room.of(channel_id) if channel_id else None
        if leg is None or leg.left_at is not None:
            return
        leg.acknowledged_at = now()
        self._seen(call, leg)
        self._leg_event(call, leg, "acknowledged")
        call.step("leg_acknowledged", role=leg.role, label=leg.target.label)
        await self._join(call, state, room, leg)

    async def _join(self, call: Call, state: Conference, room: Room, leg: Leg) -> None:
        try:
            await call.ari.add_channel(state.bridge_id, [leg.channel_id])
        except AriError as err:
            call.log.warning("a %s leg could not join the conference (%s)", leg.role, err.status)
            await self._hang_up(call, leg, "join_failed")
            return
        leg.joined = True
        self._leg_event(call, leg, "joined")
        call.step("leg_joined", role=leg.role, label=leg.target.label)

    async def _gone(
        self, call: Call, state: Conference, room: Room, channel_id: str, cause: int | None
    ) -> None:
        leg = room.of(channel_id)
        if leg is None or leg.left_at is not None:
            return
        call.legs.detach(channel_id)
        if leg.answered_at is None:
            await self._failed(call, room, leg, cause)
            return
        self._left(call, leg, cause, "hung_up")
        if leg.role == "operator":
            room.operator_in = False
            assert state.operator_id is not None
            self._seats.finished(call.info.call_id, state.operator_id, state.queue)
            call.step("operator_left_conference", operator_id=state.operator_id)
        elif leg.role == "elder" or channel_id == call.channel:
            return  # CallGone handles the elder
        elif room.outsiders_present() or room.anyone_coming():
            return
        else:
            call.log.info("conference: every outside party has left")

    async def _failed(self, call: Call, room: Room, leg: Leg, cause: int | None) -> None:
        """A leg that never answered: ended, refused, unreachable."""
        self._left(call, leg, cause, "unanswered" if cause in (19, 18, None) else "failed")
        self._leg_event(call, leg, "failed", cause)
        call.step(
            "leg_failed", role=leg.role, label=leg.target.label, tier=leg.target.tier, cause=cause
        )
        if leg.role == "ambulance" and not room.ambulance_reached() and not room.ambulance_coming():
            self._alert(call, "ambulance_unreached")
            if room.ambulance_tries < self._settings.ambulance_tries:
                await self._dial_ambulance(call, room)
        if leg.role == "elder":
            room.elder_back = None
            call.step("elder_unreached", cause=cause)
            self._alert(call, "elder_unreached")
            await self._tell(call, room, "elder_unreached")

    def _left(self, call: Call, leg: Leg, cause: int | None, reason: str) -> None:
        leg.left_at = now()
        call.record(self._record(call, leg, end_cause=cause, end_reason=reason))
        if leg.answered_at is not None:
            self._leg_event(call, leg, "left", cause)
            call.step("leg_left", role=leg.role, label=leg.target.label, cause=cause)

    # --- the elder's line ------------------------------------------------------------

    async def _elder_gone(self, call: Call, state: Conference, room: Room, gone: CallGone) -> None:
        """The elder's line dropped."""
        channel = call.channel
        leg = room.of(channel) if channel else None
        if leg is not None:
            self._left(call, leg, gone.cause, "hung_up")
        call.channel = None
        await self._elder_lost(call, room, gone.cause)

    async def _elder_lost(self, call: Call, room: Room, cause: int | None) -> None:
        """The elder is on no line: call them back at once; tell everyone else (R11)."""
        call.step("elder_dropped", cause=cause)
        self._alert(call, "elder_dropped")
        number = call.info.number
        room.elder_calls += 1
        if number is None or room.elder_calls > self._settings.elder_callbacks:
            call.step("elder_unreached", cause=None)
            await self._tell(call, room, "elder_unreached")
            return
        back = await self._dial(
            call,
            room,
            Target("elder", "elder", number),
            ring_s=self._settings.elder_ring_s,
            attempt=room.elder_calls + 1,
        )
        if back is not None:
            room.elder_back = back.channel_id
            await self._tell(call, room, "elder_dropped")

    async def _elder_back(self, call: Call, state: Conference, room: Room, leg: Leg) -> None:
        room.elder_back = None
        call.channel = room.elder_channel = leg.channel_id  # the customer's channel from now on
        await self._join(call, state, room, leg)
        call.step("elder_back")

    async def _tell(self, call: Call, room: Room, what: str) -> None:
        """A prompt to everyone in the bridge (the elder dropped, could not be reached)."""
        state = call.state
        media = self._briefing.prompt(what)
        if not isinstance(state, Conference) or media is None:
            return
        with contextlib.suppress(AriError):
            await call.ari.play_bridge(state.bridge_id, media, f"tell-{uuid.uuid4().hex}")

    # --- requests --------------------------------------------------------------------

    async def _request(self, call: Call, state: Conference, room: Room, req: object) -> bool:
        """Do a request; True when the conference is over."""
        if isinstance(req, Confirm):
            req.answer("confirmed")  # already: nothing more to do
        elif isinstance(req, RepeatSummary):
            media = await self._briefing.media_for("ambulance", room.facts)
            if media is None:
                req.refuse("no summary can be spoken (speech is not available)")
                return False
            await call.ari.play_bridge(state.bridge_id, media, f"repeat-{uuid.uuid4().hex}")
            req.answer("playing")
            call.step("summary_repeated", actor=req.by)
        elif isinstance(req, OperatorStep):
            return await self._operator_step(call, state, room, req)
        elif isinstance(req, EndConference):
            req.answer("ended")
            call.step("conference_ended", actor=req.by)
            await self._close(call, state, room, "ended_by_operator", hang_up_elder=True)
            call.finish(Ended(now(), "operator"))
            return True
        return False

    async def _operator_step(
        self, call: Call, state: Conference, room: Room, req: OperatorStep
    ) -> bool:
        leg = room.of(state.operator_leg or "")
        if leg is None or leg.left_at is not None:
            req.refuse("the operator is no longer on this call")
            return False
        if (req.action == "out") != room.operator_in:
            req.answer("out" if req.action == "out" else "in")
            return False
        if req.action == "out":
            await call.ari.remove_channel(state.bridge_id, leg.channel_id)
            with contextlib.suppress(AriError):
                await call.ari.start_moh(leg.channel_id)
            room.operator_in = False
        else:
            with contextlib.suppress(AriError):
                await call.ari.stop_moh(leg.channel_id)
            await call.ari.add_channel(state.bridge_id, [leg.channel_id])
            room.operator_in = True
        call.step(f"operator_stepped_{req.action}", actor=req.by)
        req.answer(req.action)
        return False

    # --- the end ---------------------------------------------------------------------

    async def _settled(self, call: Call, state: Conference, room: Room) -> bool:
        """Over when only the operator (or nobody) is left; the elder alone waits again."""
        if room.outsiders_present() or room.anyone_coming() or room.elder_back is not None:
            return False
        if call.channel is None:
            call.step("conference_ended", reason="everyone_left")
            await self._close(call, state, room, "everyone_left", hang_up_elder=False)
            call.finish(Ended(now(), "caller"))
            return True
        if room.operator_in:
            return False  # the elder and the operator talk on
        call.step("conference_ended", reason="elder_alone")
        with contextlib.suppress(AriError):
            await call.ari.remove_channel(state.bridge_id, call.channel)
        await self._close(call, state, room, "elder_alone", hang_up_elder=False)
        call.state = state.requeued(EMERGENCY, now())
        return True

    async def _close(
        self, call: Call, state: Conference, room: Room, reason: str, *, hang_up_elder: bool
    ) -> None:
        """Stop the recording, hang up whoever is still on (the operator's seat freed),
        remove the bridge."""
        self._rooms.pop(call.info.call_id, None)
        room.tier_due = None
        if room.recording is not None:
            with contextlib.suppress(AriError):
                await call.ari.stop_recording(room.recording)
            call.record(
                RecordingKept(
                    name=room.recording,
                    case_id=call.info.case_id,
                    call_id=call.info.call_id,
                    started_at=now(),
                    stopped_at=now(),
                )
            )
            room.recording = None
        for leg in list(room.legs.values()):
            if leg.left_at is not None or (leg.role == "elder" and not hang_up_elder):
                continue
            await self._hang_up(call, leg, reason)
            if leg.role == "operator" and state.operator_id is not None:
                self._seats.finished(call.info.call_id, state.operator_id, state.queue)
        await legs.unbridge(call, state.bridge_id)
        await self._briefing.forget(room.facts)
        call.publish(
            ev.EmergencyEnded(call_id=call.info.call_id, case_id=call.info.case_id, reason=reason)
        )

    async def _hang_up(self, call: Call, leg: Leg, reason: str) -> None:
        await legs.drop(call, leg.channel_id)
        self._left(call, leg, None, reason)

    # --- marks: what a restarted service finds on the legs -------------------------------

    async def _remark(self, call: Call, room: Room) -> None:
        """Mark every answered leg still on whose mark is not set yet or has changed (the
        elder's line called back): its call's id for the switchboard, what it is for an
        adoption. Not a ringing leg (Asterisk sets no variable on a channel outside our app),
        nor one hearing its briefing: Asterisk 22 answers a variable set on a channel only
        once the channel's playback has ended (the request waits, the conference with it);
        such a leg is marked before its briefing starts, and again once it has joined."""
        playing = set(room.playing.values())
        for leg in room.legs.values():
            if leg.left_at is not None or leg.answered_at is None or leg.channel_id in playing:
                continue
            mark = Mark(
                leg.role, leg.attempt, leg.target.tier, room.elder_channel, call.elder_id
            ).value()
            if room.marks.get(leg.channel_id) == mark:
                continue
            try:
                if leg.channel_id not in room.marks:
                    await call.ari.set_variable(
                        leg.channel_id, CALL_VARIABLE, call.info.call_id.hex
                    )
                await call.ari.set_variable(leg.channel_id, MARK, mark)
            except AriError:
                continue  # gone: its end is on its way
            room.marks[leg.channel_id] = mark

    # --- records and events ----------------------------------------------------------

    def _seen(self, call: Call, leg: Leg) -> None:
        call.record(self._record(call, leg))

    def _record(
        self, call: Call, leg: Leg, *, end_cause: int | None = None, end_reason: str | None = None
    ) -> LegSeen:
        return LegSeen(
            leg_id=leg.leg_id,
            case_id=call.info.case_id,
            call_id=call.info.call_id,
            channel_id=leg.channel_id,
            role=leg.role,
            label=leg.target.label,
            number=leg.target.route or None,
            tier=leg.target.tier,
            attempt=leg.attempt,
            dialled_at=leg.dialled_at,
            answered_at=leg.answered_at,
            acknowledged_at=leg.acknowledged_at,
            left_at=leg.left_at,
            end_cause=end_cause,
            end_reason=end_reason,
        )

    def _leg_event(
        self, call: Call, leg: Leg, status: ev.LegStatus, cause: int | None = None
    ) -> None:
        call.publish(
            ev.EmergencyLeg(
                call_id=call.info.call_id,
                case_id=call.info.case_id,
                leg_id=leg.leg_id,
                role=leg.role,
                tier=leg.target.tier,
                status=status,
                cause=cause,
            )
        )

    def _alert(self, call: Call, reason: str) -> None:
        """The duty supervisor must know now: on the event stream and the timeline."""
        call.publish(
            ev.EmergencyAlert(call_id=call.info.call_id, case_id=call.info.case_id, reason=reason)
        )
        call.step("supervisor_alerted", reason=reason)
        call.log.warning("emergency alert: %s", reason)
