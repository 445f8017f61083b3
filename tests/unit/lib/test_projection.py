"""Answers are shaped by their `out` schema: what a handler adds by mistake never leaves, and the
JSON is the one `Schema.dump` would write."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from lib.accounts.schemas import ProfileOut
from lib.billing.contracts_repository import Contract
from lib.billing.schemas import ContractsPageOut
from lib.chats.schemas import ChatOut, ChatsPageOut
from lib.http import json
from lib.http.projection import projector

NOW = dt.datetime(2026, 11, 26, 13, 5, 14, 153_000, tzinfo=dt.UTC)
WHOLE_SECOND = dt.datetime(2026, 11, 26, 13, 5, 14, tzinfo=dt.UTC)


def _same_as_dump(schema: object, value: object) -> dict[str, object]:
    projected = json.loads(json.dumps(projector(schema)(value)))  # type: ignore[arg-type]
    assert projected == json.loads(json.dumps(schema.dump(value)))  # type: ignore[attr-defined]
    return projected  # type: ignore[no-any-return]


def test_undeclared_fields_are_dropped_at_every_depth() -> None:
    profile = {
        "user_id": "u1",
        "nickname": "n",
        "name": "N",
        "surname": "S",
        "email": "a@example.com",
        "password_hash": "$argon2id$secret",
        "metadata": {
            "role": "user",
            "created_at": NOW,
            "updated_at": WHOLE_SECOND,
            "last_login_at": None,
            "subscription": None,
            "tokens_valid_after": NOW,
        },
    }

    answer = _same_as_dump(ProfileOut(), profile)

    assert "password_hash" not in answer
    assert "tokens_valid_after" not in answer["metadata"]  # type: ignore[operator]
    assert answer["metadata"]["created_at"] == "2026-11-26T13:05:14.153000+00:00"  # type: ignore[index]
    assert answer["metadata"]["updated_at"] == "2026-11-26T13:05:14+00:00"  # type: ignore[index]


def test_lists_of_nested_objects_and_attributes_of_records() -> None:
    @dataclass
    class Message:
        message_id: str
        role: str
        content: str
        status: str
        created_at: dt.datetime
        usage: dict[str, int] | None
        secret: str = "kept inside"

    chat = {
        "chat_id": "c1",
        "model": "gpt-4o-mini",
        "title": "t",
        "created_at": NOW,
        "updated_at": NOW,
        "owner": "u1",
        "messages": [
            Message("m1", "user", "hi", "complete", NOW, None),
            Message("m2", "assistant", "hello", "complete", NOW, {"prompt_tokens": 3, "completion_tokens": 1}),
        ],
    }

    answer = _same_as_dump(ChatOut(), chat)

    assert "owner" not in answer
    assert [sorted(m) for m in answer["messages"]] == [  # type: ignore[attr-defined]
        ["content", "created_at", "message_id", "role", "status", "usage"]
    ] * 2


def test_a_page_keeps_its_cursor_and_only_declared_item_fields() -> None:
    item = {"chat_id": "c", "model": "m", "title": "t", "created_at": NOW, "updated_at": NOW, "message_count": 2}
    page = {"chats": [{**item, "internal": 1}], "next_cursor": None}

    assert _same_as_dump(ChatsPageOut(), page) == {"chats": [json.loads(json.dumps(item))], "next_cursor": None}


def test_an_answer_of_declared_keys_only_is_sent_as_it_is_and_extras_are_never_shared() -> None:
    project = projector(ProfileOut())
    metadata = {"role": "user", "created_at": NOW, "updated_at": NOW, "last_login_at": None, "subscription": None}
    exact = {"user_id": "u1", "nickname": "n", "name": "N", "surname": "S", "email": "a@example.com"}
    clean = {**exact, "metadata": metadata}

    assert project(clean) is clean

    leaky = {**exact, "metadata": {**metadata, "tokens_valid_after": NOW}}
    shaped = project(leaky)
    assert shaped is not leaky and "tokens_valid_after" in leaky["metadata"]  # the handler's dict is left alone
    assert "tokens_valid_after" not in shaped["metadata"]


def test_a_contract_shows_its_price_in_units_and_its_status_as_of_the_answers_instant() -> None:
    def contract(key: str, starts: int, refund_minor: int | None = None) -> Contract:
        return Contract(
            contract_id=key,
            user_id="u1",
            plan_id="p1",
            plan_title="Pro",
            transaction_id=f"pay_{key}",
            price_minor=999,
            currency="USD",
            duration_days=30,
            models=None,
            token_quota=None,
            starts_at=NOW + dt.timedelta(days=starts),
            ends_at=NOW + dt.timedelta(days=starts + 30),
            refunded_at=NOW if refund_minor is not None else None,
            refund_minor=refund_minor,
            created_at=NOW,
        )

    reads: list[dt.datetime] = []

    def clock() -> dt.datetime:
        reads.append(NOW)
        return NOW

    page = {"contracts": [contract("c1", -40), contract("c2", -1), contract("c3", 5), contract("c4", -1, 250)]}
    shaped = json.loads(json.dumps(projector(ContractsPageOut())(page | {"next_cursor": None}, clock)))

    assert [(c["status"], c["price"], c["refund_amount"]) for c in shaped["contracts"]] == [
        ("expired", 9.99, None),
        ("active", 9.99, None),
        ("scheduled", 9.99, None),
        ("refunded", 9.99, 2.5),
    ]
    assert shaped["contracts"][0]["duration"] == 30 and "price_minor" not in shaped["contracts"][0]
    assert len(reads) == 1  # one instant for the whole answer
