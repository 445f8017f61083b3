"""The model catalogue: a models file read into records, each mistake refused at start with a
message that names the file, the model (or upstream) and the field; the one-provider shorthand;
what a reply costs, exactly."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from lib.config import ConfigError
from lib.llm.catalogue import Catalogue, ModelEntry, Price, cost, load_catalogue, one_provider, parse_catalogue
from tests.support.catalogues import many_models

ENV = {"OPENAI_KEY": "sk-openai-0123456789", "GROQ_KEY": "gsk-0123456789"}
UPSTREAMS = """
[upstreams.openai]
base_url = "https://api.openai.com/v1"
api_key_env = "OPENAI_KEY"

[upstreams.local]
base_url = "http://127.0.0.1:11434/v1/"
provider = "ollama"
"""
MINI = """
[models."gpt-4o-mini"]
upstream = "openai"
context_tokens = 128000
max_output_tokens = 16384
refuses = ["max_tokens"]
input_per_million = "0.15"
output_per_million = 0.60
fallbacks = ["llama3.1:8b"]

[models."llama3.1:8b"]
upstream = "local"
provider_model = "llama3.1:8b-instruct-q4"
refuses = ["stream_options"]
input_per_million = 0
output_per_million = 0
"""


def test_a_models_file_reads_into_records(tmp_path: Path) -> None:
    path = tmp_path / "models.toml"
    path.write_text(UPSTREAMS + MINI)

    catalogue = load_catalogue(path, ENV)

    mini, llama = catalogue.chain("gpt-4o-mini")
    assert catalogue.names == ("gpt-4o-mini", "llama3.1:8b")
    assert (mini.upstream.base_url, mini.upstream.api_key, mini.provider) == (
        "https://api.openai.com/v1",
        "sk-openai-0123456789",
        "openai",
    )
    assert (mini.provider_model, mini.context_tokens, mini.max_output_tokens) == ("gpt-4o-mini", 128000, 16384)
    assert mini.price == Price(Decimal("0.15"), Decimal("0.60"))
    assert mini.refuses == {"max_tokens"} and mini.fallbacks == ("llama3.1:8b",)
    # A local Ollama needs no key; the upstream's name is the provider unless one is given.
    assert (llama.upstream.base_url, llama.upstream.api_key, llama.provider) == (
        "http://127.0.0.1:11434/v1",
        "",
        "ollama",
    )
    assert (llama.provider_model, llama.context_tokens, llama.max_output_tokens) == (
        "llama3.1:8b-instruct-q4",
        None,
        None,
    )
    assert catalogue.upstreams == (mini.upstream, llama.upstream)
    assert "sk-openai" not in repr(catalogue)


def test_a_price_written_as_a_toml_float_is_the_decimal_written_not_a_binary_float() -> None:
    models = UPSTREAMS + MINI.replace('"0.15"', "0.1").replace("0.60", "0.1000000000000000000000001")

    price = parse_catalogue(models, ENV).models["gpt-4o-mini"].price

    assert (str(price.input), str(price.output)) == ("0.1", "0.1000000000000000000000001")


def _model(**fields: str) -> str:
    """A models file of one model on the `openai` upstream, with `fields` (TOML values) changed."""
    values = {"upstream": '"openai"', "input_per_million": '"1"', "output_per_million": '"2"', **fields}
    body = "\n".join(f"{k} = {v}" for k, v in values.items() if v)
    return f'{UPSTREAMS}\n[models."m1"]\n{body}\n'


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("models = 3", "models.toml: models: must be tables"),
        ("[upstreams.x]\nbase_url = 'http://x'", 'models.toml: models: name at least one model ([models."name"]'),
        ("currency = 'XXX'\n" + _model(), "models.toml: currency: 'XXX' is not a known ISO 4217 currency"),
        ("currency = [", "models.toml: not valid TOML:"),
        (_model(colour='"red"'), "models.toml: model 'm1': colour: unknown field (known: "),
        (_model(upstream=""), "models.toml: model 'm1': upstream: required"),
        (
            _model(upstream='"azure"'),
            "model 'm1': upstream: 'azure' is not an upstream of this file (known: local, openai)",
        ),
        (_model(input_per_million=""), "model 'm1': input_per_million: required (a price per million tokens"),
        (_model(input_per_million='"-1"'), "model 'm1': input_per_million: must be a non-negative decimal number"),
        (_model(output_per_million='"cheap"'), "model 'm1': output_per_million: must be a non-negative decimal"),
        (_model(output_per_million='"NaN"'), "model 'm1': output_per_million: must be a non-negative decimal"),
        (_model(output_per_million="true"), "model 'm1': output_per_million: must be a non-negative decimal"),
        (_model(context_tokens="0"), "model 'm1': context_tokens: must be a whole number of tokens above 0, not 0"),
        (_model(context_tokens="8000.0"), "model 'm1': context_tokens: must be a whole number of tokens above 0"),
        (
            _model(context_tokens="4096", max_output_tokens="4096"),
            "model 'm1': max_output_tokens: must be below context_tokens (4096 >= 4096)",
        ),
        (_model(refuses='"max_tokens"'), "model 'm1': refuses: must be a list of names, not 'max_tokens'"),
        (
            _model(refuses='["max_tokens", "max_completion_tokens"]'),
            "model 'm1': refuses: cannot refuse both max_tokens and max_completion_tokens",
        ),
        (_model(fallbacks='["m1"]'), "model 'm1': fallbacks: a model cannot be its own fallback"),
        (_model(fallbacks='["gpt-5"]'), "model 'm1': fallbacks: 'gpt-5' is not a model of this file"),
        (_model(fallbacks='["m 2"]'), "model 'm1': fallbacks: must be a list of names"),
        (_model(provider_model="3"), "model 'm1': provider_model: must be a non-empty string, not 3"),
        (
            _model() + '[models."bad name"]\nupstream = "openai"',
            "model 'bad name': name: use letters, digits and . _ : / @ + - (at most 128, no spaces or commas)",
        ),
        (
            _model().replace('base_url = "https://api.openai.com/v1"', 'base_url = "api.openai.com"'),
            "models.toml: upstream 'openai': base_url: must be an http:// or https:// URL, not 'api.openai.com'",
        ),
        (
            _model().replace('"OPENAI_KEY"', '"GROQ_API_KEY"'),
            "upstream 'openai': api_key_env: GROQ_API_KEY is unset or empty: set it, or leave api_key_env out",
        ),
        (
            _model().replace('"OPENAI_KEY"', '"sk-live-123"'),
            "upstream 'openai': api_key_env: must name an environment variable, not 'sk-live-123'",
        ),
        (
            _model().replace("[upstreams.local]", "[upstreams.local]\nkey = 'x'"),
            "upstream 'local': key: unknown field",
        ),
    ],
)
def test_each_mistake_is_refused_naming_the_file_the_model_and_the_field(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        parse_catalogue(text, ENV, "models.toml")

    assert message in str(refused.value)


@pytest.mark.parametrize(
    ("fallbacks", "cycle"),
    [
        ({"a": ["b"], "b": ["a"]}, "model 'a': fallbacks: a cycle: a -> b -> a"),
        ({"a": ["b"], "b": ["c"], "c": ["b"]}, "model 'b': fallbacks: a cycle: b -> c -> b"),
        ({"a": ["b", "c"], "b": ["c"], "c": ["d"], "d": ["a"]}, "a cycle: a -> b -> c -> d -> a"),
    ],
)
def test_fallbacks_that_come_back_are_refused(fallbacks: dict[str, list[str]], cycle: str) -> None:
    models = "".join(
        f'[models.{n}]\nupstream = "local"\ninput_per_million = 0\noutput_per_million = 0\nfallbacks = {f}\n'
        for n, f in fallbacks.items()
    ).replace("'", '"')

    with pytest.raises(ConfigError, match=r"models\.toml: ") as refused:
        parse_catalogue(UPSTREAMS + models, ENV, "models.toml")

    assert cycle in str(refused.value)


def test_fallbacks_may_share_a_model_without_a_cycle() -> None:
    models = "".join(
        f'[models.{n}]\nupstream = "local"\ninput_per_million = 0\noutput_per_million = 0\nfallbacks = {f}\n'
        for n, f in {"a": '["b", "c"]', "b": '["c"]', "c": "[]"}.items()
    )

    assert [e.name for e in parse_catalogue(UPSTREAMS + models, ENV).chain("a")] == ["a", "b", "c"]


def test_a_file_that_cannot_be_read_or_is_yaml_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"KIROSHI_MODELS_FILE .*missing\.toml: cannot be read"):
        load_catalogue(tmp_path / "missing.toml", ENV)
    with pytest.raises(ConfigError, match=r"models\.yaml: only TOML is read"):
        load_catalogue(tmp_path / "models.yaml", ENV)


def test_the_shorthand_is_the_catalogue_a_file_would_give() -> None:
    written = """
    [upstreams.default]
    base_url = "http://127.0.0.1:9000/v1"
    api_key_env = "OPENAI_API_KEY"
    provider = "openai"
    [models.gpt-4o-mini]
    upstream = "default"
    input_per_million = 0
    output_per_million = 0
    [models.gpt-4o]
    upstream = "default"
    input_per_million = 0
    output_per_million = 0
    """

    shorthand = one_provider(("gpt-4o-mini", "gpt-4o"), "http://127.0.0.1:9000/v1", "sk-short")

    assert shorthand == parse_catalogue(written, {"OPENAI_API_KEY": "sk-short"})
    assert shorthand.names == ("gpt-4o-mini", "gpt-4o") and len(shorthand.upstreams) == 1
    assert one_provider(("m",), "", "").upstreams[0].api_key_env is None  # OpenAI's URL; no key set


def _priced(input_price: str, output_price: str) -> ModelEntry:
    return ModelEntry(
        "m", one_provider(("m",), "", "").upstreams[0], "m", price=Price(Decimal(input_price), Decimal(output_price))
    )


@pytest.mark.parametrize(
    ("prices", "tokens", "expected"),
    [
        (("0.15", "0.60"), (1_000_000, 1_000_000), "0.75"),
        (("0.15", "0.60"), (1, 1), "0.00000075"),
        (("0.15", "0.60"), (0, 0), "0"),
        (("2.50", "10"), (1234, 567), "0.008755"),  # 1234 * 2.5 + 567 * 10 = 8755 per million
        (("0.1", "0.2"), (3, 3), "0.0000009"),  # with floats: 0.30000000000000004 per million
        (("0", "0"), (10**12, 10**12), "0"),
        (("0.000001", "123456.789"), (7, 10**9), "123456789.000000000007"),
    ],
)
def test_cost_is_exact(prices: tuple[str, str], tokens: tuple[int, int], expected: str) -> None:
    assert cost(_priced(*prices), *tokens) == Decimal(expected)


@pytest.mark.parametrize("tokens", [(-1, 0), (0, -5), (1.5, 0), (True, 0)])
def test_cost_refuses_what_is_not_a_token_count(tokens: tuple[int, int]) -> None:
    with pytest.raises(ValueError, match="token counts are non-negative integers"):
        cost(_priced("1", "1"), *tokens)


def test_the_benchmark_catalogue_of_fifty_models_loads() -> None:
    catalogue = parse_catalogue(many_models(["http://127.0.0.1:1/v1", "http://127.0.0.1:2/v1"]), {})

    assert isinstance(catalogue, Catalogue) and len(catalogue.models) == 50 and len(catalogue.upstreams) == 2
    assert [e.name for e in catalogue.chain("gpt-4o-mini")] == ["gpt-4o-mini", "model-01", "model-02"]
    assert {e.upstream.name for e in catalogue.chain("model-01")} == {"up-0", "up-1"}
