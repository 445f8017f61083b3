"""Writes committed together: each keeps its own value and its own failure, none is lost."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from lib.db.connection import Database, RecordExists
from lib.db.group_commit import GroupCommit, Write, commit
from lib.db.records import new_id, record
from lib.services import Services


def _count(key: str) -> Write:
    """Bump a counter record and log the bump; the write's value is the new count."""
    return Write(
        (
            "LET $bumped = (UPSERT ONLY $counter SET n = (n ?? 0) + 1)",
            "CREATE ONLY $entry CONTENT {n: $bumped.n} RETURN VALUE n",
        ),
        {"counter": record("counter", key), "entry": record("entry", new_id())},
    )


def _query(db: Database, sql: str) -> object:
    return db.query(sql)[0]


@pytest.fixture
def db(services: Services) -> Database:
    services.db.query("DEFINE TABLE counter SCHEMALESS; DEFINE TABLE entry SCHEMALESS;")
    return services.db


def test_writes_in_one_transaction_keep_their_own_values_and_variables(db: Database) -> None:
    values = commit(db, [_count("a"), _count("a"), _count("b")])

    assert values == [1, 2, 1]
    assert _query(db, "SELECT VALUE n FROM ONLY counter:a") == 2


def test_a_failing_write_fails_alone(db: Database, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="kiroshi.db")
    db.query("CREATE entry:taken CONTENT {n: 0}")
    taken = Write(("CREATE ONLY entry:taken CONTENT {n: 1} RETURN VALUE n",), {})
    group = GroupCommit(db)
    try:  # queued in one go, before the committing thread first looks: one shared transaction
        futures = [group.submit(taken if index == 3 else _count("shared")) for index in range(8)]
        with pytest.raises(RecordExists):
            futures[3].result(timeout=10)
        counts = [f.result(timeout=10) for i, f in enumerate(futures) if i != 3]
    finally:
        group.close()

    assert "writes failed (" in caplog.text  # the shared transaction failed; each write went alone
    assert counts == [1, 2, 3, 4, 5, 6, 7]
    assert _query(db, "SELECT VALUE n FROM ONLY counter:shared") == 7
    assert _query(db, "SELECT VALUE n FROM ONLY entry:taken") == 0


def test_many_writers_lose_nothing(db: Database) -> None:
    group = GroupCommit(db)
    try:
        with ThreadPoolExecutor(16) as pool:
            futures = [pool.submit(lambda: group.submit(_count("many")).result(timeout=30)) for _ in range(400)]
            values = sorted(f.result() for f in futures)
    finally:
        group.close()

    assert values == list(range(1, 401))
    assert _query(db, "SELECT count() FROM entry GROUP ALL") == [{"count": 400}]


def test_what_is_queued_at_close_is_committed(db: Database) -> None:
    group = GroupCommit(db)
    futures = [group.submit(_count("closing")) for _ in range(50)]
    group.close()

    assert all(f.done() for f in futures)
    assert _query(db, "SELECT VALUE n FROM ONLY counter:closing") == 50


def test_a_failing_callback_does_not_undo_or_repeat_a_committed_write(db: Database) -> None:
    def broken(_results: list[object]) -> None:
        raise ValueError("a bug after the commit")

    group = GroupCommit(db)
    try:
        value = group.submit(replace(_count("callback"), after=broken)).result(timeout=10)
    finally:
        group.close()

    assert value == 1
    assert _query(db, "SELECT VALUE n FROM ONLY counter:callback") == 1
