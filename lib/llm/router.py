"""The models of a catalogue, served from their upstreams by their public names.

`Router` is an LLM (lib/llm): it sends each request to the model's upstream under the provider's
name for it, bounded by the model's output limit, without the parameters the model refuses. One
client per distinct upstream (base URL and key), made on first use; one circuit breaker each
(lib/llm/breaker.py).

When a model's upstream fails before the stream has yielded anything (unreachable, 429, 5xx,
timed out, broken off; or its breaker is open) the model's fallbacks are tried in order, each on
its own upstream. Once an item has been yielded there is no switch: the failure propagates, as
does a failure that another server would repeat (a refused key, a 4xx). When every model failed,
the last failure is raised. `lib.llm.served_by(stream)` tells which model served.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping
from types import MappingProxyType
from typing import Any, TypeVar

from lib.errors import BadGateway
from lib.llm import LLM, Choice, ChoicesLLM, Served, Usage
from lib.llm.breaker import Breaker
from lib.llm.catalogue import LIMIT_NAMES, Catalogue, ModelEntry, Upstream
from lib.llm.openai import OpenAICompatible, transient
from lib.metrics import MODEL_ERRORS

__all__ = ["Connect", "RoutedStream", "Router"]

log = logging.getLogger("kiroshi.llm")

T = TypeVar("T")
# What OpenAICompatible adapts in the request it builds; any other refused name is left out of the options.
ADAPTED = frozenset({"stream_options", *LIMIT_NAMES})
# Makes an upstream's client: the upstream, and the parameters each of its models refuses.
Connect = Callable[[Upstream, Mapping[str, frozenset[str]]], LLM]


class RoutedStream(AsyncIterator[T]):
    """What Router's `stream` and `stream_choices` return: the items, and `served` (the model that
    serves them) set when the first item is yielded or the stream ends without any."""

    __slots__ = ("_items", "served")

    def __init__(self) -> None:
        self.served: Served | None = None
        self._items: AsyncGenerator[T, None]

    def __anext__(self) -> Awaitable[T]:
        return self._items.__anext__()

    async def aclose(self) -> None:
        """Stop early: this cancels the upstream request."""
        await self._items.aclose()


class Router:
    adapter = "router"

    def __init__(
        self,
        catalogue: Catalogue,
        timeout_seconds: float,
        *,
        failures_to_open: int = 5,
        cool_down_seconds: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
        connect: Connect | None = None,
    ) -> None:
        """A breaker opens after `failures_to_open` consecutive failures of its upstream, for
        `cool_down_seconds` of `clock` (monotonic seconds). `connect` makes each upstream's
        client (default: OpenAICompatible with `timeout_seconds`)."""
        self.catalogue = catalogue
        self._connect = connect or _openai(timeout_seconds)
        self._clients: dict[Upstream, LLM] = {}
        self._refused: dict[Upstream, dict[str, frozenset[str]]] = {u: {} for u in catalogue.upstreams}
        for entry in catalogue.models.values():
            known = self._refused[entry.upstream].get(entry.provider_model, frozenset())
            self._refused[entry.upstream][entry.provider_model] = known | (entry.refuses & ADAPTED)
        self._breakers = {u: Breaker(u.name, failures_to_open, cool_down_seconds, clock) for u in catalogue.upstreams}
        self._served = {e.name: Served(e.name, e.provider, e.provider_model) for e in catalogue.models.values()}

    @property
    def breakers(self) -> Mapping[str, Breaker]:
        """Each upstream's breaker by the upstream's name (for health and metrics)."""
        return MappingProxyType({u.name: b for u, b in self._breakers.items()})

    def stream(
        self, model: str, messages: list[dict[str, str]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> RoutedStream[str | Usage]:
        def open_(client: LLM, entry: ModelEntry) -> AsyncIterator[str | Usage]:
            return client.stream(entry.provider_model, messages, _limit(entry, max_tokens), _options(entry, options))

        routed: RoutedStream[str | Usage] = RoutedStream()
        routed._items = self._route(routed, model, open_)
        return routed

    def stream_choices(
        self, model: str, messages: list[dict[str, Any]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> RoutedStream[str | Usage | Choice]:
        def open_(client: LLM, entry: ModelEntry) -> AsyncIterator[str | Usage | Choice]:
            args = (entry.provider_model, messages, _limit(entry, max_tokens), _options(entry, options))
            return client.stream_choices(*args) if isinstance(client, ChoicesLLM) else client.stream(*args)

        routed: RoutedStream[str | Usage | Choice] = RoutedStream()
        routed._items = self._route(routed, model, open_)
        return routed

    async def close(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()

    async def _route(
        self, routed: RoutedStream[T], model: str, open_: Callable[[LLM, ModelEntry], AsyncIterator[T]]
    ) -> AsyncGenerator[T, None]:
        """The items of the first model of the chain that serves; see the module's docstring."""
        failure: BadGateway | None = None
        for entry in self._chain(model):
            breaker = self._breakers[entry.upstream]
            try:
                probe = breaker.admit()
            except BadGateway as fast:  # open: no request sent
                failure = fast
                MODEL_ERRORS.labels(entry.name, entry.provider, fast.code).inc()
                log.debug("model %s skipped: its server %s is failing (circuit open)", entry.name, entry.upstream.name)
                continue
            items = open_(self._client(entry.upstream), entry)
            try:
                async for item in items:
                    if routed.served is None:
                        routed.served = self._served[entry.name]
                        breaker.succeeded()
                    yield item
            except BadGateway as exc:
                MODEL_ERRORS.labels(entry.name, entry.provider, exc.code).inc()
                if not _fall_back(breaker, exc, started=routed.served is not None):
                    raise
                failure = exc
                log.info("model %s failed before its first token (%s): trying its fallbacks", entry.name, exc.code)
                continue
            finally:
                if probe:
                    breaker.settle_probe()
                await _close(items)
            if routed.served is None:  # an empty reply
                routed.served = self._served[entry.name]
                breaker.succeeded()
            return
        raise failure or BadGateway()

    def _chain(self, model: str) -> tuple[ModelEntry, ...]:
        try:
            return self.catalogue.chain(model)
        except KeyError:
            raise BadGateway(f"the model {model!r} is not served here") from None

    def _client(self, upstream: Upstream) -> LLM:
        client = self._clients.get(upstream)
        if client is None:
            client = self._clients[upstream] = self._connect(upstream, self._refused[upstream])
        return client


def _fall_back(breaker: Breaker, failure: BadGateway, *, started: bool) -> bool:
    """Tell the breaker how its server did; whether another model may be tried."""
    if transient(failure):
        breaker.failed(failure)
        return not started
    breaker.succeeded()  # it answered: the request or the configuration is at fault, not the server
    return False


def _limit(entry: ModelEntry, max_tokens: int) -> int:
    return max_tokens if entry.max_output_tokens is None else min(max_tokens, entry.max_output_tokens)


def _options(entry: ModelEntry, options: dict[str, Any] | None) -> dict[str, Any] | None:
    """The options without those the model refuses (the reply limit's name and `stream_options`
    are the client's to adapt: it was told at its making)."""
    if not options or not entry.refuses:
        return options
    return {k: v for k, v in options.items() if k not in entry.refuses}


async def _close(items: AsyncIterator[Any]) -> None:
    close = getattr(items, "aclose", None)
    if close is not None:
        await close()


def _openai(timeout_seconds: float) -> Connect:
    def connect(upstream: Upstream, refused: Mapping[str, frozenset[str]]) -> LLM:
        return OpenAICompatible(upstream.base_url, upstream.api_key, timeout_seconds, refused)

    return connect
