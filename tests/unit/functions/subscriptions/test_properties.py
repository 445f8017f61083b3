"""Property: any sequence of purchases, replays, refunds and passing time keeps the ledger whole."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.cache import MemoryCache
from lib.config import Secret, Settings
from lib.services import create_services
from tests.support.client import Client
from tests.support.clock import MovableClock
from tests.support.ledger import check_ledger

operations = st.lists(
    st.one_of(
        st.tuples(st.just("buy"), st.integers(0, 2)),  # which plan
        st.tuples(st.just("replay"), st.integers(0, 50)),  # which earlier transaction
        st.tuples(st.just("refund"), st.integers(0, 50)),  # which contract
        st.tuples(st.just("wait"), st.integers(1, 24 * 40)),  # hours
    ),
    min_size=1,
    max_size=25,
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_random_histories_keep_the_invariants(tmp_path: Path, ops: list[tuple[str, int]]) -> None:
    clock = MovableClock()
    config = Settings(
        data_dir=tmp_path,
        database_url="mem://",
        jwt_secret=Secret("p" * 64),
        bootstrap_admin_email="root@example.com",
        jwt_ttl_seconds=3600 * 24 * 365 * 5,
    )
    services = create_services(config, clock=clock, cache=MemoryCache(monotonic=clock.monotonic))
    try:
        client = Client(services)
        admin, user = client.account("root@example.com"), client.account("user@example.com")
        plans = [
            client.create_plan(admin.token, price=price, duration=days)
            for price, days in ((9.99, 30), (0.01, 1), (1000, 365))
        ]
        bought: list[tuple[str, str]] = []  # (transaction id, plan id)
        contracts: list[dict[str, object]] = []
        paid = 0
        for op, n in ops:
            if op == "buy":
                tx = f"tx-{len(bought)}"
                answer = client.buy(user.token, plans[n]["plan_id"], tx)
                assert answer.status == 201, answer
                bought.append((tx, plans[n]["plan_id"]))
                contracts.append(answer.json["contract"])
                paid += round(plans[n]["price"] * 100)
            elif op == "replay" and bought:
                tx, plan_id = bought[n % len(bought)]
                answer = client.buy(user.token, plan_id, tx)
                assert answer.status == 200
                assert answer.json["contract"]["transaction_id"] == tx
            elif op == "refund" and contracts:
                answer = client.post(
                    "/subscriptions/refund", {"contract": contracts[n % len(contracts)]}, token=user.token
                )
                assert answer.status in (200, 409), answer
            elif op == "wait":
                clock.advance(3600 * n)
            rows = check_ledger(services.db, user.user_id)
            assert len(rows) == len(bought)
            assert sum(r.get("refund_minor") or 0 for r in rows) <= paid
    finally:
        services.close()
