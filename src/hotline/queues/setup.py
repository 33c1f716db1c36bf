"""Reading the routing set-up and the operators' standing state from PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from typing import cast

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.core.words import Availability, Strategy
from hotline.db.models import Line, Operator, Queue, QueueMember
from hotline.queues.config import LineConfig, OperatorConfig, QueueConfig, RoutingConfig


async def load_config(conn: AsyncConnection) -> RoutingConfig:
    members: dict[int, dict[int, int]] = defaultdict(dict)
    for m in (await conn.execute(select(QueueMember))).all():
        members[m.queue_id][m.operator_id] = m.penalty
    queues = list((await conn.execute(select(Queue).order_by(Queue.id))).all())
    by_id = {q.id: q.name for q in queues}
    operators = {
        o.id: OperatorConfig(o.id, o.sip_endpoint or o.username, o.line_cap, o.display_name)
        for o in (await conn.execute(select(Operator).where(Operator.active))).all()
    }
    return RoutingConfig(
        queues={
            q.name: QueueConfig(
                name=q.name,
                display_name=q.display_name,
                strategy=cast(Strategy, q.strategy),
                ring_timeout_s=q.ring_timeout_s,
                wrapup_s=q.wrapup_s,
                service_level_s=q.service_level_s,
                overflow_after_s=q.overflow_after_s,
                overflow_target=q.overflow_target,
                announce_every_s=q.announce_every_s,
                callback_attempts=q.callback_attempts,
                callback_spacing_s=q.callback_spacing_s,
                callback_on_abandon=q.callback_on_abandon,
                members={o: p for o, p in members[q.id].items() if o in operators},
            )
            for q in queues
        },
        lines={
            line.entry: LineConfig(
                entry=line.entry,
                queue=by_id[line.queue_id],
                opens=line.opens,
                closes=line.closes,
                after_hours_queue=by_id.get(line.after_hours_queue_id or -1),
                offer_callback=line.offer_callback,
            )
            for line in (await conn.execute(select(Line))).all()
        },
        operators=operators,
    )


async def standing_states(conn: AsyncConnection) -> dict[int, tuple[Availability, str | None]]:
    """Each active operator's availability as last set (API or the floor); admins take no
    calls and are not on the floor."""
    rows = await conn.execute(
        select(Operator.id, Operator.availability, Operator.state_reason).where(
            Operator.active, Operator.role != "admin"
        )
    )
    result: dict[int, tuple[Availability, str | None]] = {}
    for op_id, availability, reason in rows:
        if availability == "paused":
            result[op_id] = ("paused", reason)
        elif availability == "logged_out":
            result[op_id] = ("logged_out", None)
        else:
            result[op_id] = ("ready", None)
    return result
