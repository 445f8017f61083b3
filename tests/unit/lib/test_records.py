"""Records read from rows as the database answers them: ids and links become their keys, absent
NONE columns become None, arrays become tuples, columns a record does not keep are left behind."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from lib.accounts.repository import User
from lib.billing.contracts_repository import Contract
from lib.chats.repository import Message
from lib.db.records import from_row, from_rows, record

NOW = dt.datetime(2026, 11, 26, 13, 5, 14, 153_000, tzinfo=dt.UTC)
USER_ROW = {
    "id": record("user", "u1"),
    "email": "a@example.com",
    "nickname": "n",
    "name": "N",
    "surname": "S",
    "role": "user",
    "password_hash": "$argon2id$hash",
    "created_at": NOW,
    "updated_at": NOW,
}  # last_login_at and tokens_valid_after are NONE: SurrealDB leaves them out
CONTRACT_ROW = {
    "id": record("contract", "c1"),
    "user": record("user", "u1"),
    "plan_id": "p1",
    "plan_title": "Pro",
    "transaction_id": "pay_1",
    "price_minor": 999,
    "currency": "USD",
    "duration_days": 30,
    "models": ["a", "b"],
    "token_quota": None,
    "starts_at": NOW,
    "ends_at": NOW + dt.timedelta(days=30),
    "created_at": NOW,
}


def test_a_row_becomes_its_record_with_keys_for_ids_and_none_for_absent_columns() -> None:
    user = from_row(User, USER_ROW)

    assert user == User(
        user_id="u1",
        email="a@example.com",
        nickname="n",
        name="N",
        surname="S",
        role="user",
        created_at=NOW,
        updated_at=NOW,
        last_login_at=None,
        tokens_valid_after=None,
        password_hash="$argon2id$hash",
    )
    assert user is not None and dataclasses.replace(user, role="admin").is_admin  # a real record: it copies


def test_links_become_their_keys_and_arrays_tuples() -> None:
    contract = from_row(Contract, CONTRACT_ROW)

    assert contract is not None
    assert (contract.contract_id, contract.user_id) == ("c1", "u1")
    assert contract.models == ("a", "b")
    assert (contract.token_quota, contract.refunded_at, contract.refund_minor) == (None, None, None)


def test_columns_the_record_does_not_keep_are_left_behind() -> None:
    row = {
        "id": record("message", "m1"),
        "chat": record("chat", "c1"),
        "seq": 3,
        "role": "assistant",
        "content": "hi",
        "status": "complete",
        "usage": {"prompt_tokens": 1, "completion_tokens": 2},
        "created_at": NOW,
    }

    (message,) = from_rows(Message, [row])

    assert vars(message) == {
        "message_id": "m1",
        "role": "assistant",
        "content": "hi",
        "status": "complete",
        "usage": {"prompt_tokens": 1, "completion_tokens": 2},
        "created_at": NOW,
    }


@pytest.mark.parametrize("missing", ["id", "email", "created_at"])
def test_a_row_without_a_required_column_is_an_error(missing: str) -> None:
    row = {k: v for k, v in USER_ROW.items() if k != missing}

    with pytest.raises(KeyError, match=missing):
        from_row(User, row)


def test_no_row_is_no_record() -> None:
    assert from_row(User, None) is None
    assert from_row(User, {}) is None
    assert from_rows(User, None) == []
