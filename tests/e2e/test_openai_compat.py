"""The OpenAI-compatible endpoints, driven by the official openai package as the client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from openai.lib.streaming.chat import ChunkEvent

from tests.e2e.conftest import _buy, _plan
from tests.support.chat import ChatUser
from tests.support.fake_openai import FakeOpenAI
from tests.support.runner import Runner

pytestmark = pytest.mark.e2e


@pytest.fixture
def user(runner: Runner) -> ChatUser:
    return ChatUser.create(runner.url)


_clients: list[openai.OpenAI] = []


@pytest.fixture(autouse=True)
def _close_clients() -> Iterator[None]:
    yield
    while _clients:
        _clients.pop().close()


def _client(runner: Runner, token: str, max_retries: int = 0) -> openai.OpenAI:
    _clients.append(openai.OpenAI(base_url=f"{runner.url}/v1", api_key=token, max_retries=max_retries))
    return _clients[-1]


def test_models_lists_what_the_plan_allows(runner: Runner, user: ChatUser) -> None:
    models = _client(runner, user.token).models.list()
    assert [m.id for m in models.data] == ["gpt-4o-mini", "small-model"]


def test_a_streamed_completion_arrives_in_order_with_usage(runner: Runner, user: ChatUser) -> None:
    stream = _client(runner, user.token).chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello [tokens=6]"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Kiroshi streams every token as soon"
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    usage = chunks[-1].usage
    assert usage is not None and usage.completion_tokens == 6 and usage.prompt_tokens > 0


def test_a_whole_completion_and_its_usage_is_counted(runner: Runner, user: ChatUser, fake: FakeOpenAI) -> None:
    answer = _client(runner, user.token).chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Hi [tokens=3]"}], temperature=0.2, max_tokens=50
    )

    assert answer.choices[0].message.content == "Kiroshi streams every"
    assert answer.usage is not None and answer.usage.completion_tokens == 3
    assert fake.requests[-1]["temperature"] == 0.2
    assert fake.requests[-1]["max_tokens"] == 50


def test_a_kiroshi_token_is_required(runner: Runner) -> None:
    with pytest.raises(openai.AuthenticationError) as refused:
        _client(runner, "not-a-token").chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )

    assert refused.value.code == "invalid_api_key"
    assert refused.value.message.startswith("Error code: 401 - ") and "token" in refused.value.message


def test_models_outside_the_plan_are_refused(runner: Runner, admin: ChatUser, user: ChatUser) -> None:
    _buy(runner, user, _plan(runner, admin, models=["small-model"]))

    with pytest.raises(openai.NotFoundError) as refused:
        _client(runner, user.token).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert (refused.value.code, refused.value.param) == ("model_not_found", "model")
    assert "gpt-4o-mini" in str(refused.value) and "small-model" in str(refused.value)
    assert [m.id for m in _client(runner, user.token).models.list().data] == ["small-model"]


def test_the_quota_applies_here_too(runner: Runner, admin: ChatUser, user: ChatUser, fake: FakeOpenAI) -> None:
    _buy(runner, user, _plan(runner, admin, token_quota=50))
    calls = len(fake.requests)

    with pytest.raises(openai.RateLimitError) as refused:
        # The SDK's default retries: Kiroshi's answer tells it not to (x-should-retry: false).
        _client(runner, user.token, max_retries=2).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=100
        )
    assert refused.value.code == "insufficient_quota"
    assert refused.value.body == {
        "message": "your token quota for this period is used up",
        "type": "insufficient_quota",
        "param": None,
        "code": "insufficient_quota",
    }
    assert len(fake.requests) == calls


def test_upstream_failures_are_502_server_errors(runner: Runner, user: ChatUser) -> None:
    with pytest.raises(openai.InternalServerError) as failed:
        _client(runner, user.token).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "[error=500]"}]
        )

    assert failed.value.status_code == 502
    assert failed.value.response.headers["content-type"] == "application/json"
    assert (failed.value.type, failed.value.code) == ("server_error", "upstream_error")


def test_invalid_fields_are_named_with_their_reason(runner: Runner, user: ChatUser) -> None:
    with pytest.raises(openai.UnprocessableEntityError) as refused:
        _client(runner, user.token).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], n=2, temperature=7
        )

    assert str(refused.value) == (
        "Error code: 422 - temperature: Must be greater than or equal to 0 and less than or equal to 2; "
        "n: only 1: Kiroshi answers one choice"
    )
    assert refused.value.param == "temperature"


@pytest.mark.parametrize(
    "body",
    [
        {"model": "gpt-4o-mini"},
        {"model": "gpt-4o-mini", "messages": []},
        {"model": "gpt-4o-mini", "messages": [{"role": "wizard", "content": "x"}]},
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "n": 2},
        {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "x"}], "tools": []},
    ],
)
def test_bad_requests_are_422(runner: Runner, user: ChatUser, body: dict[str, object]) -> None:
    answer = httpx.post(f"{runner.url}/v1/chat/completions", headers=user.auth, json=body)
    assert answer.status_code == 422
    assert answer.json()["error"]["type"] == "invalid_request_error"
    assert answer.json()["error"]["param"].split("[")[0] in body.keys() | {"messages"}


WEATHER: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


def test_a_tool_call_round_trip(runner: Runner, user: ChatUser, fake: FakeOpenAI) -> None:
    client = _client(runner, user.token)
    messages: list[Any] = [{"role": "user", "content": "Paris"}]

    called = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER])

    choice = called.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert fake.requests[-1]["tools"] == [WEATHER]

    messages += [choice.message, {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"}]
    answered = client.chat.completions.create(model="gpt-4o-mini", messages=messages, tools=[WEATHER])

    assert answered.choices[0].message.content == "The tool said: sunny, 21 C"
    assert answered.choices[0].finish_reason == "stop"
    assert fake.requests[-1]["messages"][1]["tool_calls"][0]["id"] == call.id


def test_a_streamed_tool_call_round_trip(runner: Runner, user: ChatUser, fake: FakeOpenAI) -> None:
    """Two calls at once, their deltas relayed as the model server sent them, assembled by the SDK."""
    client = _client(runner, user.token)
    tools: list[Any] = [WEATHER, {"type": "function", "function": {"name": "get_time"}}]
    messages: list[Any] = [{"role": "user", "content": "Paris [calls=2]"}]

    with client.chat.completions.stream(model="gpt-4o-mini", messages=messages, tools=tools) as stream:
        deltas = [e.chunk.choices[0].delta for e in stream if isinstance(e, ChunkEvent) and e.chunk.choices]
        called = stream.get_final_completion()

    parts = [p.model_dump(exclude_none=True) for d in deltas for p in d.tool_calls or ()]
    assert parts[:2] == [
        {"index": 0, "id": parts[0]["id"], "type": "function", "function": {"name": "get_weather", "arguments": ""}},
        {"index": 0, "function": {"arguments": '{"city":'}},
    ]
    choice = called.choices[0]
    assert choice.finish_reason == "tool_calls"
    calls = choice.message.tool_calls or []
    assert [(c.function.name, json.loads(c.function.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"}),
        ("get_time", {"input": "Paris"}),
    ]

    results = [{"role": "tool", "tool_call_id": c.id, "content": f"result {i}"} for i, c in enumerate(calls)]
    history: list[Any] = [*messages, choice.message.model_dump(exclude_none=True), *results]
    chunks = list(client.chat.completions.create(model="gpt-4o-mini", messages=history, tools=tools, stream=True))

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "The tool said: result 1"
    assert [m["role"] for m in fake.requests[-1]["messages"]] == ["user", "assistant", "tool", "tool"]


def test_the_standard_fields_pass_through(runner: Runner, user: ChatUser, fake: FakeOpenAI) -> None:
    answer = _client(runner, user.token).chat.completions.create(
        model="gpt-4o-mini",
        messages=[{"role": "developer", "content": "Answer in JSON."}, {"role": "user", "content": "hi [tokens=2]"}],
        response_format={"type": "json_object"},
        max_completion_tokens=40,
        seed=7,
        user="end-user-1",
        logit_bias={"50256": -100},
        n=1,
    )

    assert answer.choices[0].message.content == "Kiroshi streams"
    sent = fake.requests[-1]
    assert {k: sent[k] for k in ("response_format", "max_completion_tokens", "seed", "user", "logit_bias")} == {
        "response_format": {"type": "json_object"},
        "max_completion_tokens": 40,
        "seed": 7,
        "user": "end-user-1",
        "logit_bias": {"50256": -100.0},
    }
    assert "max_tokens" not in sent and "n" not in sent


@pytest.fixture(scope="module")
def picky(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Runner, FakeOpenAI]]:
    """A runner before a model server whose `o-new` refuses `max_tokens` (as OpenAI's reasoning
    models) and whose `old-model` refuses `stream_options` and `max_completion_tokens`: its own,
    for the runner remembers what each model refused."""
    fake = FakeOpenAI(new_models=frozenset({"o-new"}), old_models=frozenset({"old-model"})).serve_in_thread()
    env = {
        "OPENAI_BASE_URL": fake.base_url,
        "OPENAI_API_KEY": "test-key",
        "KIROSHI_MODELS": "o-new,old-model",
        "KIROSHI_REGISTER_MAX_PER_ADDRESS": "10000",
    }
    runner = Runner(Path(tmp_path_factory.mktemp("picky")), env).start()
    yield runner, fake
    runner.stop()
    fake.stop()


def test_max_tokens_is_not_sent_unasked(picky: tuple[Runner, FakeOpenAI]) -> None:
    runner, fake = picky
    client = _client(runner, ChatUser.create(runner.url, model="o-new").token)

    answer = client.chat.completions.create(model="o-new", messages=[{"role": "user", "content": "hi [tokens=3]"}])

    assert answer.choices[0].message.content == "Kiroshi streams every"
    assert "max_tokens" not in fake.requests[-1]
    assert fake.requests[-1]["max_completion_tokens"] == 1024  # KIROSHI_MAX_REPLY_TOKENS's default
    calls = len(fake.requests)

    # A client that sends max_tokens anyway: refused once, then sent as max_completion_tokens.
    asked = client.chat.completions.create(
        model="o-new", messages=[{"role": "user", "content": "hi [tokens=9]"}], max_tokens=2
    )
    again = client.chat.completions.create(
        model="o-new", messages=[{"role": "user", "content": "hi [tokens=9]"}], max_tokens=2
    )

    assert asked.choices[0].message.content == again.choices[0].message.content == "Kiroshi streams"
    assert [("max_tokens" in r, r.get("max_completion_tokens")) for r in fake.requests[calls:]] == [
        (True, None),
        (False, 2),
        (False, 2),  # remembered: no second refusal
    ]


def test_a_server_without_stream_options_is_settled_by_the_bound(picky: tuple[Runner, FakeOpenAI]) -> None:
    runner, fake = picky
    client = _client(runner, ChatUser.create(runner.url, model="old-model").token)

    chunks = list(
        client.chat.completions.create(
            model="old-model",
            messages=[{"role": "user", "content": "hi [tokens=4]"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Kiroshi streams every token"
    sent = fake.requests[-1]
    assert "stream_options" not in sent and sent["max_tokens"] == 1024
    usage = chunks[-1].usage
    assert usage is not None
    assert usage.completion_tokens == len(b"Kiroshi streams every token")  # its bytes: the most it can be


def test_a_body_too_large_for_the_runner_is_an_openai_error(runner: Runner, user: ChatUser) -> None:
    """Refused while the runner reads it, before the dispatch sees the request."""
    answer = httpx.post(
        f"{runner.url}/v1/chat/completions",
        headers={**user.auth, "content-type": "application/json"},
        content=b" " * (2 * 1024 * 1024),
    )

    assert (answer.status_code, answer.headers["content-type"]) == (413, "application/json")
    assert answer.json()["error"]["code"] == "body_too_large"
