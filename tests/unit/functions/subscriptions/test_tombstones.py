"""A transaction id pays for one purchase, forever: after a refund, after its buyer's account is
deleted, even when its contract row is gone (its tombstone stays), and under racing requests."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from lib.billing.contracts_repository import contract_key
from lib.config import Secret, Settings
from lib.db import migrations
from lib.db.connection import open_database
from lib.db.records import record
from tests.support.client import Account, Client


@pytest.fixture
def plan(client: Client, admin: Account) -> dict[str, object]:
    return client.create_plan(admin.token, price=9.99, duration=30)


def _contracts(client: Client) -> list[object]:
    return client.services.db.one("SELECT VALUE id FROM contract")  # type: ignore[no-any-return]


def test_a_purchase_writes_its_tombstone_with_its_contract(
    client: Client, alice: Account, plan: dict[str, object]
) -> None:
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_t1").json["contract"]

    tombstones = client.services.db.one("SELECT VALUE meta::id(id) FROM transaction_tombstone")
    assert tombstones == [contract_key("pay_t1")] == [contract["contract_id"]]


def test_after_the_buyers_deletion_racing_buyers_of_the_same_id_all_get_409(
    client: Client, alice: Account, admin: Account, plan: dict[str, object]
) -> None:
    first = client.buy(alice.token, str(plan["plan_id"]), "pay_once").json["contract"]
    assert client.delete(f"/users/{alice.user_id}", token=admin.token).status == 200
    others = [client.account() for _ in range(12)]

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda buyer: client.buy(buyer.token, str(plan["plan_id"]), "pay_once"), others))

    assert Counter(a.status for a in answers) == {409: 12}, answers
    assert {a.json["code"] for a in answers} == {"transaction_id_reused"}
    assert _contracts(client) == [record("contract", first["contract_id"])]


def test_racing_buyers_of_an_id_whose_contract_row_is_gone_all_get_409(
    client: Client, alice: Account, plan: dict[str, object]
) -> None:
    """The tombstone alone refuses it: for contracts removed by hand, or by an older version."""
    client.buy(alice.token, str(plan["plan_id"]), "pay_gone")
    client.services.db.query("DELETE contract")
    client.services.db.memo.invalidate(alice.user_id)
    buyers = [alice, *(client.account() for _ in range(11))]

    with ThreadPoolExecutor(max_workers=12) as pool:
        answers = list(pool.map(lambda buyer: client.buy(buyer.token, str(plan["plan_id"]), "pay_gone"), buyers))

    assert Counter(a.status for a in answers) == {409: 12}, answers
    assert {a.json["code"] for a in answers} == {"transaction_id_reused"}
    assert _contracts(client) == []


def test_after_a_refund_the_id_stays_spent(
    client: Client, alice: Account, bob: Account, plan: dict[str, object]
) -> None:
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_r").json["contract"]
    assert client.post("/subscriptions/refund", {"contract": contract["contract_id"]}, token=alice.token).status == 200

    again = client.buy(bob.token, str(plan["plan_id"]), "pay_r")
    replay = client.buy(alice.token, str(plan["plan_id"]), "pay_r")

    assert (again.status, again.json["code"]) == (409, "transaction_id_reused")
    assert (replay.status, replay.json["contract"]["status"]) == (200, "refunded")  # the same purchase, as it is


def test_the_migration_gives_existing_contracts_their_tombstones_and_clears_what_deleted_accounts_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = open_database(Settings(data_dir=tmp_path, database_url="mem://", jwt_secret=Secret("s" * 64)))
    files = migrations.migration_files()
    before = [(name, sql) for name, sql in files if name < "0004"]
    monkeypatch.setattr(migrations, "migration_files", lambda: before)
    migrations.apply_migrations(db)
    db.query(
        "CREATE contract:k1 CONTENT {user: user:gone, plan_id: 'p', plan_title: 't', transaction_id: 'pay_old',"
        " price_minor: 1, currency: 'USD', duration_days: 1, starts_at: time::now(), ends_at: time::now(),"
        " created_at: time::now()};"
        "CREATE user:kept CONTENT {email: 'k@example.com', nickname: 'k', name: 'k', surname: 'k', role: 'user',"
        " password_hash: 'h', created_at: time::now(), updated_at: time::now()};"
        "CREATE chat:orphan CONTENT {user: user:gone, model: 'm', title: '', message_count: 1,"
        " created_at: time::now(), updated_at: time::now()};"
        "CREATE chat:kept CONTENT {user: user:kept, model: 'm', title: '', message_count: 1,"
        " created_at: time::now(), updated_at: time::now()};"
        "CREATE message:m1 CONTENT {chat: chat:orphan, seq: 1, role: 'user', content: 'left behind',"
        " status: 'complete', created_at: time::now()};"
        "CREATE message:m2 CONTENT {chat: chat:kept, seq: 1, role: 'user', content: 'mine',"
        " status: 'complete', created_at: time::now()};"
        "CREATE usage:u1 CONTENT {user: user:gone, period_start: time::now(), period_end: time::now(), used: 5};"
        "CREATE usage:u2 CONTENT {user: user:kept, period_start: time::now(), period_end: time::now(), used: 5};"
    )
    monkeypatch.setattr(migrations, "migration_files", lambda: files)
    try:
        migrations.apply_migrations(db)
        rows = db.query(
            "SELECT VALUE meta::id(id) FROM transaction_tombstone; SELECT VALUE meta::id(id) FROM chat;"
            " SELECT VALUE meta::id(id) FROM message; SELECT VALUE meta::id(id) FROM usage;"
            " SELECT VALUE meta::id(id) FROM contract;"
        )
    finally:
        db.close()

    assert rows == [["k1"], ["kept"], ["m2"], ["u2"], ["k1"]]
