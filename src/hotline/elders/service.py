"""An elder's record as the API and the console reach it: one set of rules for both (R27).

- Looking: as elders.access decides (an offered call, a case owned, a supervisor or an
  admin), or with a reason. An operator opening records with reasons is limited
  (REASONS_PER_HOUR in the last hour: then 429) and every such opening is shown to the
  supervisors at once (a security alert on the event stream and the floor).
- Editing: only who may see the record without a reason (an operator with no tie to the
  elder may read it with a reason, not change it), only the fields sent, and the fields
  that decide emergencies (`high_risk`: whether 120 is called when nobody answers a
  terminal) by supervisors and admins only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Literal

from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.api.auth import Principal
from hotline.core import events as ev
from hotline.core.errors import Forbidden, TooMany
from hotline.elders import store
from hotline.elders.schemas import ElderRecord

REASONS_PER_HOUR = 10
HOUR = dt.timedelta(hours=1)
SUPERVISORS_ONLY = frozenset({"high_risk"})
Publish = Callable[[ev.DomainEvent], None]


async def look(
    conn: AsyncConnection,
    who: Principal,
    elder_id: int,
    *,
    now: dt.datetime,
    today: dt.date,
    reason: str | None = None,
    publish: Publish | None = None,
    per_hour: int = REASONS_PER_HOUR,
) -> ElderRecord:
    """The full record for `who`, the look logged (store.view); with a reason, counted."""
    counted = reason is not None and who.role == "operator" and who.operator_id is not None
    opened = 0
    if counted:
        assert who.operator_id is not None
        opened = await store.opened_with_reason(conn, who.operator_id, since=now - HOUR)
        if opened >= per_hour:
            if publish is not None:
                publish(_alert("record_limit", who, opened, elder_id))
            raise TooMany(
                "reason",
                f"{opened} records of elders with no tie to you opened in the last hour: "
                "ask a supervisor",
            )
    record = await store.view(
        conn,
        actor=who.name,
        role=who.role,
        operator_id=who.operator_id,
        elder_id=elder_id,
        now=now,
        today=today,
        reason=reason,
    )
    if counted and publish is not None:
        publish(_alert("record_opened", who, opened + 1, elder_id))
    return record


async def edit(
    conn: AsyncConnection,
    who: Principal,
    elder_id: int,
    changes: Mapping[str, object],
    *,
    now: dt.datetime,
    today: dt.date,
) -> ElderRecord:
    """Change the fields in `changes` (and only those), as `who` may."""
    if who.role == "operator":
        for key in sorted(SUPERVISORS_ONLY & changes.keys()):
            raise Forbidden(key, "only a supervisor or an admin changes this")
    # May they see it without a reason (and so change it)? The look is logged.
    before = await store.view(
        conn,
        actor=who.name,
        role=who.role,
        operator_id=who.operator_id,
        elder_id=elder_id,
        now=now,
        today=today,
    )
    outcome = await store.update_elder(conn, who.name, elder_id, changes)
    if outcome.change is None:
        return before
    changed = await store.full_record(conn, elder_id, today=today)
    return changed if changed is not None else before


def _alert(
    kind: Literal["record_opened", "record_limit"], who: Principal, count: int, elder_id: int
) -> ev.SecurityAlert:
    return ev.SecurityAlert(
        kind=kind,
        operator_id=who.operator_id,
        count=count,
        elder_id=elder_id,
    )
