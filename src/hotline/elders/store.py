"""Elders' records in PostgreSQL: the full record, search, audited edits and the access log.

Every function runs in the caller's connection (and transaction, for the writes), so the
HTTP routes and the console's views share them. Reads touch one elder's rows through
indexes (elder_phones, contacts, terminals, open cases and calls by elder), and search by
name uses a case-folded prefix index and a trigram index (migration 0008): both stay quick
on a directory of a million elders.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.core.errors import Forbidden, Invalid, NotFound
from hotline.core.phone import try_normalise
from hotline.core.words import Role
from hotline.db.access import log_read
from hotline.db.audit import Outcome, as_record, audit, plain
from hotline.db.models import Call, Case, Contact, Elder, ElderPhone, RecordAccess, Terminal
from hotline.directory.lookup import matches_for
from hotline.elders.access import NO_TIES, Granted, ReasonNeeded, Ties, Why, may_view, with_reason
from hotline.elders.schemas import (
    EDITABLE,
    AccessEntry,
    ElderContact,
    ElderRecord,
    ElderSummary,
    ElderTerminal,
    Matched,
    OpenCase,
    Phone,
    RecentCall,
)

LAST_CALLS = 5
OPEN_CASES = 50  # more open cases than this for one elder would be a fault elsewhere
SHORTEST_PART = 3  # a part of a name (not its start) is looked for from 3 characters: trigrams
_NUMBERISH = re.compile(r"\+?[0-9][0-9 ().-]*")
_FIELDS = (Elder.id, *(getattr(Elder, name) for name in EDITABLE), Elder.updated_at)


def age_on(birth: dt.date | None, today: dt.date) -> int | None:
    """Whole years from `birth` to `today` (a 29 February birthday comes on 1 March)."""
    if birth is None:
        return None
    return today.year - birth.year - ((today.month, today.day) < (birth.month, birth.day))


# --- who may look -------------------------------------------------------------------------


async def ties(conn: AsyncConnection, operator_id: int | None, elder_id: int) -> Ties:
    """What links an operator to an elder: offers of the elder's calls (each counted from
    its first offer row, so a look an offer allowed, logged under the same call, does not
    stretch the window) and cases the operator owns."""
    if operator_id is None:
        return NO_TIES
    offers = (
        select(RecordAccess.call_id, func.min(RecordAccess.at).label("first"))
        .where(
            RecordAccess.operator_id == operator_id,
            RecordAccess.elder_id == elder_id,
            RecordAccess.why == "offered",
        )
        .group_by(RecordAccess.call_id)
        .order_by(func.min(RecordAccess.at).desc())
        .limit(1)
    )
    offer = (await conn.execute(offers)).first()
    owned = select(
        func.bool_or(Case.status != "closed"),
        func.max(Case.closed_at).filter(Case.status == "closed"),
    ).where(Case.elder_id == elder_id, Case.owner_operator_id == operator_id)
    open_case, closed_at = (await conn.execute(owned)).one()
    return Ties(
        offered_at=None if offer is None else offer.first,
        offered_call_id=None if offer is None else offer.call_id,
        owns_open_case=bool(open_case),
        owned_closed_at=closed_at,
    )


async def decide(
    conn: AsyncConnection, role: Role, operator_id: int | None, elder_id: int, now: dt.datetime
) -> Granted | ReasonNeeded:
    """elders.access.may_view with the operator's ties read from the database."""
    found = NO_TIES if role != "operator" else await ties(conn, operator_id, elder_id)
    return may_view(role, found, now)


async def view(
    conn: AsyncConnection,
    *,
    actor: str,
    role: Role,
    operator_id: int | None,
    elder_id: int,
    now: dt.datetime,
    today: dt.date,
    reason: str | None = None,
) -> ElderRecord:
    """The full record for this viewer, the look logged in `record_access`.

    Without a reason, only as elders.access allows (else Forbidden, field "reason"); with
    one, anybody may open it, an operator's look logged as a search with the reason.
    NotFound (field "elder_id") when there is no such elder."""
    if not await elder_exists(conn, elder_id):
        raise NotFound("elder_id", "no such elder")
    call_id: uuid.UUID | None = None
    if reason is not None:
        why = with_reason(role)
    else:
        match await decide(conn, role, operator_id, elder_id, now):
            case Granted(why=granted, call_id=offered_call):
                why, call_id = granted, offered_call
            case ReasonNeeded():
                raise Forbidden(
                    "reason",
                    "no call of this elder was offered to you and you own no case of theirs: "
                    "open the record with a reason (POST /api/elders/{elder_id}/open)",
                )
    record = await full_record(conn, elder_id, today=today)
    if record is None:  # deleted since elder_exists
        raise NotFound("elder_id", "no such elder")
    await note_access(
        conn,
        actor=actor,
        operator_id=operator_id,
        elder_id=elder_id,
        why=why,
        reason=reason,
        call_id=call_id,
        role=role,
    )
    return record


# --- the record -----------------------------------------------------------------------------


async def elder_exists(conn: AsyncConnection, elder_id: int) -> bool:
    return (await conn.scalar(select(Elder.id).where(Elder.id == elder_id))) is not None


async def full_record(
    conn: AsyncConnection, elder_id: int, *, today: dt.date
) -> ElderRecord | None:
    """Everything the hotline keeps of one elder (R22), or None. Logs nothing: a caller
    showing it to a person records the look (note_access, or use view)."""
    elder = (await conn.execute(select(*_FIELDS).where(Elder.id == elder_id))).first()
    if elder is None:
        return None
    phones = await conn.execute(
        select(ElderPhone.number, ElderPhone.label)
        .where(ElderPhone.elder_id == elder_id)
        .order_by(ElderPhone.id)
    )
    contacts = await conn.execute(
        select(
            Contact.id,
            Contact.full_name,
            Contact.relation,
            Contact.tier,
            Contact.number,
            Contact.is_guardian,
        )
        .where(Contact.elder_id == elder_id)
        .order_by(Contact.tier, Contact.is_guardian.desc(), Contact.id)
    )
    terminals = await conn.execute(
        select(Terminal.id, Terminal.number, Terminal.serial, Terminal.active)
        .where(Terminal.elder_id == elder_id)
        .order_by(Terminal.id)
    )
    cases = await conn.execute(
        select(
            Case.id,
            Case.number,
            Case.case_class,
            Case.status,
            Case.owner_operator_id,
            Case.opened_at,
        )
        .where(Case.elder_id == elder_id, Case.status != "closed")
        .order_by(Case.opened_at.desc())
        .limit(OPEN_CASES)
    )
    calls = await conn.execute(
        select(
            Call.id,
            Call.started_at,
            Call.entry,
            Call.caller_kind,
            Call.operator_id,
            Call.answered_at,
            Call.connected_at,
            Call.ended_at,
        )
        .where(Call.elder_id == elder_id)
        .order_by(Call.started_at.desc())
        .limit(LAST_CALLS)
    )
    fields: dict[str, Any] = dict(elder._mapping)
    return ElderRecord(
        **fields,
        age=age_on(fields["birth_date"], today),
        phones=[Phone(**row._mapping) for row in phones],
        contacts=[ElderContact(**row._mapping) for row in contacts],
        terminals=[ElderTerminal(**row._mapping) for row in terminals],
        open_cases=[OpenCase(**row._mapping) for row in cases],
        last_calls=[RecentCall(**row._mapping) for row in calls],
    )


# --- search ---------------------------------------------------------------------------------


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def search(
    conn: AsyncConnection, q: str, *, today: dt.date, limit: int = 20
) -> list[ElderSummary]:
    """Elders by id, by a number (their own phone, their terminal's, a contact's, compared
    in the normalised form of hotline.core.phone), or by name (its start, then any part of
    three characters or more, case-folded). Summaries only: no health, no address."""
    q = q.strip()
    hits: dict[int, Matched] = {}
    if _NUMBERISH.fullmatch(q):
        if q.isdigit() and len(q) <= 18 and await elder_exists(conn, int(q)):
            hits[int(q)] = "id"
        number = try_normalise(q)
        if number is not None:
            for match in await matches_for(conn, number):
                hits.setdefault(match.elder_id, match.kind)
        return await _summaries(conn, hits, today, limit)
    return await _by_name(conn, q, today, limit)


async def _summaries(
    conn: AsyncConnection, hits: Mapping[int, Matched], today: dt.date, limit: int
) -> list[ElderSummary]:
    wanted = list(hits)[:limit]
    if not wanted:
        return []
    query = select(Elder.id, Elder.full_name, Elder.district, Elder.birth_date).where(
        Elder.id.in_(wanted)
    )
    rows = {row.id: row for row in await conn.execute(query)}
    return [
        ElderSummary(
            id=elder_id,
            full_name=rows[elder_id].full_name,
            district=rows[elder_id].district,
            age=age_on(rows[elder_id].birth_date, today),
            matched=hits[elder_id],
        )
        for elder_id in wanted
        if elder_id in rows
    ]


async def _by_name(conn: AsyncConnection, q: str, today: dt.date, limit: int) -> list[ElderSummary]:
    if not q:
        return []
    columns = (Elder.id, Elder.full_name, Elder.district, Elder.birth_date)
    folded = func.lower(Elder.full_name).collate("C")  # ix_elders_name_prefix
    starts = (
        select(*columns)
        .where(folded.like(_like(q.lower()) + "%", escape="\\"))
        .order_by(folded, Elder.id)
        .limit(limit)
    )
    rows = list(await conn.execute(starts))
    if len(rows) < limit and len(q) >= SHORTEST_PART:
        part = (
            select(*columns)
            .where(Elder.full_name.ilike("%" + _like(q) + "%", escape="\\"))  # ix_elders_name_trgm
            .where(Elder.id.not_in([row.id for row in rows]))
            .limit(limit - len(rows))
        )
        rows += sorted(await conn.execute(part), key=lambda row: (row.full_name, row.id))
    return [
        ElderSummary(
            id=row.id,
            full_name=row.full_name,
            district=row.district,
            age=age_on(row.birth_date, today),
            matched="name",
        )
        for row in rows
    ]


# --- changes and the access log ---------------------------------------------------------------


async def note_access(
    conn: AsyncConnection,
    *,
    actor: str,
    operator_id: int | None,
    elder_id: int,
    why: Why,
    reason: str | None = None,
    call_id: uuid.UUID | None = None,
    role: str | None = None,
) -> None:
    """One row of the access log (R27, db.access): who looked at which elder's record, and
    why. The screen pop writes why='offered' (with the call) when it shows a caller's record.
    `role`: what the reader acted as (an operator unless said)."""
    await log_read(
        conn,
        actor=actor,
        role=role or (why if why in ("supervisor", "admin") else "operator"),
        operator_id=operator_id,
        kind="record",
        why=why,
        elder_id=elder_id,
        call_id=call_id,
        reason=reason,
    )


async def opened_with_reason(conn: AsyncConnection, operator_id: int, *, since: dt.datetime) -> int:
    """How many records the operator opened with a reason (no tie to the elder) since."""
    query = select(func.count()).where(
        RecordAccess.operator_id == operator_id,
        RecordAccess.kind == "record",
        RecordAccess.why == "search",
        RecordAccess.reason.is_not(None),
        RecordAccess.at >= since,
    )
    return int(await conn.scalar(query) or 0)


async def update_elder(
    conn: AsyncConnection, actor: str, elder_id: int, changes: Mapping[str, object]
) -> Outcome:
    """Change the elder's own fields (schemas.EDITABLE; validated by the caller, e.g. with
    schemas.ElderBody): one audit row (entity "elder") with before and after of just the
    fields that changed, updated_at bumped. Nothing changed: no row, Outcome.change None.
    The Outcome's record is the elder's own fields after the change."""
    for key in changes:
        if key not in EDITABLE:
            raise Invalid(key, "cannot be changed")
    row = (
        await conn.execute(select(*_FIELDS).where(Elder.id == elder_id).with_for_update())
    ).first()
    if row is None:
        raise NotFound("elder_id", "no such elder")
    current = row._mapping
    values = {key: value for key, value in changes.items() if value != current[key]}
    if not values:
        return Outcome(as_record(row), None)
    query = (
        update(Elder)
        .where(Elder.id == elder_id)
        .values(**values, updated_at=func.now())
        .returning(*_FIELDS)
    )
    after = (await conn.execute(query)).one()
    change = await audit(
        conn,
        actor,
        "update",
        "elder",
        str(elder_id),
        before={key: plain(current[key]) for key in values},
        after={key: plain(after._mapping[key]) for key in values},
    )
    return Outcome(as_record(after), change)


async def access_log(
    conn: AsyncConnection,
    *,
    elder_id: int | None = None,
    operator_id: int | None = None,
    limit: int = 100,
) -> list[AccessEntry]:
    """Reads, newest first: of one elder's record, by one operator, or all."""
    query = select(
        RecordAccess.id,
        RecordAccess.at,
        RecordAccess.actor,
        RecordAccess.role,
        RecordAccess.operator_id,
        RecordAccess.kind,
        RecordAccess.elder_id,
        RecordAccess.case_id,
        RecordAccess.why,
        RecordAccess.reason,
        RecordAccess.call_id,
        RecordAccess.target,
    )
    if elder_id is not None:
        query = query.where(RecordAccess.elder_id == elder_id)
    if operator_id is not None:
        query = query.where(RecordAccess.operator_id == operator_id)
    query = query.order_by(RecordAccess.at.desc(), RecordAccess.id.desc()).limit(limit)
    return [AccessEntry(**row._mapping) for row in await conn.execute(query)]


async def summaries(
    conn: AsyncConnection, elder_ids: tuple[int, ...], *, today: dt.date
) -> list[ElderSummary]:
    """Summaries of the candidates of a shared number (the screen pop's choice)."""
    return await _summaries(conn, dict.fromkeys(elder_ids, "elder"), today, len(elder_ids))


async def create_elder(
    conn: AsyncConnection, actor: str, fields: Mapping[str, object], *, number: str | None
) -> int:
    """A new elder's record (an unknown caller, created during the call) with the number
    they called from; audited like an edit (entity "elder", action create)."""
    for key in fields:
        if key not in EDITABLE:
            raise Invalid(key, "not a field of an elder's record")
    if not fields.get("full_name"):
        raise Invalid("full_name", "a name is needed")
    elder_id = int(
        await conn.scalar(insert(Elder).values(**fields).returning(Elder.id))  # type: ignore[arg-type]
    )
    normalised = try_normalise(number) if number else None
    if normalised:
        await conn.execute(insert(ElderPhone).values(elder_id=elder_id, number=normalised))
    after = {k: plain(v) for k, v in fields.items()}
    if normalised:
        after["phone"] = normalised
    await audit(conn, actor, "create", "elder", str(elder_id), before=None, after=after)
    return elder_id
