"""Made-up elders for benchmarks, generated in PostgreSQL with set-based SQL
(generate_series), never row by row: a million take about a minute.

Each elder has a Chinese name (one of 60 surnames, one or two of 80 given characters), a
birth date (aged 70 to 100), an address in one of 20 districts, health conditions, medical
history, medication, living situation and children; one mobile phone; 1 to 3 contacts in
tiers 1..3 (the first a guardian). Every tenth has a one-key terminal. One in twenty has an
open case with two past calls; three in twenty a closed case with one past call.

Numbers are derived from the elder's id, so they are unique and stay clear of the numbers
the demo data, the tests and the other benchmarks use (130, 137-139, 150, 180, 186...):

    elder's phone   135 + the id in 8 digits      (PHONE_BASE + id)
    contacts        158 + 8 digits                (CONTACT_BASE + 3 * id + tier - 1)
    terminals       188 + 8 digits                (TERMINAL_BASE + id)

As a script, against HOTLINE_DATABASE_URL (or --dsn), a migrated database:

    .venv/bin/python -m bench.elders --count 1000000

`generate()` may be called more than once on a database: each call adds elders after the
highest id there. It leaves VACUUM ANALYZE to the caller (`vacuum_analyze()`), which a
benchmark should run before timing anything (else autovacuum does it in the middle).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass

import asyncpg

PHONE_BASE = 13500000000
CONTACT_BASE = 15800000000
TERMINAL_BASE = 18800000000
MAX_ID = 33_000_000  # contact numbers stay within 158 + 8 digits

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余"
    "杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖"
)
GIVEN = list(
    "秀英桂兰建国华明芳玉珍淑凤丽红梅霞平刚军伟强勇志海春燕文德福荣生祥云山金宝"
    "忠义礼智信仁和顺安康永长庆喜贵富根成立新胜利光辉翠琴素琼月娥巧惠敏静婉爱"
)
DISTRICTS = [
    "东城区", "西城区", "南城区", "北城区", "朝阳区", "海淀区", "丰台区", "石景山区",
    "通州区", "顺义区", "昌平区", "大兴区", "房山区", "门头沟区", "怀柔区", "平谷区",
    "密云区", "延庆区", "滨河区", "新城区",
]  # fmt: skip
ROADS = [
    "长安",
    "和平",
    "解放",
    "人民",
    "建设",
    "中山",
    "文化",
    "光明",
    "幸福",
    "团结",
    "胜利",
    "向阳",
]
CONDITIONS = [
    "高血压", "糖尿病", "冠心病", "慢阻肺", "骨质疏松", "轻度认知障碍", "关节炎",
    "白内障", "脑梗后遗症", "帕金森病", "心房颤动", "慢性肾病",
]  # fmt: skip
HISTORY = [
    "2015年髋关节置换", "2018年冠脉支架", "2020年脑梗住院", "2012年胆囊切除",
    "2019年跌倒骨折", "无重大手术史", "2021年肺炎住院",
]  # fmt: skip
MEDICATION = [
    "氨氯地平", "二甲双胍", "阿司匹林", "阿托伐他汀", "胰岛素", "钙片", "华法林",
    "左旋多巴", "美托洛尔",
]  # fmt: skip
LIVING = ["独居", "与配偶同住", "与子女同住", "与保姆同住", "养老院"]
CHILDREN = ["一子一女", "一子", "一女", "两子", "两女", "无子女", "三个子女"]
RELATIONS = ["儿子", "女儿", "儿媳", "女婿", "孙子", "孙女", "侄子", "邻居", "社区网格员"]
CASE_CLASSES = ["consultation_service", "life_help", "consultation_affairs", "referral"]
OPEN_STATUSES = ["open", "in_progress", "follow_up"]


def _pick(param: int) -> str:
    """SQL: a random element of the text[] parameter $param."""
    return f"(${param}::text[])[1 + floor(random() * cardinality(${param}::text[]))::int]"


def _two(param: int, first: str, second: str) -> str:
    """SQL: one element of the text[] parameter $param, or (half the time) two different
    ones; ``first`` and ``second`` are random() values taken once per row."""
    arr = f"(${param}::text[])"
    k = f"cardinality({arr})"
    one = f"{arr}[1 + floor({first} * {k})::int]"
    other = f"{arr}[1 + (floor({first} * {k})::int + 1 + floor({second} * ({k} - 1))::int) % {k}]"
    return f"{one} || CASE WHEN {second} < 0.5 THEN '、' || {other} ELSE '' END"


_ELDERS = f"""
INSERT INTO elders (full_name, birth_date, address, district, health_conditions,
                    medical_history, medication, living_situation, children, high_risk)
SELECT s.surname || {_pick(2)} || CASE WHEN random() < 0.7 THEN {_pick(2)} ELSE '' END,
       date '1926-01-01' + floor(random() * 365 * 30)::int,
       s.district || {_pick(4)} || '路' || (1 + floor(random() * 300)::int) || '号'
           || (1 + floor(random() * 20)::int) || '栋' || (101 + floor(random() * 20)::int)
           || '室',
       s.district,
       {_two(5, "s.h1", "s.h2")},
       {_pick(6)},
       {_two(7, "s.m1", "s.m2")},
       {_pick(8)},
       {_pick(9)},
       random() < 0.03
FROM (SELECT i, {_pick(1)} AS surname, {_pick(3)} AS district, random() AS h1,
             random() AS h2, random() AS m1, random() AS m2
      FROM generate_series(1, $10::int) AS i) AS s
ORDER BY s.i
"""

_PHONES = """
INSERT INTO elder_phones (elder_id, number, label)
SELECT id, ($2::bigint + id)::text, '手机' FROM elders WHERE id > $1 ORDER BY id
"""

_CONTACTS = f"""
INSERT INTO contacts (elder_id, full_name, relation, tier, number, is_guardian)
SELECT e.id, {_pick(3)} || {_pick(4)} || {_pick(4)}, {_pick(5)}, t,
       ($2::bigint + 3 * e.id + t - 1)::text, t = 1
FROM elders AS e, generate_series(1, 3) AS t
WHERE e.id > $1 AND t <= 1 + e.id % 3
ORDER BY e.id, t
"""

_TERMINALS = """
INSERT INTO terminals (elder_id, number, serial)
SELECT id, ($2::bigint + id)::text, 'GEN' || id FROM elders WHERE id > $1 AND id % 10 = 3
"""

# one in twenty: an open case; three in twenty: a closed one
_CASES = f"""
INSERT INTO cases (id, opened_at, closed_at, class, status, channel, identified, elder_id,
                   close_reason)
SELECT gen_random_uuid(), o.opened_at, CASE WHEN o.open THEN NULL ELSE o.opened_at
       + interval '2 hours' END, {_pick(2)},
       CASE WHEN o.open THEN {_pick(3)} ELSE 'closed' END, 'hotline', true, o.id,
       CASE WHEN o.open THEN NULL ELSE '已处理' END
FROM (SELECT id, id % 20 = 7 AS open,
             now() - (1 + floor(random() * 60 * 24 * 30)::int) * interval '1 minute'
                 AS opened_at
      FROM elders WHERE id > $1 AND id % 20 IN (7, 8, 9, 10)) AS o
"""

# two past calls of each open case, one of each closed case
_CALLS = """
INSERT INTO calls (id, linkedid, channel_id, entry, caller_number, caller_kind, elder_id,
                   case_id, started_at, answered_at, connected_at, ended_at, ended_by)
SELECT gen_random_uuid(), 'gen.' || c.elder_id || '.' || k, 'gen-' || c.elder_id || '-' || k,
       'hotline', ($2::bigint + c.elder_id)::text, 'elder', c.elder_id, c.id,
       c.opened_at + (k - 1) * interval '1 day',
       c.opened_at + (k - 1) * interval '1 day' + interval '1 second',
       c.opened_at + (k - 1) * interval '1 day' + interval '20 seconds',
       c.opened_at + (k - 1) * interval '1 day' + interval '4 minutes', 'caller'
FROM cases AS c, generate_series(1, 2) AS k
WHERE c.elder_id > $1 AND (k = 1 OR c.status <> 'closed')
"""


@dataclass(frozen=True)
class Generated:
    first_id: int  # the ids of the elders made: first_id .. last_id
    last_id: int
    seconds: float

    @property
    def count(self) -> int:
        return self.last_id - self.first_id + 1


def asyncpg_dsn(url: str) -> str:
    """A libpq DSN from a SQLAlchemy URL (postgresql+asyncpg://...) or a DSN."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def generate(
    conn_or_dsn: asyncpg.Connection | str, n: int, *, seed: float = 0.42
) -> Generated:
    """Add ``n`` made-up elders (with phones, contacts, terminals, cases and past calls) in
    one transaction; the same ``seed`` on the same database makes the same elders."""
    if isinstance(conn_or_dsn, str):
        conn = await asyncpg.connect(asyncpg_dsn(conn_or_dsn))
        try:
            return await generate(conn, n, seed=seed)
        finally:
            await conn.close()
    conn = conn_or_dsn
    started = time.monotonic()
    async with conn.transaction():
        before = int(await conn.fetchval("SELECT coalesce(max(id), 0) FROM elders"))
        if before + n > MAX_ID:
            raise ValueError(f"at most {MAX_ID} elders (their contacts' numbers)")
        await conn.execute("SELECT setseed($1)", seed)
        await conn.execute(
            _ELDERS,
            SURNAMES,
            GIVEN,
            DISTRICTS,
            ROADS,
            CONDITIONS,
            HISTORY,
            MEDICATION,
            LIVING,
            CHILDREN,
            n,
        )
        last = int(await conn.fetchval("SELECT max(id) FROM elders"))
        await conn.execute(_PHONES, before, PHONE_BASE)
        await conn.execute(_CONTACTS, before, CONTACT_BASE, SURNAMES, GIVEN, RELATIONS)
        await conn.execute(_TERMINALS, before, TERMINAL_BASE)
        await conn.execute(_CASES, before, CASE_CLASSES, OPEN_STATUSES)
        await conn.execute(_CALLS, before, PHONE_BASE)
    return Generated(before + 1, last, time.monotonic() - started)


async def vacuum_analyze(conn: asyncpg.Connection) -> float:
    """VACUUM ANALYZE the tables generate() fills; the seconds it took."""
    started = time.monotonic()
    for table in ("elders", "elder_phones", "contacts", "terminals", "cases", "calls"):
        await conn.execute(f"VACUUM ANALYZE {table}")
    return time.monotonic() - started


def phone_of(elder_id: int) -> str:
    """The phone number generate() gave the elder ``elder_id``."""
    return str(PHONE_BASE + elder_id)


async def _main(dsn: str, count: int, seed: float) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(dsn))
    try:
        made = await generate(conn, count, seed=seed)
        print(
            f"{made.count} elders generated (ids {made.first_id}..{made.last_id})"
            f" in {made.seconds:.1f} s"
        )
        print(f"VACUUM ANALYZE in {await vacuum_analyze(conn):.1f} s")
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.elders",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--dsn",
        default=os.environ.get("HOTLINE_DATABASE_URL"),
        help="the (migrated) database [HOTLINE_DATABASE_URL]",
    )
    parser.add_argument("--count", type=int, default=1_000_000, help="elders to add [1000000]")
    parser.add_argument("--seed", type=float, default=0.42, help="PostgreSQL setseed() [0.42]")
    args = parser.parse_args()
    if not args.dsn:
        parser.error("--dsn or HOTLINE_DATABASE_URL is needed")
    asyncio.run(_main(args.dsn, args.count, args.seed))


if __name__ == "__main__":
    main()
