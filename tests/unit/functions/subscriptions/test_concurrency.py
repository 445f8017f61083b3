"""Money and access under concurrency: duplicate purchases, double refunds, racing buyers."""

from __future__ import annotations

import itertools
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest

from lib.billing import purchases
from tests.support.client import Account, Client
from tests.support.ledger import check_ledger


@pytest.fixture
def widened_races(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Hold every decision open for a moment after reading the ledger head, so that racing
    requests really interleave; returns the list of retries that the races caused."""
    read_head = purchases.subscribers.get_subscriber
    backoff = purchases._backoff
    retries: list[int] = []

    def slow_read(db: object, user_id: str) -> object:
        head = read_head(db, user_id)  # type: ignore[arg-type]
        time.sleep(0.002)
        return head

    def counted_backoff(attempt: int) -> None:
        retries.append(attempt)
        backoff(attempt)

    monkeypatch.setattr(purchases.subscribers, "get_subscriber", slow_read)
    monkeypatch.setattr(purchases, "_backoff", counted_backoff)
    return retries


@pytest.fixture
def plan(client: Client, admin: Account) -> dict[str, object]:
    return client.create_plan(admin.token, price=12.34, duration=30)


def _parallel(n: int, work: object) -> list[object]:
    with ThreadPoolExecutor(max_workers=min(n, 32)) as pool:
        return list(pool.map(work, range(n)))  # type: ignore[arg-type]


def test_fifty_duplicate_purchases_make_one_contract(client: Client, alice: Account, plan: dict[str, object]) -> None:
    answers = _parallel(50, lambda _: client.buy(alice.token, str(plan["plan_id"]), "pay_dup"))

    assert Counter(a.status for a in answers) == {201: 1, 200: 49}  # type: ignore[attr-defined]
    assert len({a.json["contract"]["contract_id"] for a in answers}) == 1  # type: ignore[attr-defined]
    assert len(check_ledger(client.services.db, alice.user_id)) == 1


def test_fifty_racing_purchases_stack_without_overlap(
    client: Client, alice: Account, plan: dict[str, object], widened_races: list[int]
) -> None:
    answers = _parallel(50, lambda i: client.buy(alice.token, str(plan["plan_id"]), f"pay_{i}"))

    assert all(a.status == 201 for a in answers), [a for a in answers if a.status != 201]  # type: ignore[attr-defined]
    rows = check_ledger(client.services.db, alice.user_id)
    assert len(rows) == 50
    for before, after in itertools.pairwise(rows):
        assert before["ends_at"] == after["starts_at"]
    assert widened_races, "the purchases did not race: the test proved nothing"


def test_a_hundred_concurrent_refunds_pay_once(client: Client, alice: Account, plan: dict[str, object]) -> None:
    contract = client.buy(alice.token, str(plan["plan_id"]), "pay_1").json["contract"]

    answers = _parallel(
        100, lambda _: client.post("/subscriptions/refund", {"contract": contract["contract_id"]}, token=alice.token)
    )

    statuses = Counter(a.status for a in answers)  # type: ignore[attr-defined]
    assert statuses == {200: 1, 409: 99}
    assert {a.json["code"] for a in answers if a.status == 409} == {"already_refunded"}  # type: ignore[attr-defined]
    rows = check_ledger(client.services.db, alice.user_id)
    refunds = [r["refund_minor"] for r in rows]
    assert len(refunds) == 1
    assert refunds[0] in (1233, 1234)  # a few ms of the period were used: rounded down


def test_purchases_and_refunds_racing_keep_the_ledger_whole(
    client: Client, alice: Account, admin: Account, plan: dict[str, object], widened_races: list[int]
) -> None:
    early = [client.buy(alice.token, str(plan["plan_id"]), f"pay_early_{i}").json["contract"] for i in range(10)]

    def work(i: int) -> object:
        if i % 2:
            return client.buy(alice.token, str(plan["plan_id"]), f"pay_late_{i}")
        token = admin.token if i % 4 else alice.token
        return client.post("/subscriptions/refund", {"contract": early[i // 2]["contract_id"]}, token=token)

    answers = _parallel(20, work)

    assert all(a.status in (200, 201) for a in answers), answers  # type: ignore[attr-defined]
    rows = check_ledger(client.services.db, alice.user_id)
    assert len(rows) == 20
    assert sum(1 for r in rows if r.get("refunded_at") is not None) == 10
    assert widened_races


def test_concurrent_buyers_never_share_a_transaction(
    client: Client, alice: Account, bob: Account, plan: dict[str, object]
) -> None:
    buyers = [alice, bob]
    answers = _parallel(40, lambda i: client.buy(buyers[i % 2].token, str(plan["plan_id"]), "pay_shared"))

    winners = {a.json["contract"]["user_id"] for a in answers if a.status in (200, 201)}  # type: ignore[attr-defined]
    assert len(winners) == 1
    loser_answers = [a for a in answers if a.status == 409]  # type: ignore[attr-defined]
    assert len(loser_answers) == 20
    assert client.services.db.one("SELECT count() FROM contract GROUP ALL")[0]["count"] == 1
