"""`POST /v1/chat/completions` cannot spend more than the quota, alone or with concurrent
requests, however its text tokenizes; its messages are capped as on the chat session."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from lib.chats.repository import usage_key
from lib.db.records import record
from lib.services import Services
from tests.support.client import Account, Client
from tests.unit.functions.chats.session_harness import ScriptedModel

MAX_REPLY = 16
EUROS = "€" * 1000  # 1,000 characters, 3,000 UTF-8 bytes: a byte-level tokenizer may make it 3,000 tokens


def _user(make_services: Callable[..., Services], model: ScriptedModel, **settings: Any) -> tuple[Client, Account]:
    services = make_services(max_reply_tokens=MAX_REPLY, **settings)
    services.model_client = model
    client = Client(services)
    return client, client.account()


def _ask(client: Client, user: Account, *contents: str) -> Any:
    messages = [{"role": "user", "content": c} for c in contents]
    return client.post("/v1/chat/completions", {"model": "gpt-4o-mini", "messages": messages}, token=user.token)


def _used(client: Client, user: Account) -> int:
    services = client.services
    month = services.now().replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    used = services.db.one("SELECT VALUE used FROM ONLY $u", {"u": record("usage", usage_key(user.user_id, month))})
    return int(used or 0)


def test_one_request_cannot_spend_more_than_the_quota(make_services: Callable[..., Services]) -> None:
    client, user = _user(make_services, ScriptedModel(words=MAX_REPLY), free_token_quota=2_000)

    refused = _ask(client, user, EUROS)

    assert (refused.status, refused.json["error"]["code"]) == (429, "insufficient_quota")
    assert _used(client, user) == 0
    assert _ask(client, user, "a short question").status == 200
    assert 0 < _used(client, user) <= 2_000


def test_concurrent_requests_cannot_overspend_together(make_services: Callable[..., Services]) -> None:
    """Each reserves its worst case (3,032 tokens) before the model answers, ~50 ms later: of ten
    at once, three fit 10,000 tokens, and what they report (3,023 each) is what they used."""
    client, user = _user(make_services, ScriptedModel(words=MAX_REPLY, delay=0.003), free_token_quota=10_000)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(lambda _: _ask(client, user, EUROS), range(10)))

    assert Counter(a.status for a in answers) == {200: 3, 429: 7}, answers
    assert sum(a.json["usage"]["total_tokens"] for a in answers if a.status == 200) == _used(client, user)
    assert _used(client, user) <= 10_000


def test_a_stream_settles_with_the_reported_usage(make_services: Callable[..., Services]) -> None:
    client, user = _user(make_services, ScriptedModel(words=MAX_REPLY))
    body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": EUROS}], "stream": True}

    answer = client.post("/v1/chat/completions", body, token=user.token)

    assert answer.status == 200
    assert _used(client, user) == 3 + 3000 + 4 + MAX_REPLY  # what the model said, not the reservation


def test_a_message_over_the_limit_is_422_and_names_it(make_services: Callable[..., Services]) -> None:
    model = ScriptedModel()
    client, user = _user(make_services, model, max_message_chars=100)

    answer = _ask(client, user, "fine", "x" * 101)

    assert answer.status == 422
    assert answer.json["error"]["param"] == "messages[1].content"
    assert answer.json["error"]["message"] == "messages[1].content: at most 100 characters"
    assert model.requests == []
    assert _ask(client, user, "fine", "x" * 100).status == 200


def test_a_request_over_one_message_and_the_context_budget_is_413(make_services: Callable[..., Services]) -> None:
    model = ScriptedModel()
    client, user = _user(make_services, model, max_message_chars=100, context_tokens=300)

    refused = _ask(client, user, *["x" * 100] * 5)  # 500 characters; at most 100 + 300

    assert (refused.status, refused.json["error"]["code"]) == (413, "context_length_exceeded")
    assert model.requests == []
    assert _ask(client, user, *["x" * 100] * 4).status == 200


@pytest.mark.parametrize("content", ["€", "😀", "a", "\U0010ffff"])
def test_the_reservation_covers_any_text(make_services: Callable[..., Services], content: str) -> None:
    """A quota that fits exactly the reservation's bound is enough for what the model reports."""
    text = content * 50
    bound = 8 + len(text.encode()) + 8 + MAX_REPLY
    client, user = _user(make_services, ScriptedModel(words=MAX_REPLY), free_token_quota=bound)

    answer = _ask(client, user, text)

    assert answer.status == 200, answer
    assert _used(client, user) <= bound
