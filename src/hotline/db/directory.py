"""Look-ups in the directory of elders, contacts and terminals."""

from __future__ import annotations

from sqlalchemy import CompoundSelect, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import Contact, ElderPhone, Terminal
from hotline.identify import Match, MatchKind


async def matches_for(conn: AsyncConnection, number: str) -> list[Match]:
    """Every terminal, elder phone and contact whose normalised number is ``number``."""
    query: CompoundSelect[tuple[str, int, int | None, int | None]] = union_all(
        select(
            literal("terminal").label("kind"),
            Terminal.elder_id,
            literal(None).label("contact_id"),
            literal(None).label("tier"),
        ).where(Terminal.number == number, Terminal.active.is_(True)),
        select(
            literal("elder"),
            ElderPhone.elder_id,
            literal(None),
            literal(None),
        ).where(ElderPhone.number == number),
        select(literal("contact"), Contact.elder_id, Contact.id, Contact.tier).where(
            Contact.number == number
        ),
    )
    rows = (await conn.execute(query)).all()
    return [_match(row.kind, row.elder_id, row.contact_id, row.tier) for row in rows]


def _match(kind: str, elder_id: int, contact_id: int | None, tier: int | None) -> Match:
    known: dict[str, MatchKind] = {"terminal": "terminal", "elder": "elder", "contact": "contact"}
    return Match(known[kind], int(elder_id), contact_id, tier)
