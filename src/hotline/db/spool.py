"""A local append-only file that keeps records while PostgreSQL cannot take them."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from pydantic import ValidationError

from hotline.core.records import OP_ADAPTER, Op


class Spool:
    """Operations in order, one JSON object a line, fsynced on every append."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def pending(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def append(self, ops: Iterable[Op]) -> None:
        lines = "".join(OP_ADAPTER.dump_json(op).decode() + "\n" for op in ops)
        if not lines:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(lines)
            f.flush()
            os.fsync(f.fileno())

    def read(self) -> tuple[list[Op], int]:
        """The spooled operations, and how many lines could not be read back."""
        if not self.path.exists():
            return [], 0
        ops: list[Op] = []
        unreadable = 0
        for line in self.path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            try:
                ops.append(OP_ADAPTER.validate_json(line))
            except ValidationError:
                unreadable += 1
        return ops, unreadable

    def replace(self, ops: Iterable[Op]) -> None:
        """Keep only ``ops`` (those not yet written), atomically."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            "".join(OP_ADAPTER.dump_json(op).decode() + "\n" for op in ops), encoding="utf-8"
        )
        os.replace(tmp, self.path)
