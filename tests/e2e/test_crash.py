"""Crash durability on embedded SurrealDB: SIGKILL during a thousand concurrent writes
(registrations and purchases), restart on the same data directory, and every acknowledged write
is there, nothing is duplicated, the ledger holds. Three rounds."""

from __future__ import annotations

import itertools
import random
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.support.runner import Runner

pytestmark = pytest.mark.e2e

ADMIN = "crash-admin@example.com"
PASSWORD = "crash test passphrase"
WRITES = 1000
http = httpx.Client(timeout=30, limits=httpx.Limits(max_connections=32))  # one client: no TLS setup per request


def _token(url: str, email: str) -> str:
    return str(http.post(f"{url}/users/login", json={"email": email, "password": PASSWORD}, timeout=30).json()["token"])


def _register(url: str, email: str) -> int:
    body = {"email": email, "nickname": "c", "name": "C", "surname": "C", "password": PASSWORD}
    return http.post(f"{url}/users/register", json=body, timeout=30).status_code


def _round(
    url: str, plan_id: str, buyers: list[str], tokens: dict[str, str], n: int
) -> tuple[list[str], list[tuple[str, str, str]]]:
    """Fire WRITES writes from 16 threads; return the acknowledged registrations and purchases."""
    registered: list[str] = []
    bought: list[tuple[str, str, str]] = []  # (buyer, transaction id, contract id)

    def write(i: int) -> None:
        try:
            if i % 10 == 0:
                email = f"r{n}-{i}@example.com"
                if _register(url, email) == 201:
                    registered.append(email)
            else:
                buyer, tx = buyers[i % len(buyers)], f"crash-{n}-{i}"
                answer = http.post(
                    f"{url}/subscriptions/buy",
                    headers={"Authorization": f"Bearer {tokens[buyer]}"},
                    json={"plan_id": plan_id, "transaction_id": tx},
                    timeout=30,
                )
                if answer.status_code == 201:
                    bought.append((buyer, tx, answer.json()["contract"]["contract_id"]))
        except httpx.TransportError:
            pass  # the process died under it: not acknowledged

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(write, range(WRITES)))
    return registered, bought


def test_acknowledged_writes_survive_sigkill_under_load(tmp_path: Path) -> None:
    env = {
        "KIROSHI_BOOTSTRAP_ADMIN_EMAIL": ADMIN,
        "KIROSHI_REGISTER_MAX_PER_ADDRESS": "100000",
        "KIROSHI_LOG_LEVEL": "WARNING",
    }
    runner = Runner(tmp_path, env).start()
    url = runner.url
    _register(url, ADMIN)
    admin = _token(url, ADMIN)
    plan_id = http.post(
        f"{url}/subscriptions/plans",
        headers={"Authorization": f"Bearer {admin}"},
        json={"price": 1.23, "duration": 1, "title": "Crash"},
    ).json()["plan"]["plan_id"]
    buyers = [f"buyer{i}@example.com" for i in range(8)]
    for email in buyers:
        _register(url, email)
    tokens = {email: _token(url, email) for email in buyers}
    all_registered: list[str] = []
    all_bought: list[tuple[str, str, str]] = []
    for n in range(3):
        killer = threading.Timer(random.uniform(0.6, 1.2), runner.kill)
        killer.start()
        registered, bought = _round(url, plan_id, buyers, tokens, n)
        killer.join()
        runner.stop()
        all_registered += registered
        all_bought += bought
        runner = Runner(tmp_path, env, port=runner.port).start()  # the database opens again
        assert registered or bought, "nothing was acknowledged before the kill: the round proved nothing"
    try:
        for email in all_registered:
            assert http.post(f"{url}/users/login", json={"email": email, "password": PASSWORD}).status_code == 200
        for buyer, tx, contract_id in all_bought:
            answer = http.get(
                f"{url}/subscriptions/contracts/{contract_id}", headers={"Authorization": f"Bearer {tokens[buyer]}"}
            )
            assert answer.status_code == 200 and answer.json()["transaction_id"] == tx
        contracts: list[dict[str, str]] = []
        cursor = None
        while True:
            page = http.get(
                f"{url}/subscriptions/contracts",
                headers={"Authorization": f"Bearer {admin}"},
                params={"limit": 200} | ({"cursor": cursor} if cursor else {}),
            ).json()
            contracts += page["contracts"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        transaction_ids = [c["transaction_id"] for c in contracts]
        assert len(transaction_ids) == len(set(transaction_ids))  # no duplicate purchase
        for buyer in buyers:  # periods never overlap
            user_id = _user_id(url, tokens[buyer])
            own = sorted((c for c in contracts if c["user_id"] == user_id), key=lambda c: c["starts_at"])
            for before, after in itertools.pairwise(own):
                assert before["ends_at"] <= after["starts_at"]
    finally:
        runner.stop()


def _user_id(url: str, token: str) -> str:
    return str(http.get(f"{url}/auth", headers={"Authorization": f"Bearer {token}"}).json()["user_id"])


@pytest.fixture(scope="module", autouse=True)
def _close_client() -> Iterator[None]:
    yield
    http.close()
