"""Keyset pages over (created_at, id): stable however the table changes between pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from lib.db.connection import Database
from lib.db.records import record

__all__ = ["Cursor", "page_rows"]

Cursor = tuple[dt.datetime, str]


def page_rows(
    db: Database,
    table: str,
    *,
    after: Cursor | None,
    limit: int,
    newest_first: bool = False,
    where: tuple[str, ...] = (),
    params: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Rows of `table` in (created_at, id) order, strictly after the cursor, matching `where`
    (constant SurrealQL conditions whose values are in `params`)."""
    op, order = ("<", "DESC") if newest_first else (">", "ASC")
    conditions = list(where)
    values: dict[str, Any] = {**(params or {}), "n": limit}
    if after is not None:
        conditions.append(f"(created_at {op} $t OR (created_at = $t AND id {op} $id))")
        values |= {"t": after[0], "id": record(table, after[1])}
    clause = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    query = f"SELECT * FROM {table} {clause} ORDER BY created_at {order}, id {order} LIMIT $n"  # noqa: S608
    return db.one(query, values) or []  # type: ignore[no-any-return]
