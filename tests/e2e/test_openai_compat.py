"""The OpenAI-compatible endpoints, driven by the official openai package as the client."""

from __future__ import annotations

import httpx
import openai
import pytest

from tests.e2e.conftest import _buy, _plan
from tests.support.chat import ChatUser
from tests.support.fake_openai import FakeOpenAI
from tests.support.runner import Runner

pytestmark = pytest.mark.e2e


@pytest.fixture
def user(runner: Runner) -> ChatUser:
    return ChatUser.create(runner.url)


def _client(runner: Runner, token: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{runner.url}/v1", api_key=token, max_retries=0)


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
    with pytest.raises(openai.AuthenticationError):
        _client(runner, "not-a-token").chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )


def test_models_outside_the_plan_are_refused(runner: Runner, admin: ChatUser, user: ChatUser) -> None:
    _buy(runner, user, _plan(runner, admin, models=["small-model"]))

    with pytest.raises(openai.UnprocessableEntityError):
        _client(runner, user.token).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}]
        )
    assert [m.id for m in _client(runner, user.token).models.list().data] == ["small-model"]


def test_the_quota_applies_here_too(runner: Runner, admin: ChatUser, user: ChatUser, fake: FakeOpenAI) -> None:
    _buy(runner, user, _plan(runner, admin, token_quota=50))
    calls = len(fake.requests)

    with pytest.raises(openai.RateLimitError):
        _client(runner, user.token).chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=100
        )
    assert len(fake.requests) == calls


def test_upstream_failures_are_502_problems(runner: Runner, user: ChatUser) -> None:
    answer = httpx.post(
        f"{runner.url}/v1/chat/completions",
        headers=user.auth,
        json={"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "[error=500]"}]},
    )

    assert answer.status_code == 502
    assert answer.headers["content-type"] == "application/problem+json"


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
