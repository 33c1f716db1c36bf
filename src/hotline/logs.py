"""Logging: one line a record, with the call's ids when there is a call. No personal data."""

from __future__ import annotations

import logging
import sys


class _CallContext(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        ids = [f"{k}={getattr(record, k)}" for k in ("call", "channel") if hasattr(record, k)]
        return f"{line} [{' '.join(ids)}]" if ids else line


def setup(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_CallContext("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
