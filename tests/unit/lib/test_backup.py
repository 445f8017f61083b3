"""lib/db/backup.py: a dump loads back into an empty database exactly (ids, nanosecond datetimes,
absent fields), through the migrations it was taken at; anything but a whole backup is refused."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import cbor2
import pytest

from lib.config import Settings
from lib.db.backup import CHUNK_ROWS, BackupError, check, dump, load
from lib.db.connection import Database, open_database
from lib.db.migrations import apply_migrations, migration_files
from tests.support.client import Account, Client


@pytest.fixture
def fresh(tmp_path: Path) -> Iterator[Database]:
    db = open_database(Settings(data_dir=tmp_path, database_url="mem://"))
    yield db
    db.close()


def _everything(db: Database) -> dict[str, object]:
    """Every record but the `migration` table's (a restore applies them anew: their times differ)."""
    tables = sorted(set(db.one("INFO FOR DB")["tables"]) - {"migration"})
    return {t: db.query("SELECT * FROM type::table($t) ORDER BY id", {"t": t}, tagged=True)[0] for t in tables}


def _backup(db: Database) -> bytes:
    out = io.BytesIO()
    dump(db, out)
    return out.getvalue()


def test_a_backup_restores_every_record_exactly(
    client: Client, admin: Account, alice: Account, fresh: Database
) -> None:
    plan = client.create_plan(admin.token, price=9.99, duration=30)
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_backup").json["contract"]
    refund = client.post("/subscriptions/refund", {"contract_id": contract["contract_id"]}, token=admin.token)
    assert refund.status == 200
    client.services.db.query(  # more rows than one chunk; one with a nanosecond datetime
        "FOR $i IN 0..$n { CREATE revoked_token SET user = $u, expires_at = d'2030-01-01T00:00:00.123456789Z' }",
        {"n": CHUNK_ROWS + 10, "u": client.services.db.one("SELECT VALUE id FROM ONLY user LIMIT 1")},
    )
    source = client.services.db
    data = _backup(source)

    summary = load(fresh, io.BytesIO(data))

    assert summary.migrations == [name for name, _ in migration_files()]
    assert summary.tables["revoked_token"] == CHUNK_ROWS + 10
    assert _everything(fresh) == _everything(source)  # ids, datetimes to the nanosecond, NONE fields: all
    assert fresh.one("SELECT VALUE expires_at FROM ONLY revoked_token LIMIT 1").microsecond == 123456


def test_only_a_whole_backup_is_accepted(client: Client, alice: Account, fresh: Database) -> None:
    for n in range(10):  # enough rows that half the file ends past its header
        client.register(f"user{n}@example.com")
    data = _backup(client.services.db)
    assert check(io.BytesIO(data)).rows > 0

    with pytest.raises(BackupError, match="truncated"):
        check(io.BytesIO(data[:-3]))
    with pytest.raises(BackupError, match="not a Kiroshi backup"):
        check(io.BytesIO(b"SELECT * FROM user;"))
    with pytest.raises(BackupError, match="the backup failed: disk full"):
        check(io.BytesIO(cbor2.dumps({"error": "disk full"})))
    with pytest.raises(BackupError, match="truncated"):
        load(fresh, io.BytesIO(data[: len(data) // 2]))


def test_a_backup_of_a_newer_version_is_refused(client: Client, fresh: Database) -> None:
    client.services.db.query("CREATE migration:`9999_from_the_future` SET applied_at = time::now()")

    with pytest.raises(BackupError, match="9999_from_the_future"):
        load(fresh, io.BytesIO(_backup(client.services.db)))
    assert not fresh.one("INFO FOR DB")["tables"]  # refused before anything was written


def test_a_backup_loads_only_into_an_empty_database(client: Client, fresh: Database) -> None:
    apply_migrations(fresh)

    with pytest.raises(BackupError, match="not empty"):
        load(fresh, io.BytesIO(_backup(client.services.db)))


def test_an_older_backup_restores_through_its_own_migrations(fresh: Database, tmp_path: Path) -> None:
    """Migrations newer than the backup are left to the runner's start, as after an upgrade."""
    old = open_database(Settings(data_dir=tmp_path, database_url="mem://"))
    first = migration_files()[0][0]
    apply_migrations(old, through=first)

    summary = load(fresh, io.BytesIO(_backup(old)))
    old.close()

    assert summary.migrations == [first]
    assert fresh.one("SELECT VALUE meta::id(id) FROM migration") == [first]
    assert apply_migrations(fresh) == [name for name, _ in migration_files()[1:]]
