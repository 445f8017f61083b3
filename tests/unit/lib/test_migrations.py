"""Migrations apply once, also when replicas start together on one database server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from lib.config import Secret, Settings
from lib.db.connection import Database, TransactionConflict, open_database
from lib.db.migrations import apply_migrations, migration_files

NAMES = [name for name, _ in migration_files()]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = open_database(Settings(data_dir=tmp_path, database_url="mem://", jwt_secret=Secret("s" * 64)))
    yield database
    database.close()


def _recorded(db: Database) -> list[str]:
    return sorted(db.one("SELECT VALUE meta::id(id) FROM migration") or [])


def test_each_file_applies_once(db: Database) -> None:
    assert apply_migrations(db) == NAMES
    assert apply_migrations(db) == []
    assert _recorded(db) == NAMES


def test_a_start_that_collides_with_another_replica_goes_on(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other replica commits the first migration while ours conflicts with it (what the engine
    answers when both write at once): our start must neither fail nor apply it twice."""
    transaction = db.transaction
    collided = []

    def racing(sql: str, params: dict[str, Any] | None = None) -> list[Any]:
        if not collided:
            collided.append(True)
            transaction(sql, params)  # the other replica's identical transaction wins
            raise TransactionConflict("Failed to commit transaction due to a read or write conflict")
        return transaction(sql, params)

    monkeypatch.setattr(db, "transaction", racing)

    assert apply_migrations(db) == NAMES[1:]  # the first was the other replica's
    assert _recorded(db) == NAMES


def test_events_published_before_the_outbox_pruned_them_are_dropped_and_pending_ones_kept(db: Database) -> None:
    pruning = NAMES.index("0009_prune_published_events")
    apply_migrations(db, through=NAMES[pruning - 1])
    db.query(
        "CREATE event_outbox CONTENT {topic: 'a', payload: {}, created_at: time::now(), published_at: time::now()};"
        "CREATE event_outbox CONTENT {topic: 'b', payload: {}, created_at: time::now()};"
    )

    assert apply_migrations(db) == NAMES[pruning:]
    assert db.one("SELECT VALUE topic FROM event_outbox") == ["b"]
