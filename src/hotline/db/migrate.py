"""Alembic, driven from the `hotline db` commands."""

from __future__ import annotations

import os
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory

from hotline.config import SettingsError


def _config(url: str | None = None) -> Config:
    root = Path(os.environ.get("HOTLINE_MIGRATIONS", Path(__file__).resolve().parents[3]))
    ini = root / "alembic.ini"
    if not ini.exists():
        raise SettingsError(f"no alembic.ini in {root}; set HOTLINE_MIGRATIONS to the repo root")
    config = Config(str(ini))
    if url is not None:
        config.attributes["url"] = url
    return config


def head() -> str | None:
    return ScriptDirectory.from_config(_config()).get_current_head()


def upgrade(url: str, revision: str = "head") -> None:
    """Run in a thread or outside an event loop: Alembic's env.py starts its own loop."""
    command.upgrade(_config(url), revision)
