"""Backups of the embedded database while it serves: `python -m local_runner backup FILE` during
concurrent registrations and purchases, `restore FILE` into a fresh directory, and a runner on it
has every write acknowledged before the backup started, a consistent ledger, and logins that work."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from lib.config import Settings
from lib.db.connection import Database, open_database
from lib.db.records import record
from tests.support.ledger import check_ledger
from tests.support.runner import ROOT, Runner

pytestmark = pytest.mark.e2e

ADMIN = "backup-admin@example.com"
PASSWORD = "backup test passphrase"
ENV = {"KIROSHI_BOOTSTRAP_ADMIN_EMAIL": ADMIN, "KIROSHI_REGISTER_MAX_PER_ADDRESS": "100000"}


def cli(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **ENV, "KIROSHI_DATA_DIR": str(data_dir), "KIROSHI_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-m", "local_runner", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


class Writers:
    """Threads registering accounts and buying plans until stopped; each acknowledged write is
    kept with the moment its answer arrived."""

    def __init__(self, url: str, plan_id: str, tokens: dict[str, str]) -> None:
        self.url, self.plan_id, self.tokens = url, plan_id, tokens
        self.registered: list[tuple[float, str]] = []
        self.bought: list[tuple[float, str, str]] = []  # (when, buyer, contract id)
        self._stop = threading.Event()
        self._http = httpx.Client(timeout=30)
        self._pool = ThreadPoolExecutor(max_workers=6)
        self._jobs = [self._pool.submit(self._write, n) for n in range(6)]

    def _write(self, n: int) -> None:
        buyers = sorted(self.tokens)
        for i in range(1_000_000):
            if self._stop.is_set():
                return
            if n == 0:  # registrations hash a password (~50 ms): one thread of them is plenty
                email = f"w{i}@example.com"
                body = {"email": email, "nickname": "w", "name": "W", "surname": "W", "password": PASSWORD}
                if self._http.post(f"{self.url}/users/register", json=body).status_code == 201:
                    self.registered.append((time.monotonic(), email))
                continue
            buyer = buyers[(n + i) % len(buyers)]
            answer = self._http.post(
                f"{self.url}/subscriptions/buy",
                headers={"Authorization": f"Bearer {self.tokens[buyer]}"},
                json={"plan_id": self.plan_id, "transaction_id": f"tx-{n}-{i}"},
            )
            if answer.status_code == 201:
                self.bought.append((time.monotonic(), buyer, answer.json()["contract"]["contract_id"]))

    def stop(self) -> None:
        self._stop.set()
        for job in self._jobs:
            job.result()
        self._pool.shutdown()
        self._http.close()


def _login(url: str, email: str) -> httpx.Response:
    return httpx.post(f"{url}/users/login", json={"email": email, "password": PASSWORD}, timeout=30)


def _setup(url: str) -> tuple[str, dict[str, str]]:
    """A plan and four buyers with tokens."""
    for email in [ADMIN, *(f"buyer{i}@example.com" for i in range(4))]:
        body = {"email": email, "nickname": "b", "name": "B", "surname": "B", "password": PASSWORD}
        assert httpx.post(f"{url}/users/register", json=body, timeout=30).status_code == 201
    admin = _login(url, ADMIN).json()["token"]
    plan = httpx.post(
        f"{url}/subscriptions/plans",
        headers={"Authorization": f"Bearer {admin}"},
        json={"price": 2.5, "duration": 1, "title": "Backup"},
        timeout=30,
    ).json()["plan"]
    tokens = {f"buyer{i}@example.com": _login(url, f"buyer{i}@example.com").json()["token"] for i in range(4)}
    return str(plan["plan_id"]), tokens


def _consistent(db: Database) -> None:
    """The invariants a torn copy would break: a contract's tombstone, a user's e-mail guard, a buyer's ledger."""
    contracts = db.one("SELECT VALUE meta::id(id) FROM contract")
    tombstones = set(db.one("SELECT VALUE meta::id(id) FROM transaction_tombstone"))
    assert contracts and set(contracts) <= tombstones
    users = db.one("SELECT id, email FROM user")
    guarded = {str(row["user"]) for row in db.one("SELECT user FROM email_guard")}
    assert {str(row["id"]) for row in users} == guarded
    for buyer in db.one("SELECT VALUE meta::id(id) FROM user WHERE email CONTAINS 'buyer'"):
        check_ledger(db, buyer)


def test_a_backup_taken_under_writes_restores_every_acknowledged_write(tmp_path: Path) -> None:
    source, target, backup = tmp_path / "source", tmp_path / "target", tmp_path / "kiroshi.backup"
    runner = Runner(source, ENV).start()
    try:
        plan_id, tokens = _setup(runner.url)
        writers = Writers(runner.url, plan_id, tokens)
        time.sleep(1.5)
        started = time.monotonic()
        taken = cli(source, "backup", str(backup))
        finished = time.monotonic()
        time.sleep(0.3)
        writers.stop()
    finally:
        runner.stop()
    assert taken.returncode == 0, taken.stderr
    assert os.stat(backup).st_mode & 0o077 == 0  # the owner's only: it holds every account
    before = {email for when, email in writers.registered if when < started}
    bought_before = {(buyer, contract) for when, buyer, contract in writers.bought if when < started}
    acknowledged = [when for when, _ in writers.registered] + [when for when, _, _ in writers.bought]
    during = [when for when in acknowledged if started <= when <= finished]
    assert before and bought_before and during, "writes must be acknowledged before and while the backup runs"

    refused = cli(source, "restore", str(backup))
    assert refused.returncode == 1 and "not empty" in refused.stderr
    offline = cli(source, "backup", str(tmp_path / "offline.backup"))  # no runner: the command reads it itself
    assert offline.returncode == 0, offline.stderr
    restored = cli(target, "restore", str(backup))
    assert restored.returncode == 0, restored.stderr

    runner = Runner(target, ENV).start()
    try:
        locked = cli(target, "restore", str(backup))
        assert locked.returncode == 2 and "in use" in locked.stderr
        for email in sorted(before)[:3]:  # a backed-up account logs in (a new data dir: a new JWT secret)
            assert _login(runner.url, email).status_code == 200
        buyer, contract_id = min(bought_before)
        token = _login(runner.url, buyer).json()["token"]
        answer = httpx.get(
            f"{runner.url}/subscriptions/contracts/{contract_id}", headers={"Authorization": f"Bearer {token}"}
        )
        assert answer.status_code == 200
    finally:
        runner.stop()

    db = open_database(Settings(data_dir=target, database_url=f"surrealkv://{target}/kiroshi"))
    try:
        emails = set(db.one("SELECT VALUE email FROM user"))
        assert before <= emails
        contracts = set(db.one("SELECT VALUE meta::id(id) FROM contract"))
        assert {contract for _, contract in bought_before} <= contracts
        _consistent(db)
        assert db.one("SELECT VALUE user FROM ONLY $c", {"c": record("contract", contract_id)}) is not None
    finally:
        db.close()
