"""Buying and refunding when the database fails, when writes lose races, when the plan goes away
mid-purchase or the payment is not confirmed, and at the instants a contract starts and ends: each
answer says what happened (its status, code and detail), and nothing half-done is stored. Time
stands still here (StoppedClock), so that those instants are hit exactly."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest

from lib.billing import plans_repository, purchases
from lib.billing.payments import Paid
from lib.db.connection import Database, QueryFailed, RecordExists, StaleWrite, Thrown, TransactionConflict
from lib.db.records import record
from lib.errors import PaymentRejected, ServiceUnavailable
from tests.support.client import Account, Answer, Client
from tests.support.clock import StoppedClock
from tests.support.ledger import check_ledger

DAY = 86400
GAVE_UP = (503, "contention", "too many concurrent changes to this account; retry")


@pytest.fixture
def clock() -> StoppedClock:
    return StoppedClock(float(int(time.time())))  # near the real time: pyjwt checks `exp` against it


@pytest.fixture
def plan(client: Client, admin: Account) -> dict[str, Any]:
    return client.create_plan(admin.token, price=30.00, duration=30)


def _refund(client: Client, account: Account, contract_id: str) -> Answer:
    return client.post("/subscriptions/refund", {"contract_id": contract_id}, token=account.token)


def _problem(answer: Answer) -> tuple[int, str, str]:
    return answer.status, answer.json["code"], answer.json["detail"]


def _failing(monkeypatch: pytest.MonkeyPatch, db: Database, error: Exception, times: int | None = None) -> list[str]:
    """Make the database's transactions raise `error` (the first `times` of them, or every one);
    returns the statements of each transaction tried."""
    real = db.transaction
    tried: list[str] = []

    def transaction(sql: str, params: Any = None) -> list[Any]:
        tried.append(sql)
        if times is None or len(tried) <= times:
            raise error
        return real(sql, params)

    monkeypatch.setattr(db, "transaction", transaction)
    return tried


def _stored(client: Client, user_id: str) -> dict[str, Any]:
    """What the database holds of a user's purchases."""
    db = client.services.db
    return {
        "contracts": check_ledger(db, user_id),
        "subscriber": db.one("SELECT * FROM ONLY $s", {"s": record("subscriber", user_id)}),
        "tombstones": db.one("SELECT VALUE id FROM transaction_tombstone"),
    }


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Retries wait no time here; returns each wait's attempt number."""
    waited: list[int] = []
    monkeypatch.setattr(purchases, "_backoff", waited.append)
    return waited


FAILURES = [
    pytest.param(QueryFailed("the engine failed"), (500, "internal_error"), id="query-failed"),
    pytest.param(Thrown("An error occurred: kiroshi:disk_full", "disk_full"), (500, "internal_error"), id="thrown"),
    pytest.param(
        ServiceUnavailable("the database is unavailable", code="database_unavailable"),
        (503, "database_unavailable"),
        id="unreachable",
    ),
]


@pytest.mark.parametrize(("error", "answer"), FAILURES)
def test_a_purchase_the_database_fails_is_answered_as_a_failure_and_stores_nothing(
    monkeypatch: pytest.MonkeyPatch,
    client: Client,
    alice: Account,
    plan: dict[str, Any],
    waits: list[int],
    error: Exception,
    answer: tuple[int, str],
) -> None:
    tried = _failing(monkeypatch, client.services.db, error)

    bought = client.buy(alice.token, plan["plan_id"], "pay_1")

    assert (bought.status, bought.json["code"]) == answer
    if not isinstance(error, ServiceUnavailable):
        assert str(error) not in bought.body.decode()  # the cause is logged, never sent
    assert len(tried) == 1  # a failure is not a race: no retry
    assert waits == []
    assert _stored(client, alice.user_id) == {"contracts": [], "subscriber": None, "tombstones": []}


@pytest.mark.parametrize(("error", "answer"), FAILURES)
def test_a_refund_the_database_fails_is_answered_as_a_failure_and_refunds_nothing(
    monkeypatch: pytest.MonkeyPatch,
    client: Client,
    alice: Account,
    plan: dict[str, Any],
    waits: list[int],
    error: Exception,
    answer: tuple[int, str],
) -> None:
    first = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    client.buy(alice.token, plan["plan_id"], "pay_2")
    before = _stored(client, alice.user_id)
    tried = _failing(monkeypatch, client.services.db, error)

    refunded = _refund(client, alice, first["contract_id"])

    assert (refunded.status, refunded.json["code"]) == answer
    assert len(tried) == 1
    assert waits == []
    assert _stored(client, alice.user_id) == before
    monkeypatch.undo()
    shown = client.get(f"/subscriptions/contracts/{first['contract_id']}", token=alice.token).json
    assert (shown["status"], shown["refund_amount"]) == ("active", None)


@pytest.mark.parametrize(
    "race",
    [StaleWrite("kiroshi:stale", "stale"), TransactionConflict("conflict, can be retried"), RecordExists("exists")],
    ids=["stale", "conflict", "exists"],
)
def test_a_purchase_that_loses_every_race_gives_up_with_503_and_stores_nothing(
    monkeypatch: pytest.MonkeyPatch,
    client: Client,
    alice: Account,
    plan: dict[str, Any],
    waits: list[int],
    race: Exception,
) -> None:
    monkeypatch.setattr(purchases, "MAX_ATTEMPTS", 4)
    tried = _failing(monkeypatch, client.services.db, race)

    bought = client.buy(alice.token, plan["plan_id"], "pay_1")

    assert _problem(bought) == GAVE_UP
    assert (len(tried), waits) == (4, [0, 1, 2, 3])
    assert _stored(client, alice.user_id) == {"contracts": [], "subscriber": None, "tombstones": []}


@pytest.mark.parametrize(
    "race", [StaleWrite("kiroshi:stale", "stale"), TransactionConflict("conflict")], ids=["stale", "conflict"]
)
def test_a_refund_that_loses_every_race_gives_up_with_503_and_refunds_nothing(
    monkeypatch: pytest.MonkeyPatch,
    client: Client,
    alice: Account,
    plan: dict[str, Any],
    waits: list[int],
    race: Exception,
) -> None:
    contract = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    before = _stored(client, alice.user_id)
    monkeypatch.setattr(purchases, "MAX_ATTEMPTS", 3)
    tried = _failing(monkeypatch, client.services.db, race)

    refunded = _refund(client, alice, contract["contract_id"])

    assert _problem(refunded) == GAVE_UP
    assert (len(tried), waits) == (3, [0, 1, 2])
    assert _stored(client, alice.user_id) == before


def test_a_purchase_that_loses_one_race_decides_again_and_succeeds(
    monkeypatch: pytest.MonkeyPatch, client: Client, alice: Account, plan: dict[str, Any], waits: list[int]
) -> None:
    tried = _failing(monkeypatch, client.services.db, StaleWrite("kiroshi:stale", "stale"), times=2)

    bought = client.buy(alice.token, plan["plan_id"], "pay_1")

    assert bought.status == 201
    assert (len(tried), waits) == (3, [0, 1])
    assert [c["transaction_id"] for c in _stored(client, alice.user_id)["contracts"]] == ["pay_1"]


def test_a_refund_that_loses_one_race_decides_again_and_succeeds(
    monkeypatch: pytest.MonkeyPatch, client: Client, alice: Account, plan: dict[str, Any], waits: list[int]
) -> None:
    contract = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    tried = _failing(monkeypatch, client.services.db, TransactionConflict("conflict"), times=1)

    refunded = _refund(client, alice, contract["contract_id"])

    assert (refunded.status, refunded.json["ex_contract"]["status"]) == (200, "refunded")
    assert (len(tried), waits) == (2, [0])


@pytest.mark.parametrize(("attempt", "most"), [(0, 0.0005), (1, 0.001), (3, 0.004), (5, 0.016), (6, 0.02), (63, 0.02)])
def test_a_retry_waits_a_random_while_that_doubles_up_to_20_ms(
    monkeypatch: pytest.MonkeyPatch, attempt: int, most: float
) -> None:
    drawn: list[tuple[float, float]] = []
    slept: list[float] = []
    monkeypatch.setattr(purchases.random, "uniform", lambda low, high: drawn.append((low, high)) or high / 2)
    monkeypatch.setattr(purchases.time, "sleep", slept.append)

    purchases._backoff(attempt)

    assert drawn == [(0, most)]
    assert slept == [most / 2]


def _removed_on_first_read(
    monkeypatch: pytest.MonkeyPatch, client: Client, plan_id: str
) -> Callable[[Database, str], object]:
    """The plan is read as active, then removed (as the admin's DELETE does) before the purchase
    writes: the write finds it gone."""
    read = plans_repository.get_plan
    reads: list[str] = []

    def get_plan(db: Database, wanted: str) -> object:
        found = read(db, wanted)
        reads.append(wanted)
        if len(reads) == 1:
            plans_repository.remove_plan(db, plan_id, client.services.now())
        return found

    monkeypatch.setattr(plans_repository, "get_plan", get_plan)
    return get_plan


def test_a_plan_archived_mid_purchase_is_409_plan_archived(
    monkeypatch: pytest.MonkeyPatch, client: Client, alice: Account, bob: Account, plan: dict[str, Any]
) -> None:
    client.buy(bob.token, plan["plan_id"], "pay_bob")  # a live contract: removing the plan archives it
    _removed_on_first_read(monkeypatch, client, plan["plan_id"])

    bought = client.buy(alice.token, plan["plan_id"], "pay_alice")

    assert _problem(bought) == (409, "plan_archived", "this plan is archived and cannot be bought")
    assert _stored(client, alice.user_id)["contracts"] == []
    assert client.get(f"/subscriptions/plans/{plan['plan_id']}", token=alice.token).json["status"] == "archived"


def test_a_plan_deleted_mid_purchase_is_404_plan_not_found(
    monkeypatch: pytest.MonkeyPatch, client: Client, alice: Account, plan: dict[str, Any]
) -> None:
    _removed_on_first_read(monkeypatch, client, plan["plan_id"])

    bought = client.buy(alice.token, plan["plan_id"], "pay_alice")

    assert _problem(bought) == (404, "plan_not_found", "no such plan")
    assert _stored(client, alice.user_id) == {"contracts": [], "subscriber": None, "tombstones": []}


def test_a_contract_ends_at_exactly_its_end(
    client: Client, alice: Account, plan: dict[str, Any], clock: StoppedClock
) -> None:
    contract = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    assert (
        client.get("/auth", token=alice.token).json["metadata"]["subscription"]["contract_id"]
        == (
            contract["contract_id"]  # it started at this very instant
        )
    )
    clock.advance(30 * DAY)
    client.relogin(alice)

    refunded = _refund(client, alice, contract["contract_id"])

    assert _problem(refunded) == (409, "contract_expired", "this contract has ended; nothing is left to refund")
    assert client.get("/auth", token=alice.token).json["metadata"]["subscription"] is None


def test_a_contract_a_microsecond_from_its_end_is_refunded_nothing(
    client: Client, alice: Account, plan: dict[str, Any], clock: StoppedClock
) -> None:
    contract = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    clock.advance(30 * DAY - 0.000001)
    client.relogin(alice)

    refunded = _refund(client, alice, contract["contract_id"])

    assert refunded.status == 200
    assert (refunded.json["ex_contract"]["status"], refunded.json["ex_contract"]["refund_amount"]) == ("refunded", 0)


def test_refunding_a_contract_in_the_middle_moves_up_only_the_later_ones(
    client: Client, alice: Account, plan: dict[str, Any], clock: StoppedClock
) -> None:
    first, second, third = (client.buy(alice.token, plan["plan_id"], f"pay_{i}").json["contract"] for i in range(3))
    clock.advance(DAY)
    client.relogin(alice)

    refunded = _refund(client, alice, second["contract_id"]).json["ex_contract"]

    def shown(contract: dict[str, Any]) -> tuple[str, str, str]:
        now = client.get(f"/subscriptions/contracts/{contract['contract_id']}", token=alice.token).json
        return now["starts_at"], now["ends_at"], now["status"]

    assert (refunded["status"], refunded["refund_amount"]) == ("refunded", 30.0)
    assert (refunded["starts_at"], refunded["ends_at"]) == (second["starts_at"], second["starts_at"])
    assert shown(first) == (first["starts_at"], first["ends_at"], "active")
    assert shown(third) == (second["starts_at"], second["ends_at"], "scheduled")
    assert (
        client.get(f"/subscriptions/subscribers/{alice.user_id}", token=alice.token).json["paid_until"]
        == (second["ends_at"])
    )


def test_a_refund_whose_subscriber_is_gone_is_409_subscriber_missing(
    client: Client, alice: Account, plan: dict[str, Any]
) -> None:
    contract = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    client.services.db.query("DELETE $s", {"s": record("subscriber", alice.user_id)})

    refunded = _refund(client, alice, contract["contract_id"])

    assert _problem(refunded) == (409, "subscriber_missing", "the contract's subscriber is gone")
    assert client.services.db.one("SELECT VALUE refunded_at FROM contract") == [None]


def test_what_is_not_there_or_not_yours_says_so(
    client: Client, alice: Account, bob: Account, admin: Account, plan: dict[str, Any]
) -> None:
    contract = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    not_yours = (403, "forbidden", "this resource belongs to another user")

    assert _problem(_refund(client, alice, "no-such-contract")) == (404, "contract_not_found", "no such contract")
    assert _problem(client.get("/subscriptions/contracts/no-such-contract", token=alice.token)) == (
        404,
        "contract_not_found",
        "no such contract",
    )
    assert _problem(_refund(client, bob, contract["contract_id"])) == not_yours
    assert _problem(client.get(f"/subscriptions/contracts/{contract['contract_id']}", token=bob.token)) == not_yours
    assert _problem(client.get(f"/subscriptions/subscribers/{alice.user_id}", token=bob.token)) == not_yours
    assert _problem(client.get(f"/subscriptions/subscribers/{bob.user_id}", token=admin.token)) == (
        404,
        "subscriber_not_found",
        "no such subscriber",
    )
    assert _problem(client.buy(alice.token, "no-such-plan", "pay_2")) == (404, "plan_not_found", "no such plan")
    assert _refund(client, admin, contract["contract_id"]).status == 200
    assert _problem(_refund(client, alice, contract["contract_id"])) == (
        409,
        "already_refunded",
        "this contract was refunded already",
    )
    assert _problem(client.buy(bob.token, plan["plan_id"], "pay_1")) == (
        409,
        "transaction_id_reused",
        "this transaction id paid for another purchase",
    )


def test_a_refund_that_read_its_contract_before_another_refund_is_409_already_refunded(
    monkeypatch: pytest.MonkeyPatch, client: Client, alice: Account, admin: Account, plan: dict[str, Any]
) -> None:
    """The admin's refund commits between this refund's read of the contract and its read of the
    ledger head: the head is fresh, the contract is not, and the database refuses the second."""
    contract = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    read_head = purchases.subscribers.get_subscriber
    raced: list[Answer] = []

    def get_subscriber(db: Database, user_id: str) -> object:
        if not raced:
            raced.append(Answer(0, {}, b""))  # the admin's refund reads the head too: race once
            raced[0] = _refund(client, admin, contract["contract_id"])
        return read_head(db, user_id)

    monkeypatch.setattr(purchases.subscribers, "get_subscriber", get_subscriber)

    late = _refund(client, alice, contract["contract_id"])

    assert raced[0].status == 200
    assert _problem(late) == (409, "already_refunded", "this contract was refunded already")
    assert [r["refund_minor"] for r in _stored(client, alice.user_id)["contracts"]] == [3000]


def test_a_contract_that_vanishes_as_it_is_refunded_is_a_500_whose_cause_is_logged(
    monkeypatch: pytest.MonkeyPatch,
    client: Client,
    alice: Account,
    plan: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    contract = client.buy(alice.token, plan["plan_id"], "pay_1").json["contract"]
    read = purchases.contracts.get_contract

    def get_contract(db: Database, contract_id: str) -> object:
        found = read(db, contract_id)
        return None if found is not None and found.refunded_at is not None else found

    monkeypatch.setattr(purchases.contracts, "get_contract", get_contract)

    with caplog.at_level(logging.ERROR):
        answer = _refund(client, alice, contract["contract_id"])

    assert (answer.status, answer.json["code"]) == (500, "internal_error")
    assert "vanished" not in answer.body.decode()
    causes = [str(r.exc_info[1]) for r in caplog.records if r.exc_info]
    assert causes == ["the refunded contract vanished"]


class Verifier:
    """A payment provider that confirms every transaction but `pay_unpaid`; records what it is asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, str, str]] = []

    def verify(self, transaction_id: str, plan_id: str, plan: Any, user_id: str) -> Paid:
        self.asked.append((transaction_id, plan_id, user_id))
        if transaction_id == "pay_unpaid":
            raise PaymentRejected()
        return Paid(None)


def test_the_payment_provider_confirms_the_transaction_plan_and_buyer(
    client: Client, alice: Account, plan: dict[str, Any]
) -> None:
    verifier = client.services.payments = Verifier()

    unpaid = client.buy(alice.token, plan["plan_id"], "pay_unpaid")
    paid = client.buy(alice.token, plan["plan_id"], "pay_1")
    replayed = client.buy(alice.token, plan["plan_id"], "pay_1")

    assert _problem(unpaid) == (402, "payment_rejected", "the payment provider did not confirm this transaction")
    assert (paid.status, replayed.status) == (201, 200)
    assert verifier.asked == [("pay_unpaid", plan["plan_id"], alice.user_id), ("pay_1", plan["plan_id"], alice.user_id)]
    assert [c["transaction_id"] for c in _stored(client, alice.user_id)["contracts"]] == ["pay_1"]
