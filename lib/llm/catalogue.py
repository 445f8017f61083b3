"""The model catalogue: each model by the name clients use, with its upstream (where it is served,
with which key), the provider's name for it, its limits, the parameters it refuses, its prices
and its fallbacks. Read from `KIROSHI_MODELS_FILE` (TOML: PyYAML is not a runtime dependency) or
made from the one-provider shorthand (`KIROSHI_MODELS` with `OPENAI_BASE_URL`/`OPENAI_API_KEY`).

    currency = "USD"                      # of every price below; default USD

    [upstreams.openai]
    base_url = "https://api.openai.com/v1"
    api_key_env = "OPENAI_API_KEY"        # the variable's NAME; omitted: the server takes no key
    provider = "openai"                   # for usage and metrics; default: the upstream's name

    [models."gpt-4o-mini"]
    upstream = "openai"
    provider_model = "gpt-4o-mini"        # default: the public name
    context_tokens = 128000               # default: KIROSHI_CONTEXT_TOKENS
    max_output_tokens = 16384             # default: KIROSHI_MAX_REPLY_TOKENS
    refuses = ["max_tokens"]              # parameters never sent to it
    input_per_million = "0.15"            # price per million prompt tokens (exact decimal)
    output_per_million = "0.60"           # per million completion tokens
    fallbacks = ["llama3"]                # tried in order when it fails before its first token

Everything is checked at load: a mistake raises ConfigError naming the file, the model (or
upstream) and the field. Prices are exact Decimals (TOML floats are read as decimals, never as
binary floats); `cost` is a pure function of a model's prices and token counts.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Context, Decimal, Inexact, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any, NoReturn

from lib.billing.money import MINOR_UNITS
from lib.config import ConfigError, Secret

__all__ = ["Catalogue", "ModelEntry", "Price", "Upstream", "cost", "load_catalogue", "one_provider", "parse_catalogue"]

LIMIT_NAMES = frozenset({"max_tokens", "max_completion_tokens"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,127}")  # Ollama's llama3.1:8b, OpenRouter's org/model
_PARAMETER = re.compile(r"[a-z_][a-z0-9_]{0,63}")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
# Digits enough for any real price times any token count; an inexact result raises, never rounds.
_EXACT = Context(prec=200, traps=[Inexact, InvalidOperation])


@dataclass(frozen=True, slots=True)
class Upstream:
    """An OpenAI-compatible server and the key Kiroshi uses there; one client is made per Upstream."""

    name: str
    base_url: str  # "" is OpenAI's own (the openai package's default)
    provider: str
    api_key_env: str | None = None
    api_key: Secret = field(default=Secret(""), repr=False)


@dataclass(frozen=True, slots=True)
class Price:
    """Per million tokens, in the catalogue's currency."""

    input: Decimal = Decimal(0)
    output: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class ModelEntry:
    name: str  # what clients and plans call it
    upstream: Upstream
    provider_model: str  # what the upstream calls it
    context_tokens: int | None = None  # None: the server-wide setting applies
    max_output_tokens: int | None = None
    refuses: frozenset[str] = frozenset()
    price: Price = Price()
    fallbacks: tuple[str, ...] = ()

    @property
    def provider(self) -> str:
        return self.upstream.provider


@dataclass(frozen=True)
class Catalogue:
    models: Mapping[str, ModelEntry]  # read-only, in the file's order
    currency: str = "USD"

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.models)

    @property
    def upstreams(self) -> tuple[Upstream, ...]:
        """Each distinct upstream once, in order of first use."""
        return tuple(dict.fromkeys(m.upstream for m in self.models.values()))

    def chain(self, name: str) -> tuple[ModelEntry, ...]:
        """The model, then its fallbacks in order. Raises KeyError for a name not in the catalogue."""
        entry = self.models[name]
        return (entry, *(self.models[f] for f in entry.fallbacks))


def cost(entry: ModelEntry, input_tokens: int, output_tokens: int) -> Decimal:
    """What the tokens cost at the model's prices, in the catalogue's currency, exactly (never
    rounded: rounding to the currency's minor unit is the bill's business).
    Raises ValueError for a negative or non-integer token count."""
    for count in (input_tokens, output_tokens):
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ValueError(f"token counts are non-negative integers, not {count!r}")
    price = entry.price
    total = _EXACT.add(_EXACT.multiply(price.input, input_tokens), _EXACT.multiply(price.output, output_tokens))
    return _EXACT.scaleb(total, -6)


def one_provider(models: Sequence[str], base_url: str, api_key: str) -> Catalogue:
    """The shorthand: every model of `KIROSHI_MODELS` on `OPENAI_BASE_URL` with `OPENAI_API_KEY`,
    under its own name, unpriced, with no fallbacks (the adapter learns refused parameters)."""
    upstream = Upstream("default", base_url, "openai", "OPENAI_API_KEY" if api_key else None, Secret(api_key))
    return Catalogue(MappingProxyType({m: ModelEntry(m, upstream, m) for m in models}))


def load_catalogue(path: str | Path, env: Mapping[str, str]) -> Catalogue:
    """Read the models file; the keys come from `env` by the names the file gives.
    Raises ConfigError naming the file, the model or upstream, and the field."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        raise ConfigError(f"KIROSHI_MODELS_FILE {path}: only TOML is read (PyYAML is not installed to serve)")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"KIROSHI_MODELS_FILE {path}: cannot be read ({exc})") from None
    return parse_catalogue(text, env, str(path))


def parse_catalogue(text: str, env: Mapping[str, str], source: str = "KIROSHI_MODELS_FILE") -> Catalogue:
    """`load_catalogue` of the file's text; `source` names it in errors."""
    try:
        data = tomllib.loads(text, parse_float=Decimal)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: not valid TOML: {exc}") from None
    top = _Table(data, source)
    currency = top.text("currency", "USD")
    if currency not in MINOR_UNITS:
        raise ConfigError(f"{source}: currency: {currency!r} is not a known ISO 4217 currency")
    upstream_tables, model_tables = top.tables("upstreams"), top.tables("models")
    top.done()
    if not model_tables:
        raise ConfigError(f'{source}: models: name at least one model ([models."name"] tables)')
    upstreams = {n: _upstream(n, _Table(t, f"{source}: upstream {n!r}"), env) for n, t in upstream_tables.items()}
    models = {n: _model(n, _Table(t, f"{source}: model {n!r}"), upstreams) for n, t in model_tables.items()}
    _check_fallbacks(models, source)
    return Catalogue(MappingProxyType(models), currency)


def _upstream(name: str, table: _Table, env: Mapping[str, str]) -> Upstream:
    base_url = table.text("base_url")
    if not re.match(r"https?://[^/\s]+", base_url):
        table.fail("base_url", f"must be an http:// or https:// URL, not {base_url!r}")
    key_env = table.text("api_key_env", "") or None
    key = ""
    if key_env is not None:
        if not _ENV_NAME.fullmatch(key_env):
            table.fail("api_key_env", f"must name an environment variable, not {key_env!r}")
        key = env.get(key_env, "").strip()
        if not key:
            table.fail("api_key_env", f"{key_env} is unset or empty: set it, or leave api_key_env out for no key")
    upstream = Upstream(name, base_url.rstrip("/"), table.text("provider", name), key_env, Secret(key))
    table.done()
    return upstream


def _model(name: str, table: _Table, upstreams: Mapping[str, Upstream]) -> ModelEntry:
    if not _NAME.fullmatch(name):
        table.fail("name", "use letters, digits and . _ : / @ + - (at most 128, no spaces or commas)")
    upstream_name = table.text("upstream")
    if upstream_name not in upstreams:
        known = ", ".join(sorted(upstreams)) or "none: add an [upstreams.NAME] table"
        table.fail("upstream", f"{upstream_name!r} is not an upstream of this file (known: {known})")
    refuses = frozenset(table.names("refuses", _PARAMETER))
    if refuses >= LIMIT_NAMES:
        table.fail("refuses", "cannot refuse both max_tokens and max_completion_tokens: every reply is bounded")
    context, output = table.count("context_tokens"), table.count("max_output_tokens")
    if context is not None and output is not None and output >= context:
        table.fail("max_output_tokens", f"must be below context_tokens ({output} >= {context})")
    entry = ModelEntry(
        name=name,
        upstream=upstreams[upstream_name],
        provider_model=table.text("provider_model", name),
        context_tokens=context,
        max_output_tokens=output,
        refuses=refuses,
        price=Price(table.amount("input_per_million"), table.amount("output_per_million")),
        fallbacks=table.names("fallbacks", _NAME),
    )
    table.done()
    return entry


def _check_fallbacks(models: Mapping[str, ModelEntry], source: str) -> None:
    """Each fallback names another model of the file, once; following fallbacks never comes back."""
    for entry in models.values():
        where = f"{source}: model {entry.name!r}: fallbacks"
        for fallback in entry.fallbacks:
            if fallback == entry.name:
                raise ConfigError(f"{where}: a model cannot be its own fallback")
            if fallback not in models:
                raise ConfigError(f"{where}: {fallback!r} is not a model of this file")
        if len(set(entry.fallbacks)) != len(entry.fallbacks):
            raise ConfigError(f"{where}: names a model twice")
    cleared: set[str] = set()  # models from which no cycle can be reached
    for entry in models.values():
        if (cycle := _cycle(entry.name, models, (), cleared)) is not None:
            raise ConfigError(f"{source}: model {cycle[0]!r}: fallbacks: a cycle: {' -> '.join(cycle)}")


def _cycle(
    name: str, models: Mapping[str, ModelEntry], path: tuple[str, ...], cleared: set[str]
) -> tuple[str, ...] | None:
    """The first cycle reached from `name` by following fallbacks (depth first), or None."""
    if name in path:
        return (*path[path.index(name) :], name)
    if name not in cleared:
        for fallback in models[name].fallbacks:
            if (found := _cycle(fallback, models, (*path, name), cleared)) is not None:
                return found
        cleared.add(name)
    return None


class _Table:
    """One TOML table, read field by field; each problem raises ConfigError naming `where` and the field."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self._data, self._where, self._read = data, where, set[str]()

    def fail(self, key: str, problem: str) -> NoReturn:
        raise ConfigError(f"{self._where}: {key}: {problem}")

    def _get(self, key: str) -> Any:
        self._read.add(key)
        return self._data.get(key)

    def text(self, key: str, default: str | None = None) -> str:
        value = self._get(key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value.strip():
            self.fail(key, "required" if value is None else f"must be a non-empty string, not {value!r}")
        return str(value).strip()

    def count(self, key: str) -> int | None:
        value = self._get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            self.fail(key, f"must be a whole number of tokens above 0, not {value!r}")
        return value if isinstance(value, int) else None

    def amount(self, key: str) -> Decimal:
        """A price: a string ("0.15") or a TOML number, read as an exact decimal."""
        value = self._get(key)
        if value is None:
            self.fail(key, 'required (a price per million tokens, e.g. "0.15"; 0 for a free model)')
        try:
            amount = Decimal(value.strip() if isinstance(value, str) else value)
        except (InvalidOperation, TypeError, ValueError):
            amount = Decimal("NaN")
        if isinstance(value, bool) or not amount.is_finite() or amount < 0:
            self.fail(key, f"must be a non-negative decimal number, not {value!r}")
        return amount

    def names(self, key: str, pattern: re.Pattern[str]) -> tuple[str, ...]:
        value = self._get(key)
        if value is None:
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and pattern.fullmatch(v) for v in value):
            self.fail(key, f"must be a list of names, not {value!r}")
        return tuple(value)

    def tables(self, key: str) -> dict[str, dict[str, Any]]:
        value = self._get(key) or {}
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            self.fail(key, f'must be tables ([{key}."name"]), not {value!r}')
        return dict(value)

    def done(self) -> None:
        """Refuse the keys nothing read: a misspelt field must not be silently ignored."""
        unknown = sorted(set(self._data) - self._read)
        if unknown:
            self.fail(unknown[0], f"unknown field (known: {', '.join(sorted(self._read))})")
