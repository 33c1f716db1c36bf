"""Look-ups in the directory of elders, contacts and terminals."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    SmallInteger,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import Contact, ElderPhone, Terminal
from hotline.identify import Match, MatchKind


async def matches_for(conn: AsyncConnection, number: str) -> list[Match]:
    """Every terminal, elder phone and contact whose normalised number is ``number``."""
    query: CompoundSelect[tuple[str, int, int | None, int | None]] = union_all(
        select(
            literal_column("'terminal'").label("kind"),
            Terminal.elder_id,
            cast(null(), BigInteger).label("contact_id"),
            cast(null(), SmallInteger).label("tier"),
        ).where(Terminal.number == number, Terminal.active.is_(True)),
        select(
            literal_column("'elder'"),
            ElderPhone.elder_id,
            cast(null(), BigInteger),
            cast(null(), SmallInteger),
        ).where(ElderPhone.number == number),
        select(literal_column("'contact'"), Contact.elder_id, Contact.id, Contact.tier).where(
            Contact.number == number
        ),
    )
    rows = (await conn.execute(query)).all()
    return [_match(row.kind, row.elder_id, row.contact_id, row.tier) for row in rows]


def _match(kind: str, elder_id: int, contact_id: int | None, tier: int | None) -> Match:
    known: dict[str, MatchKind] = {"terminal": "terminal", "elder": "elder", "contact": "contact"}
    return Match(known[kind], int(elder_id), contact_id, tier)
