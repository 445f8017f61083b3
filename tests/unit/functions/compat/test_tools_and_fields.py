"""`POST /v1/chat/completions` passes the standard fields on, relays tool calls as the model server
streams them (whole when not streaming), and counts tool definitions and calls in its limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from lib.llm import Choice, Usage
from lib.services import Services
from tests.support.client import Account, Client
from tests.unit.functions.chats.session_harness import ScriptedModel

WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "weather",
        "description": "The weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
ASK = [{"role": "user", "content": "Weather in Paris?"}]
CALL_DELTAS = [
    [{"index": 0, "id": "call_1", "type": "function", "function": {"name": "weather", "arguments": ""}}],
    [{"index": 0, "function": {"arguments": '{"city":'}}],
    [{"index": 0, "function": {"arguments": ' "Paris"}'}}],
]
CALL = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Paris"}'}}


@dataclass
class ToolModel:
    """A model server that calls `weather` as OpenAI streams it, then answers with the tool's result."""

    adapter: str = "scripted-tools"
    requests: list[dict[str, Any]] = field(default_factory=list)

    def stream(self, *args: Any, **kwargs: Any) -> AsyncIterator[str | Usage]:
        raise AssertionError("the endpoint asks for choices")

    async def stream_choices(
        self, model: str, messages: list[dict[str, Any]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> AsyncIterator[str | Usage | Choice]:
        self.requests.append({"messages": messages, "max_tokens": max_tokens, "options": options})
        if messages[-1]["role"] == "tool":
            yield "It is "
            yield messages[-1]["content"]
            yield Choice(finish_reason="stop")
        else:
            for deltas in CALL_DELTAS:
                yield Choice(tool_calls=deltas)
            yield Choice(finish_reason="tool_calls")
        yield Usage(40, 9)

    async def close(self) -> None:
        return None


def _post(client: Client, user: Account, **body: Any) -> Any:
    return client.post("/v1/chat/completions", {"model": "gpt-4o-mini", **body}, token=user.token)


def test_a_tool_call_round_trip(services: Services, client: Client, alice: Account) -> None:
    services.model_client = model = ToolModel()

    called = _post(client, alice, messages=ASK, tools=[WEATHER], tool_choice="auto", parallel_tool_calls=False)

    assert called.status == 200, called
    choice = called.json["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"] == {"role": "assistant", "content": None, "tool_calls": [CALL]}
    assert model.requests[-1]["options"] == {"tools": [WEATHER], "tool_choice": "auto", "parallel_tool_calls": False}

    history = [*ASK, choice["message"], {"role": "tool", "tool_call_id": "call_1", "content": "sunny"}]
    answered = _post(client, alice, messages=history, tools=[WEATHER])

    assert answered.status == 200, answered
    assert answered.json["choices"][0]["message"] == {"role": "assistant", "content": "It is sunny"}
    assert answered.json["choices"][0]["finish_reason"] == "stop"
    assert model.requests[-1]["messages"][1:] == history[1:]  # the call and its result reach the model as sent


def test_streamed_tool_calls_are_relayed_as_sent(services: Services, client: Client, alice: Account) -> None:
    services.model_client = ToolModel()

    answer = _post(client, alice, messages=ASK, tools=[WEATHER], stream=True, stream_options={"include_usage": True})

    events = [orjson.loads(e.removeprefix(b"data: ")) for e in answer.body.split(b"\n\n") if e and b"[DONE]" not in e]
    choices = [e["choices"][0] for e in events if e["choices"]]
    assert [c["delta"]["tool_calls"] for c in choices if "tool_calls" in c["delta"]] == CALL_DELTAS
    assert choices[-1] == {"index": 0, "delta": {}, "finish_reason": "tool_calls"}
    assert events[-1]["usage"] == {"prompt_tokens": 40, "completion_tokens": 9, "total_tokens": 49}


def test_the_reply_limit_is_the_clients_capped_and_sent_under_its_name(
    make_services: Callable[..., Services],
) -> None:
    services = make_services(max_reply_tokens=16)
    services.model_client = model = ToolModel()
    client = Client(services)
    user = client.account()

    _post(client, user, messages=ASK, max_completion_tokens=5)
    _post(client, user, messages=ASK, max_tokens=10**6)
    _post(client, user, messages=ASK)

    limits = [(r["max_tokens"], {k: v for k, v in r["options"].items() if "tokens" in k}) for r in model.requests]
    assert limits == [(5, {"max_completion_tokens": 5}), (16, {"max_tokens": 16}), (16, {})]


def test_a_scripted_text_model_still_answers(services: Services, client: Client, alice: Account) -> None:
    services.model_client = ScriptedModel(words=3)

    answer = _post(client, alice, messages=ASK, max_completion_tokens=2, seed=7, logit_bias={"50256": -100})

    assert answer.json["choices"][0] == {
        "index": 0,
        "message": {"role": "assistant", "content": "w0 w1 "},
        "logprobs": None,
        "finish_reason": "stop",
    }


def test_tool_definitions_count_in_the_reservation(make_services: Callable[..., Services]) -> None:
    """Tools are part of the prompt: a quota the messages alone fit is refused with big definitions."""
    services = make_services(max_reply_tokens=16, free_token_quota=3_000)
    services.model_client = ToolModel()
    client = Client(services)
    user = client.account()
    big = {**WEATHER, "function": {**WEATHER["function"], "description": "x" * 1_500}}

    assert _post(client, user, messages=ASK, tools=[big]).status == 429
    assert _post(client, user, messages=ASK, tools=[WEATHER]).status == 200


def test_tool_calls_count_in_the_message_limit(make_services: Callable[..., Services]) -> None:
    client = Client(make_services(max_message_chars=100))
    user = client.account()
    long_call = {**CALL, "function": {"name": "weather", "arguments": "x" * 100}}

    answer = _post(client, user, messages=[*ASK, {"role": "assistant", "content": None, "tool_calls": [long_call]}])

    assert (answer.status, answer.json["error"]["param"]) == (422, "messages[1].tool_calls")


@dataclass
class CutShortModel(ToolModel):
    """Says one word with its logprobs, then stops at the length limit."""

    async def stream_choices(
        self, model: str, messages: list[dict[str, Any]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> AsyncIterator[str | Usage | Choice]:
        yield Choice("Hi", logprobs={"content": [{"token": "Hi", "logprob": -0.1, "bytes": [72, 105]}]})
        yield Choice(finish_reason="length")


def test_logprobs_and_the_finish_reason_come_through(services: Services, client: Client, alice: Account) -> None:
    services.model_client = CutShortModel()
    body = {"messages": ASK, "logprobs": True, "max_completion_tokens": 1}

    whole = _post(client, alice, **body).json["choices"][0]
    streamed = _post(client, alice, **body, stream=True)

    logprob = {"token": "Hi", "logprob": -0.1, "bytes": [72, 105]}
    assert whole["logprobs"] == {"content": [logprob], "refusal": None}
    assert (whole["message"]["content"], whole["finish_reason"]) == ("Hi", "length")
    events = [orjson.loads(e.removeprefix(b"data: ")) for e in streamed.body.split(b"\n\n") if e and b"[DONE]" not in e]
    assert events[1]["choices"][0] == {
        "index": 0,
        "delta": {"content": "Hi"},
        "finish_reason": None,
        "logprobs": {"content": [logprob]},
    }
    assert events[-1]["choices"][0]["finish_reason"] == "length"
