"""Where a call is answered: answer at once, identify the caller, greet (R3), open the case.

Phases Arriving and Greeting; the call leaves them in Routing (the line decides where it
waits) without waiting for the greeting: it plays while the operators' softphones already
ring, and stops when one answers (R1: no machine prompt delays the human; R3's greeting is
the operator's own words). An identified elder's call and a terminal's call skip the greeting
altogether when an operator is free. The line knows the caller is coming from the first
moment (the lobby), so no callback is offered to its operators meanwhile. A call adopted
after a restart is answered (if it was not) and carries on without a second greeting or a
second `call_received` on its timeline.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from hotline.calls.phases import Arriving, Greeting
from hotline.calls.ports import Lobby, NoLobby
from hotline.calls.session import Call, Why, now
from hotline.core import events as ev
from hotline.core.records import CallAnswered, CallIdentified, CaseOpened
from hotline.directory.identify import UNVERIFIED, Identity

Identify = Callable[[str | None], Awaitable[Identity]]
CaseOwner = Callable[[int], Awaitable[int | None]]
"""The operator owning an elder's open case (R14): the repeat caller is offered to them first."""
Identified = Callable[[Call], None]
"""Told of each call once its case is open (the emergency feature ties a terminal's alarm
data to it)."""
_INTAKE_CLASS = {"terminal": "emergency", "lifehelp": "life_help"}


class Intake:
    def __init__(
        self,
        identify: Identify,
        identified: Identified | None = None,
        case_owner: CaseOwner | None = None,
        lobby: Lobby | None = None,
    ) -> None:
        self._identify = identify
        self._identified = identified
        self._case_owner = case_owner
        self._lobby = lobby or NoLobby()

    async def run(self, call: Call, state: Arriving | Greeting) -> None:
        if isinstance(state, Arriving):
            await self._answer(call, state)
            return
        await self._greet_and_open(call, state)

    async def leave(self, call: Call, state: Arriving | Greeting, why: Why) -> None:
        self._lobby.leave(call.info.call_id)  # no legs, no bridge, not queued yet

    async def _answer(self, call: Call, state: Arriving) -> None:
        assert call.channel is not None
        self._lobby.arriving(call.info.call_id, call.info.entry)
        if not call.resumed:
            call.record_start()
            call.publish(
                ev.CallArrived(
                    call_id=call.info.call_id,
                    case_id=call.info.case_id,
                    entry=call.info.entry,
                    number=call.info.number,
                )
            )
        await call.ari.answer(call.channel)
        call.state = state.answered(now())
        call.record(CallAnswered(call_id=call.info.call_id, at=call.state.answered_at))

    async def _greet_and_open(self, call: Call, state: Greeting) -> None:
        assert call.channel is not None
        info = call.info
        identity = await self._who(call)  # from memory: microseconds
        greeting = call.policy.greeting
        # A resumed caller is not greeted twice; a terminal's alarm goes straight to a human,
        # and so does an elder we know when someone is free to answer at once.
        skipped = False
        if not (call.resumed or not greeting or info.entry == "terminal"):
            skipped = identity.caller_kind == "elder" and self._lobby.free_for(info.entry)
            if not skipped:
                await call.play_intro("greeting", greeting, "greeted")
        await self._open_case(call, identity)
        if skipped:
            call.step("greeting_skipped", reason="operator_free")
        call.state = state.greeted()

    async def _open_case(self, call: Call, identity: Identity) -> None:
        info = call.info
        call.elder_id = identity.elder_id
        if identity.elder_id is not None:
            call.case_owner = await self._owner(call, identity.elder_id)
        call.record(
            CallIdentified(
                call_id=info.call_id,
                caller_kind=identity.caller_kind,
                elder_id=identity.elder_id,
                contact_id=identity.contact_id,
            )
        )
        case_class = _INTAKE_CLASS.get(info.entry)
        call.record(
            CaseOpened(
                case_id=info.case_id,
                call_id=info.call_id,
                at=info.started_at,
                channel=info.entry,
                case_class=case_class,
                elder_id=identity.elder_id,
                identified=identity.identified,
            )
        )
        call.publish(
            ev.CallIdentified(
                call_id=info.call_id,
                caller_kind=identity.caller_kind,
                elder_id=identity.elder_id,
                contact_id=identity.contact_id,
                candidates=identity.candidates,
            )
        )
        if call.resumed:
            return  # the timeline has call_received already; `resumed` says the rest

        call.publish(ev.CaseChanged(case_id=info.case_id, status="open", case_class=case_class))
        call.step(
            "call_received",
            call_id=str(info.call_id),
            entry=info.entry,
            caller_kind=identity.caller_kind,
            candidates=list(identity.candidates),
        )
        call.log.info("call identified as %s", identity.caller_kind)
        if self._identified is not None:
            self._identified(call)

    async def _owner(self, call: Call, elder_id: int) -> int | None:
        """Best effort: without an answer in time the call goes to the queue as usual."""
        if self._case_owner is None:
            return None
        try:
            return await asyncio.wait_for(self._case_owner(elder_id), call.policy.identify_timeout)
        except Exception as err:  # routing must never wait on or fail with the case store
            call.log.warning("case owner look-up failed (%s)", type(err).__name__)
            return None

    async def _who(self, call: Call) -> Identity:
        try:
            return await asyncio.wait_for(
                self._identify(call.info.number), call.policy.identify_timeout
            )
        except (TimeoutError, OSError) as err:
            call.log.warning("directory unavailable (%s); caller unverified", type(err).__name__)
        except Exception as err:  # a directory failure must never stop the call
            call.log.warning("directory look-up failed (%s); caller unverified", type(err).__name__)
        return UNVERIFIED
