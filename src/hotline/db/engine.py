"""Engine creation and the start-up checks that name what to fix."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hotline.config import SettingsError


def make_engine(url: str, *, pool_size: int = 5) -> AsyncEngine:
    """A pool of connections. `hide_parameters`: an error's text never carries a statement's
    values (an elder's medical history, a phone number) into a log."""
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=5,
        pool_pre_ping=True,
        pool_recycle=300,
        hide_parameters=True,
    )


def where(url: str) -> str:
    """host:port/db of a URL, without the password, for messages."""
    parsed = make_url(url)
    return f"{parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database}"


async def check_database(engine: AsyncEngine, head: str | None) -> None:
    """Raise SettingsError with one line naming the fix if the database is not usable."""
    url = engine.url.render_as_string(hide_password=True)
    try:
        async with engine.connect() as conn:
            version = None
            if (await conn.execute(text("SELECT to_regclass('alembic_version')"))).scalar():
                version = (
                    await conn.execute(text("SELECT version_num FROM alembic_version"))
                ).scalar_one_or_none()
    except Exception as err:
        raise SettingsError(
            f"cannot reach PostgreSQL at {where(url)} ({type(err).__name__}: "
            f"{_first_line(err)}); check HOTLINE_DATABASE_URL and that the server runs"
        ) from err
    if head is not None and version != head:
        raise SettingsError(
            f"database {where(url)} is at schema {version or 'none'}, expected {head}; "
            "run `hotline db upgrade`"
        )


def _first_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    return lines[0][:200] if lines else ""
