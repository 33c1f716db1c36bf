"""Look-ups in the directory of elders, contacts and terminals."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import (
    BigInteger,
    CompoundSelect,
    Select,
    SmallInteger,
    cast,
    literal_column,
    null,
    select,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.db.models import Contact, ElderPhone, Terminal
from hotline.directory.identify import Match, MatchKind

Row = tuple[str, str, int, int | None, int | None]  # kind, number, elder, contact, tier


def _union(number: str | None) -> CompoundSelect[*tuple[Any, ...]]:
    """Terminals (active), elders' phones, contacts: with `number`, only that number's."""
    terminals: Select[*tuple[Any, ...]] = select(
        literal_column("'terminal'").label("kind"),
        Terminal.number,
        Terminal.elder_id,
        cast(null(), BigInteger).label("contact_id"),
        cast(null(), SmallInteger).label("tier"),
    ).where(Terminal.active.is_(True))
    phones: Select[*tuple[Any, ...]] = select(
        literal_column("'elder'"),
        ElderPhone.number,
        ElderPhone.elder_id,
        cast(null(), BigInteger),
        cast(null(), SmallInteger),
    )
    contacts: Select[*tuple[Any, ...]] = select(
        literal_column("'contact'"), Contact.number, Contact.elder_id, Contact.id, Contact.tier
    )
    if number is not None:
        terminals = terminals.where(Terminal.number == number)
        phones = phones.where(ElderPhone.number == number)
        contacts = contacts.where(Contact.number == number)
    return union_all(terminals, phones, contacts)


async def matches_for(conn: AsyncConnection, number: str) -> list[Match]:
    """Every terminal, elder phone and contact whose normalised number is ``number``."""
    rows = (await conn.execute(_union(number))).all()
    return [to_match(row.kind, row.elder_id, row.contact_id, row.tier) for row in rows]


async def every_number(conn: AsyncConnection, *, chunk: int = 5000) -> AsyncIterator[list[Row]]:
    """The whole directory, terminals first, in chunks (the event loop breathes between)."""
    result = await conn.stream(_union(None))
    async for rows in result.partitions(chunk):
        yield [(r.kind, r.number, r.elder_id, r.contact_id, r.tier) for r in rows]


def to_match(kind: str, elder_id: int, contact_id: int | None, tier: int | None) -> Match:
    known: dict[str, MatchKind] = {"terminal": "terminal", "elder": "elder", "contact": "contact"}
    return Match(known[kind], int(elder_id), contact_id, tier)
