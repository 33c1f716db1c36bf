"""The console's listen / whisper / barge buttons: start a supervision of that operator, or
switch the running one's mode (the supervisor's phone is not rung again)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncEngine

from hotline.core.errors import Conflict, Invalid
from hotline.supervision import store
from hotline.supervision.checks import supervisor_refusal
from hotline.supervision.modes import Mode
from hotline.supervision.service import Supervisions

MODES: dict[str, Mode] = {"listen": "listen", "whisper": "whisper", "barge": "barge"}


async def press(
    engine: AsyncEngine,
    supervisions: Supervisions,
    *,
    operator_id: int,
    supervisor_id: int,
    mode: str,
    by: str,
) -> str:
    wanted = MODES.get(mode)
    if wanted is None:
        raise Invalid("mode", "listen, whisper or barge")
    async with engine.connect() as conn:
        found = await store.supervisor(conn, supervisor_id)
    role = found.role if found is not None else "supervisor"
    for running in supervisions.running():
        if running.target.supervisor_id == supervisor_id:
            if running.target.operator_id != operator_id:
                raise Conflict("operator_id", "end your other supervision first")
            changed = await supervisions.change(running.target.supervision_id, wanted, by, role)
            return changed.status
    why = supervisor_refusal(found)
    if why is not None:
        raise Conflict("supervisor_id", why)
    assert found is not None and found.endpoint is not None
    started = await supervisions.start(
        operator_id, found.id, found.endpoint, wanted, by=by, role=role
    )
    return started.status
