"""The router serves each model of the catalogue from its own upstream under the provider's name,
without the parameters it refuses; falls back before the first token, never after; says which
model served; and stops sending requests to a failing upstream for a while. Against two fake
providers on real sockets and a port where nothing listens."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from lib.errors import BadGateway
from lib.llm import LLM, Choice, Served, Usage, served_by
from lib.llm.catalogue import Catalogue, Upstream, parse_catalogue
from lib.llm.openai import OpenAICompatible
from lib.llm.router import Router
from tests.support.clock import StoppedClock
from tests.support.fake_providers import FakeProvider
from tests.support.runner import free_port

T = TypeVar("T")


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[FakeProvider, FakeProvider]]:
    primary = FakeProvider(tokens=4, new_models=frozenset({"o3-mini"})).serve_in_thread()
    backup = FakeProvider(tokens=4).serve_in_thread()
    yield primary, backup
    primary.stop()
    backup.stop()


@pytest.fixture
def primary(servers: tuple[FakeProvider, FakeProvider]) -> Iterator[FakeProvider]:
    yield _reset(servers[0])
    _reset(servers[0])


@pytest.fixture
def backup(servers: tuple[FakeProvider, FakeProvider]) -> Iterator[FakeProvider]:
    yield _reset(servers[1])
    _reset(servers[1])


def _reset(fake: FakeProvider) -> FakeProvider:
    fake.status, fake.hang, fake.cut_after, fake.refuses, fake.delay_ms = 0, False, None, {}, 0.0
    fake.requests.clear()
    return fake


@pytest.fixture
def catalogue(primary: FakeProvider, backup: FakeProvider) -> Catalogue:
    return parse_catalogue(
        f"""
        [upstreams.a]
        base_url = "{primary.base_url}"
        provider = "alpha"
        [upstreams.b]
        base_url = "{backup.base_url}"
        provider = "beta"
        [upstreams.dead]
        base_url = "http://127.0.0.1:{free_port()}/v1"

        [models.fast]
        upstream = "a"
        provider_model = "gpt-4o-mini"
        input_per_million = 0
        output_per_million = 0
        fallbacks = ["steady"]
        [models.steady]
        upstream = "b"
        provider_model = "gpt-4o"
        input_per_million = 0
        output_per_million = 0
        [models.solo]
        upstream = "a"
        provider_model = "gpt-4o-mini"
        input_per_million = 0
        output_per_million = 0
        [models.down]
        upstream = "dead"
        input_per_million = 0
        output_per_million = 0
        fallbacks = ["steady"]
        [models.reasoner]
        upstream = "a"
        provider_model = "o3-mini"
        refuses = ["max_tokens", "temperature"]
        input_per_million = 0
        output_per_million = 0
        [models.local]
        upstream = "b"
        provider_model = "llama3"
        max_output_tokens = 3
        refuses = ["stream_options"]
        input_per_million = 0
        output_per_million = 0
        """,
        {},
    )


@dataclass
class Reply:
    texts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    choices: list[Choice] = field(default_factory=list)
    served: Served | None = None
    failure: BadGateway | None = None


async def _ask(
    router: Router, model: str, prompt: str = "hello", options: dict[str, Any] | None = None, *, choices: bool = False
) -> Reply:
    reply = Reply()
    messages = [{"role": "user", "content": prompt}]
    stream = (
        router.stream_choices(model, messages, 50, options) if choices else router.stream(model, messages, 50, options)
    )
    try:
        async for item in stream:
            if isinstance(item, Usage):
                reply.usage = item
            elif isinstance(item, Choice):
                reply.choices.append(item)
            else:
                reply.texts.append(item)
    except BadGateway as failure:
        reply.failure = failure
    reply.served = served_by(stream)
    return reply


def _run(catalogue: Catalogue, scenario: Callable[[Router], Awaitable[T]], **options: Any) -> T:
    """Run `scenario` with a router of `catalogue` on a fresh event loop, closing it after."""

    async def run() -> T:
        router = Router(catalogue, options.pop("timeout_seconds", 5), **options)
        try:
            return await scenario(router)
        finally:
            await router.close()

    return asyncio.run(run())


def test_each_model_is_served_by_its_own_upstream_under_the_providers_name(
    catalogue: Catalogue, primary: FakeProvider, backup: FakeProvider
) -> None:
    async def scenario(router: Router) -> tuple[Reply, Reply]:
        return await _ask(router, "fast"), await _ask(router, "steady")

    fast, steady = _run(catalogue, scenario)

    assert [r["model"] for r in primary.requests] == ["gpt-4o-mini"]
    assert [r["model"] for r in backup.requests] == ["gpt-4o"]
    assert fast.served == Served("fast", "alpha", "gpt-4o-mini") and fast.texts and fast.usage is not None
    assert steady.served == Served("steady", "beta", "gpt-4o") and steady.failure is None


def test_one_client_per_upstream_made_when_first_used(catalogue: Catalogue) -> None:
    made: list[str] = []

    def connect(upstream: Upstream, refused: Mapping[str, frozenset[str]]) -> LLM:
        made.append(upstream.name)
        return OpenAICompatible(upstream.base_url, upstream.api_key, 5, refused)

    async def scenario(router: Router) -> None:
        for model in ("fast", "solo", "reasoner", "steady", "fast"):
            assert (await _ask(router, model)).failure is None

    _run(catalogue, scenario, connect=connect)

    assert made == ["a", "b"]


@pytest.mark.parametrize(
    ("model", "breaks", "code"),
    [
        ("down", {}, "upstream_unreachable"),
        ("fast", {"status": 429}, "upstream_rate_limited"),
        ("fast", {"status": 500}, "upstream_error"),
        ("fast", {"status": 503}, "upstream_error"),
        ("fast", {"hang": True}, "upstream_timeout"),
        ("fast", {"cut_after": 0}, "upstream_unavailable"),  # answered 200, broke off before a token
    ],
)
def test_a_failure_before_the_first_token_falls_back_in_order(
    catalogue: Catalogue,
    primary: FakeProvider,
    backup: FakeProvider,
    caplog: pytest.LogCaptureFixture,
    model: str,
    breaks: dict[str, Any],
    code: str,
) -> None:
    caplog.set_level(logging.INFO, "kiroshi.llm")
    for name, value in breaks.items():
        setattr(primary, name, value)

    reply = _run(catalogue, lambda router: _ask(router, model), timeout_seconds=1)

    assert reply.failure is None and "".join(reply.texts) == "Kiroshi streams every token"
    assert reply.served == Served("steady", "beta", "gpt-4o")
    assert [r["model"] for r in backup.requests] == ["gpt-4o"]
    assert f"model {model} failed before its first token ({code}): trying its fallbacks" in caplog.text


@pytest.mark.parametrize(
    ("status", "code"), [(401, "upstream_auth_failed"), (400, "upstream_error"), (404, "upstream_error")]
)
def test_a_failure_another_server_would_repeat_does_not_fall_back(
    catalogue: Catalogue, primary: FakeProvider, backup: FakeProvider, status: int, code: str
) -> None:
    primary.status = status

    reply = _run(catalogue, lambda router: _ask(router, "fast"))

    assert reply.failure is not None and reply.failure.code == code
    assert (reply.served, backup.requests) == (None, [])


def test_once_a_token_is_sent_a_failure_ends_the_reply_without_switching(
    catalogue: Catalogue, primary: FakeProvider, backup: FakeProvider
) -> None:
    primary.cut_after, primary.delay_ms = 2, 20  # the first token is read alone, before the cut

    reply = _run(catalogue, lambda router: _ask(router, "fast"))

    assert reply.texts[0] == "Kiroshi" and "".join(reply.texts) == "Kiroshi streams"
    assert reply.failure is not None and reply.failure.code == "upstream_unavailable"
    assert reply.served == Served("fast", "alpha", "gpt-4o-mini")
    assert backup.requests == []


def test_when_every_model_fails_the_last_failure_is_raised(
    catalogue: Catalogue, primary: FakeProvider, backup: FakeProvider
) -> None:
    primary.status, backup.status = 503, 429

    reply = _run(catalogue, lambda router: _ask(router, "fast"))

    assert reply.failure is not None and reply.failure.code == "upstream_rate_limited"
    assert (len(primary.requests), len(backup.requests), reply.served) == (1, 1, None)


def test_an_unknown_model_is_a_bad_gateway_naming_it(catalogue: Catalogue) -> None:
    reply = _run(catalogue, lambda router: _ask(router, "gpt-9"))

    assert reply.failure is not None and reply.failure.detail == "the model 'gpt-9' is not served here"


def test_refused_parameters_are_never_sent(catalogue: Catalogue, primary: FakeProvider, backup: FakeProvider) -> None:
    backup.refuses = {"llama3": ("stream_options",)}  # some Ollama and vLLM versions

    async def scenario(router: Router) -> tuple[Reply, Reply]:
        return await _ask(router, "reasoner", options={"temperature": 0.2, "top_p": 0.9}), await _ask(router, "local")

    reasoner, local = _run(catalogue, scenario)

    # One request each: adapted from the first, not after a refusal.
    [sent] = primary.requests
    assert (sent["model"], sent["max_completion_tokens"], sent["top_p"]) == ("o3-mini", 50, 0.9)
    assert "max_tokens" not in sent and "temperature" not in sent
    assert reasoner.failure is None and reasoner.usage is not None
    [sent] = backup.requests
    assert (sent["model"], sent["max_completion_tokens"]) == ("llama3", 3)  # bounded by its max_output_tokens
    assert "stream_options" not in sent
    assert "".join(local.texts) == "Kiroshi streams every" and local.usage is None


def test_choices_are_routed_and_say_which_model_served(catalogue: Catalogue, primary: FakeProvider) -> None:
    primary.status = 503

    reply = _run(catalogue, lambda router: _ask(router, "fast", choices=True))

    assert reply.served == Served("steady", "beta", "gpt-4o")
    assert [c.finish_reason for c in reply.choices] == ["stop"] and reply.usage is not None


def test_a_failing_upstream_opens_its_circuit_and_then_fails_fast_without_a_request(
    catalogue: Catalogue, primary: FakeProvider, backup: FakeProvider, caplog: pytest.LogCaptureFixture
) -> None:
    primary.status = 503

    async def scenario(router: Router) -> tuple[list[Reply], Reply, str]:
        failed = [await _ask(router, "solo") for _ in range(3)]
        return failed, await _ask(router, "solo"), router.breakers["a"].state

    failed, fast, state = _run(catalogue, scenario, failures_to_open=3, clock=StoppedClock(0).monotonic)

    assert [r.failure.code for r in failed if r.failure] == ["upstream_error"] * 3
    assert len(primary.requests) == 3  # the fourth never reached the server
    assert fast.failure is not None and type(fast.failure) is BadGateway
    assert (fast.failure.code, fast.failure.detail) == ("upstream_error", "the model server answered 503")
    assert state == "open"
    assert "model server a failed 3 times in a row: circuit open for 30s (upstream_error)" in caplog.text


def test_an_open_circuit_sends_its_models_to_their_fallbacks_at_once(
    catalogue: Catalogue, primary: FakeProvider, backup: FakeProvider
) -> None:
    primary.status = 429

    async def scenario(router: Router) -> list[Reply]:
        return [await _ask(router, "fast") for _ in range(4)]

    replies = _run(catalogue, scenario, failures_to_open=2, clock=StoppedClock(0).monotonic)

    assert all(r.served == Served("steady", "beta", "gpt-4o") for r in replies)
    assert (len(primary.requests), len(backup.requests)) == (2, 4)


def test_after_the_cool_down_one_probe_closes_the_circuit_or_opens_it_again(
    catalogue: Catalogue, primary: FakeProvider
) -> None:
    clock = StoppedClock(1000)
    primary.status = 500

    async def scenario(router: Router) -> list[tuple[int, str, str | None]]:
        seen = []

        async def ask() -> None:
            reply = await _ask(router, "solo")
            seen.append((len(primary.requests), router.breakers["a"].state, reply.failure and reply.failure.code))

        await ask()  # opens (threshold 1)
        await ask()  # fails fast
        clock.advance(10)
        await ask()  # the probe fails: open again for 10 s
        clock.advance(9.9)
        await ask()  # still open
        clock.advance(0.1)
        primary.status = 0
        await ask()  # the probe succeeds: closed
        await ask()
        return seen

    seen = _run(catalogue, scenario, failures_to_open=1, cool_down_seconds=10, clock=clock.monotonic)

    assert seen == [
        (1, "open", "upstream_error"),
        (1, "open", "upstream_error"),
        (2, "open", "upstream_error"),
        (2, "open", "upstream_error"),
        (3, "closed", None),
        (4, "closed", None),
    ]


def test_a_probe_cancelled_before_its_first_token_lets_the_next_call_probe(
    catalogue: Catalogue, primary: FakeProvider
) -> None:
    clock = StoppedClock(0)
    primary.status = 503

    async def scenario(router: Router) -> tuple[str, Reply]:
        await _ask(router, "solo")  # opens (threshold 1)
        clock.advance(30)
        primary.status, primary.hang = 0, True
        probe = asyncio.create_task(_ask(router, "solo"))
        while len(primary.requests) < 2:
            await asyncio.sleep(0.01)
        probe.cancel()
        with pytest.raises(asyncio.CancelledError):
            await probe
        state = router.breakers["a"].state
        primary.hang = False
        return state, await _ask(router, "solo")

    state, reply = _run(catalogue, scenario, failures_to_open=1, clock=clock.monotonic)

    assert state == "half-open"
    assert reply.failure is None and reply.served == Served("solo", "alpha", "gpt-4o-mini")
    assert len(primary.requests) == 3
