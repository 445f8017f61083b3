"""Ordered `.surql` migrations, applied at start, each once, recorded in the `migration` table."""

from __future__ import annotations

import datetime as dt
import random
import time
from importlib import resources

from lib.db.connection import Database, RecordExists, TransactionConflict
from lib.db.records import record

__all__ = ["apply_migrations", "migration_files"]

CONFLICT_ATTEMPTS = 10


def migration_files() -> list[tuple[str, str]]:
    """(name, SurrealQL) pairs in the order they apply."""
    folder = resources.files("lib.db") / "migrations"
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".surql")), key=lambda f: f.name)
    return [(f.name.removesuffix(".surql"), f.read_text(encoding="utf-8")) for f in files]


def apply_migrations(db: Database, through: str | None = None) -> list[str]:
    """Apply what is not applied yet (up to the migration named `through`, when given: a restore
    recreates the schema its backup was taken at); return the names applied now.

    Each file runs in one transaction with its `migration` record, so two processes starting
    together apply it once (the loser hits the existing record and moves on). When their
    transactions collide instead (the engine's read/write conflict; replicas starting together on
    a fresh database server), this process reads what is applied and goes on, a few times.
    """
    applied: list[str] = []
    for attempt in range(1, CONFLICT_ATTEMPTS):
        try:
            _apply(db, applied, through)
        except TransactionConflict:
            time.sleep(random.uniform(0.02, 0.1) * attempt)  # noqa: S311 - jitter, not secrecy
        else:
            return applied
    _apply(db, applied, through)  # the last try: a conflict now fails the start
    return applied


def _apply(db: Database, applied: list[str], through: str | None) -> None:
    db.query(
        "DEFINE TABLE IF NOT EXISTS migration SCHEMAFULL; "
        "DEFINE FIELD IF NOT EXISTS applied_at ON migration TYPE datetime;"
    )
    done = set(db.one("SELECT VALUE meta::id(id) FROM migration") or [])
    for name, sql in migration_files():
        if through is not None and name > through:
            break
        if name in done:
            continue
        try:
            db.transaction(
                f"{sql}\nCREATE $migration SET applied_at = $now;",
                {"migration": record("migration", name), "now": dt.datetime.now(dt.UTC)},
            )
        except RecordExists:
            continue
        applied.append(name)
