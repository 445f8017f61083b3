"""README's model provider recipes work as written: each `# recipe:` TOML block of README.md is
loaded as a catalogue with its upstreams pointed at a fake of that provider's OpenAI-compatible
quirks (the key it wants, the model names it uses, the parameters it refuses with a 400), and a
reply to every model of it streams through `/v1` and, for its first model, the chat session."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from lib.chats.engine import ChatEngine
from lib.http.background_loop import run_coroutine
from lib.llm.catalogue import Catalogue, parse_catalogue
from lib.llm.router import Router
from lib.services import Services
from tests.support.client import Account, Client
from tests.support.fake_providers import FakeProvider
from tests.unit.functions.chats.session_harness import open_session, say

README = Path(__file__).resolve().parents[4] / "README.md"
RECIPE = re.compile(r"```toml\n# recipe: (\w+)[^\n]*\n(.*?)```", re.DOTALL)


def recipes() -> dict[str, str]:
    return {name: text for name, text in RECIPE.findall(README.read_text(encoding="utf-8"))}


def fakes() -> dict[str, tuple[dict[str, FakeProvider], dict[str, str]]]:
    """Per recipe: a fake per upstream name, and the environment that holds their keys."""

    def fake(api_key: str | None = None, **quirks: Any) -> FakeProvider:
        provider = FakeProvider(tokens=4, api_key=api_key, **quirks)
        provider.models = ()
        return provider

    return {
        # OpenAI: a key; reasoning models refuse max_tokens and sampling parameters.
        "openai": (
            {"openai": fake("sk-openai", new_models=frozenset({"o3-mini"}), refuses={"o3-mini": ("temperature",)})},
            {"OPENAI_API_KEY": "sk-openai"},
        ),
        # Anthropic's compatibility endpoint: its own key and model names; refuses logprobs.
        "anthropic": (
            {"anthropic": fake("sk-ant-test", refuses={"claude-sonnet-4-5": ("logprobs", "seed")})},
            {"ANTHROPIC_API_KEY": "sk-ant-test"},
        ),
        # Ollama: no key (any bearer), tagged names, an older version refusing stream_options.
        "ollama": ({"ollama": fake(refuses={"llama3.1:8b": ("stream_options",)})}, {}),
        # Older vLLM: max_tokens only, no stream_options (both refused with a 400).
        "vllm": (
            {"vllm": fake("vllm-key", old_models=frozenset({"Qwen/Qwen2.5-7B-Instruct"}))},
            {"VLLM_API_KEY": "vllm-key"},
        ),
        # Gateways: org/model names, Groq refusing logprobs and logit_bias.
        "gateways": (
            {
                "groq": fake("gsk-test", refuses={"llama-3.3-70b-versatile": ("logprobs", "logit_bias")}),
                "openrouter": fake("sk-or-test"),
            },
            {"GROQ_API_KEY": "gsk-test", "OPENROUTER_API_KEY": "sk-or-test"},
        ),
        # A LiteLLM proxy: its master key, the names of its config.
        "litellm": ({"litellm": fake("sk-litellm-master")}, {"LITELLM_MASTER_KEY": "sk-litellm-master"}),
    }


FAKES = fakes()


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, tuple[dict[str, FakeProvider], dict[str, str]]]]:
    for upstreams, _ in FAKES.values():
        for provider in upstreams.values():
            provider.serve_in_thread()
    yield FAKES
    for upstreams, _ in FAKES.values():
        for provider in upstreams.values():
            provider.stop()


def pointed(text: str, upstreams: dict[str, FakeProvider]) -> str:
    """The recipe with each upstream's base_url replaced by its fake's."""
    out, current = [], None
    for line in text.splitlines():
        header = re.match(r"\[upstreams\.\"?([\w-]+)\"?\]", line)
        current = header.group(1) if header else (None if line.startswith("[") else current)
        if current is not None and line.startswith("base_url"):
            line = f'base_url = "{upstreams[current].base_url}"'
        out.append(line)
    return "\n".join(out)


def test_the_readme_has_a_tested_recipe_for_each_provider() -> None:
    assert sorted(recipes()) == sorted(FAKES)


@pytest.mark.parametrize("name", sorted(FAKES))
def test_a_recipe_serves_each_of_its_models(
    name: str, servers: Any, make_services: Callable[..., Services], clock: Any
) -> None:
    upstreams, env = servers[name]
    for provider in upstreams.values():
        provider.requests.clear()
    catalogue = parse_catalogue(pointed(recipes()[name], upstreams), env, f"README recipe {name}")
    services = make_services(catalogue=catalogue, models=catalogue.names, max_reply_tokens=32)
    client = Client(services)
    user = client.account()
    try:
        for model in catalogue.names:
            _stream_v1(client, user, model)
        done = _session_turn(services, client, user, catalogue.names[0])
    finally:
        if services.model_client is not None:
            run_coroutine(services.model_client.close())

    assert (done["type"], done["model"]) == ("done", catalogue.names[0])
    _check_requests(catalogue, upstreams)


def _stream_v1(client: Client, user: Account, model: str) -> None:
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "hello"}],
        "stream": True,
        "temperature": 0.5,
        "logprobs": True,
    }
    answer = client.post("/v1/chat/completions", body, token=user.token)
    assert answer.status == 200, answer
    chunks = [orjson.loads(part[6:]) for part in answer.body.split(b"\n\n") if part.startswith(b"data: {")]
    assert not any("error" in c for c in chunks), chunks
    assert {c["model"] for c in chunks} == {model}
    assert (
        "".join(c["choices"][0]["delta"].get("content", "") for c in chunks if c["choices"])
        == "Kiroshi streams every token"
    )


def _session_turn(services: Services, client: Client, user: Account, model: str) -> dict[str, Any]:
    chat_id = client.post(f"/chats/{user.user_id}", {"model": model}, token=user.token).json["chat_id"]

    async def talk() -> dict[str, Any]:
        router = Router(services.settings.model_catalogue, 5)
        engine = ChatEngine(services, router)
        connection, socket = await open_session(engine, services, user, chat_id)
        final = await say(engine, connection, socket, "hello")
        await engine.shutdown(1)
        await router.close()
        return final

    return asyncio.run(talk())


def _check_requests(catalogue: Catalogue, upstreams: dict[str, FakeProvider]) -> None:
    """Each model was asked for under the provider's name, and never with what it refuses."""
    for entry in catalogue.models.values():
        asked = [r for r in upstreams[entry.upstream.name].requests if r["model"] == entry.provider_model]
        assert asked, f"{entry.name} was never asked for as {entry.provider_model}"
        for request in asked:
            assert not entry.refuses & request.keys(), (entry.name, sorted(entry.refuses & request.keys()))
