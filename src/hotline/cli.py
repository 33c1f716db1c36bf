"""The `hotline` command."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

from hotline import demo, logs, service
from hotline.calls import store as calls_store
from hotline.cases import store as cases_store
from hotline.config import SettingsError, database_url, load_settings
from hotline.db import migrate
from hotline.db.engine import check_database, make_engine


def _with_db(fn: Callable[[AsyncConnection], Awaitable[Any]], *, write: bool = False) -> Any:
    async def main() -> Any:
        engine = make_engine(database_url(), pool_size=1)
        try:
            await check_database(engine, None)
            async with engine.begin() if write else engine.connect() as conn:
                return await fn(conn)
        finally:
            await engine.dispose()

    return asyncio.run(main())


def _table(rows: list[dict[str, Any]], columns: Sequence[str]) -> None:
    if not rows:
        print("(none)")
        return
    cells = [[("" if r[c] is None else str(r[c])) for c in columns] for r in rows]
    widths = [max(len(c), *(len(row[i]) for row in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in cells:
        print("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)))


def _serve(_: argparse.Namespace) -> None:
    settings = load_settings()
    logs.setup(settings.log_level)
    service.serve(settings)


def _db_upgrade(args: argparse.Namespace) -> None:
    migrate.upgrade(database_url(), args.revision)
    print(f"database at {args.revision}")


def _demo(_: argparse.Namespace) -> None:
    password = os.environ.get("HOTLINE_DEMO_SIP_PASSWORD") or None
    inserted = _with_db(lambda conn: demo.load(conn, password), write=True)
    print("demo data loaded" if inserted else "demo data already present")
    console = os.environ.get("HOTLINE_DEMO_CONSOLE_PASSWORD")
    if console:
        _with_db(lambda conn: demo.console_logins(conn, console, password), write=True)
        print(
            "demo console logins: op1001, op1002 (operators), sup1001 (supervisor), "
            "admin1001 (admin)"
        )


def _calls(args: argparse.Namespace) -> None:
    rows = _with_db(lambda c: calls_store.recent_calls(c, args.limit))
    _table(
        rows,
        (
            "started_at",
            "entry",
            "caller_kind",
            "elder_id",
            "answered_at",
            "ended_at",
            "ended_by",
            "case_number",
        ),
    )


def _cases(args: argparse.Namespace) -> None:
    rows = _with_db(lambda c: cases_store.recent_cases(c, args.limit))
    _table(
        rows,
        ("number", "opened_at", "class", "status", "channel", "elder_id", "identified", "steps"),
    )


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="hotline", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run the call controller").set_defaults(fn=_serve)
    db = sub.add_parser("db", help="database schema").add_subparsers(dest="db", required=True)
    up = db.add_parser("upgrade", help="migrate the schema forward")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(fn=_db_upgrade)
    sub.add_parser("demo-data", help="load made-up elders and operators").set_defaults(fn=_demo)
    for name, fn in (("calls", _calls), ("cases", _cases)):
        cmd = sub.add_parser(name, help=f"list recent {name}")
        cmd.add_argument("--limit", type=int, default=20)
        cmd.set_defaults(fn=fn)
    return p


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    try:
        args.fn(args)
    except SettingsError as err:
        print(f"hotline: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
