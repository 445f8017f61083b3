"""Record ids are built and read here, and nowhere else."""

from __future__ import annotations

import secrets
from typing import Any

from lib.db.wire import RecordID

__all__ = ["new_id", "record", "record_key"]


def new_id() -> str:
    """A fresh opaque id: 26 hex characters, safe in URLs and record ids."""
    return secrets.token_hex(13)


def record(table: str, key: str) -> RecordID:
    """The RecordID of `table:⟨key⟩` (keys are always strings)."""
    return RecordID(table, key)


def record_key(value: Any) -> str:
    """The string key of a RecordID (or of a `table:key` string)."""
    key = getattr(value, "id", None)
    if key is None:
        key = str(value).split(":", 1)[1]
    return str(key)
