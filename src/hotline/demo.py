"""Demo data: a few made-up elders, contacts, a terminal and operators, so a call can be
placed at once. Every name and number here is invented."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from hotline.core.passwords import hash_password
from hotline.core.phone import normalise
from hotline.db.models import Contact, Elder, ElderPhone, Operator, Queue, QueueMember, Terminal
from hotline.operators.accounts import md5_cred


@dataclass(frozen=True)
class DemoContact:
    name: str
    relation: str
    tier: int
    number: str
    guardian: bool = False


@dataclass(frozen=True)
class DemoElder:
    name: str
    born: dt.date
    address: str
    district: str
    health: str
    history: str
    medication: str
    living: str
    children: str
    phones: tuple[str, ...]
    contacts: tuple[DemoContact, ...] = ()
    terminal: str | None = None
    events: str = field(default="")


ELDERS = (
    DemoElder(
        name="王秀英",
        born=dt.date(1941, 3, 8),
        address="示范区幸福路 1 号 3 单元 201",
        district="示范区",
        health="高血压, 2 型糖尿病",
        history="2019 年轻度脑梗",
        medication="氨氯地平 5mg 每日一次; 二甲双胍",
        living="独居",
        children="一子一女",
        phones=("13800000001", "010-8888 6666"),
        contacts=(
            DemoContact("刘强", "儿子", 1, "13900000011", guardian=True),
            DemoContact("刘芳", "女儿", 2, "13900000012"),
        ),
        terminal="18600000001",
        events="2021 年丧偶",
    ),
    DemoElder(
        name="李建国",
        born=dt.date(1938, 11, 2),
        address="示范区长青街 8 号",
        district="示范区",
        health="冠心病",
        history="2020 年心脏支架",
        medication="阿司匹林",
        living="与老伴同住",
        children="一女",
        phones=("13800000002", "010-6666 1234"),
        contacts=(DemoContact("李娜", "女儿", 1, "13900000021", guardian=True),),
    ),
    DemoElder(
        name="张桂兰",
        born=dt.date(1940, 6, 18),
        address="示范区长青街 8 号",
        district="示范区",
        health="骨质疏松",
        history="",
        medication="钙片",
        living="与老伴同住",
        children="一女",
        phones=("010-6666 1234",),
        contacts=(DemoContact("李娜", "女儿", 1, "13900000021", guardian=True),),
    ),
)

OPERATORS = (("op1001", "话务员 1001", "op1001"), ("op1002", "话务员 1002", "op1002"))
SUPERVISOR = ("sup1001", "班长 1001", "sup1001")  # logs in to the console's floor
ADMIN = ("admin1001", "管理员 1001")  # logs in to the console's admin pages (no softphone)


async def console_logins(conn: AsyncConnection, password: str, sip_password: str | None) -> None:
    """The demo operators, the demo supervisor and the demo admin can log in to the console
    with `password` (set where none is set yet, so a password changed since is kept)."""
    username, display, endpoint = SUPERVISOR
    found = await conn.scalar(select(Operator.id).where(Operator.username == username))
    if found is None:
        values: dict[str, object] = {
            "username": username,
            "display_name": display,
            "sip_endpoint": endpoint,
            "role": "supervisor",
        }
        if sip_password:
            values["sip_md5_cred"] = md5_cred(endpoint, sip_password)
        await conn.execute(insert(Operator).values(**values))
    admin, admin_display = ADMIN
    if await conn.scalar(select(Operator.id).where(Operator.username == admin)) is None:
        await conn.execute(
            insert(Operator).values(username=admin, display_name=admin_display, role="admin")
        )
    hashed = hash_password(password)
    names = [op[0] for op in OPERATORS] + [username, admin]
    await conn.execute(
        update(Operator)
        .where(Operator.username.in_(names), Operator.password_hash.is_(None))
        .values(password_hash=hashed)
    )


async def load(conn: AsyncConnection, sip_password: str | None = None) -> bool:
    """Insert the demo data unless it is there already. True when it inserted.

    With ``sip_password``, the demo operators get softphone accounts with it, are members
    of every queue, and start ready.
    """
    marker = normalise(ELDERS[0].phones[0])
    if (await conn.execute(select(ElderPhone.id).where(ElderPhone.number == marker))).first():
        return False
    for elder in ELDERS:
        elder_id = (
            await conn.execute(
                insert(Elder)
                .values(
                    full_name=elder.name,
                    birth_date=elder.born,
                    address=elder.address,
                    district=elder.district,
                    health_conditions=elder.health,
                    medical_history=elder.history,
                    medication=elder.medication,
                    living_situation=elder.living,
                    children=elder.children,
                    life_events=elder.events,
                )
                .returning(Elder.id)
            )
        ).scalar_one()
        for number in elder.phones:
            await conn.execute(
                insert(ElderPhone).values(elder_id=elder_id, number=normalise(number))
            )
        for c in elder.contacts:
            await conn.execute(
                insert(Contact).values(
                    elder_id=elder_id,
                    full_name=c.name,
                    relation=c.relation,
                    tier=c.tier,
                    number=normalise(c.number),
                    is_guardian=c.guardian,
                )
            )
        if elder.terminal:
            await conn.execute(
                insert(Terminal).values(
                    elder_id=elder_id, number=normalise(elder.terminal), serial="DEMO-0001"
                )
            )
    queue_ids = list((await conn.execute(select(Queue.id))).scalars()) if sip_password else []
    for username, display, endpoint in OPERATORS:
        values: dict[str, object] = {
            "username": username,
            "display_name": display,
            "sip_endpoint": endpoint,
        }
        if sip_password:
            values["sip_md5_cred"] = md5_cred(endpoint, sip_password)
            values["state"] = "ready"
            values["availability"] = "ready"
        op_id = (
            await conn.execute(insert(Operator).values(**values).returning(Operator.id))
        ).scalar_one()
        for queue_id in queue_ids:
            await conn.execute(insert(QueueMember).values(queue_id=queue_id, operator_id=op_id))
    return True
