"""Reading records from rows (lib.db.records.from_row) next to the records' own constructors with
their values ready (the floor of a hand-written mapper per table, which called them), in one run.

    .venv/bin/python bench/records.py [--rounds 15]

Prints, per record, the CPU time of one mapping (the least of many runs) and the ratio.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lib.accounts.repository import User
from lib.billing.contracts_repository import Contract
from lib.chats.repository import Message
from lib.db.records import from_row, record

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
USER = {
    "id": record("user", "0" * 26),
    "email": "alice@example.com",
    "nickname": "nick",
    "name": "Ada",
    "surname": "Lovelace",
    "role": "user",
    "password_hash": "$argon2id$v=19$m=65536,t=3,p=4$" + "x" * 60,
    "created_at": NOW,
    "updated_at": NOW,
    "last_login_at": NOW,
}  # tokens_valid_after is NONE: absent, as SurrealDB answers it
CONTRACT = {
    "id": record("contract", "2" * 32),
    "user": record("user", "0" * 26),
    "plan_id": "p",
    "plan_title": "Pro",
    "transaction_id": "pay_1",
    "price_minor": 999,
    "currency": "USD",
    "duration_days": 30,
    "models": ["a", "b"],
    "starts_at": NOW,
    "ends_at": NOW,
    "created_at": NOW,
}
MESSAGE = {
    "id": record("message", "4" * 26),
    "chat": record("chat", "3" * 26),
    "seq": 1,
    "role": "user",
    "content": "hi",
    "status": "complete",
    "created_at": NOW,
}


def constructor(record_type: type, row: dict[str, Any]) -> Callable[[], Any]:
    """The record's own constructor with its values ready: the least any mapper that calls it costs."""
    values = vars(from_row(record_type, row))

    def construct() -> Any:
        return record_type(**values)

    return construct


def cpu_ns(work: Callable[[], Any], rounds: int) -> float:
    return min(timeit.Timer(work, timer=time.process_time).repeat(number=20_000, repeat=rounds)) / 20_000 * 1e9


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    cases: list[tuple[str, type, dict[str, Any]]] = [
        ("user", User, USER),
        ("contract", Contract, CONTRACT),
        ("message", Message, MESSAGE),
    ]
    for name, record_type, row in cases:
        construct = constructor(record_type, row)
        assert construct() == from_row(record_type, row), name
        baseline = cpu_ns(construct, rounds)
        measured = cpu_ns(lambda record_type=record_type, row=row: from_row(record_type, row), rounds)
        ratio = measured / baseline
        print(f"{name:9s} constructor {baseline:6.0f} ns   from_row {measured:6.0f} ns   ratio {ratio:.2f}")


if __name__ == "__main__":
    main()
