"""OpenAI-compatible servers through the openai package's async client.

The SDK's typed `chat.completions.create` transforms its parameters recursively (~1 ms per 50
history messages here) and parses every chunk into pydantic models (~150 us each); this adapter
posts the ready JSON body through the same client (`AsyncOpenAI.post`, its auth, base URL and
error mapping) and decodes each `data:` line of the raw stream with orjson.
The client runs on the SDK's aiohttp transport (`openai.DefaultAioHttpClient`, the `aiohttp`
extra): httpx2's own connection pool probes every idle connection with a poll() call on each
request, which at 50 concurrent streams cost more than the streaming itself. What remains is the
SDK's own request path (options, headers, retries bookkeeping): measured here against the same
fake upstream, the first token comes ~1.8 ms after `post` against ~0.7 ms with aiohttp alone.
(openai 3.x runs on `httpx2`, whose errors can surface while a stream is read.)

Failures are told apart (lib.errors: unreachable, credentials refused, rate limited, timed out,
broken off, other) and each is logged once, as a WARNING with the server's host and the cause's
class and reason: never the API key, the request or the provider's message (which may echo either).
"""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx2
import openai
import orjson

from lib.errors import (
    BadGateway,
    UpstreamAuthFailed,
    UpstreamRateLimited,
    UpstreamTimeout,
    UpstreamUnavailable,
    UpstreamUnreachable,
)
from lib.llm import Choice, Usage

__all__ = ["OpenAICompatible", "failure_of", "transient"]

log = logging.getLogger("kiroshi.llm")

# What the adapter catches: the SDK's errors before the response, the transport's while it is read.
_FAILURES = (openai.APIError, httpx2.HTTPError, orjson.JSONDecodeError, OSError, TimeoutError)


class OpenAICompatible:
    adapter = "openai"

    def __init__(
        self,
        base_url: str,
        api_key: str,
        timeout_seconds: float,
        refused: Mapping[str, frozenset[str]] | None = None,
    ) -> None:
        """`refused`: the parameters each model's server is known to refuse (`stream_options`,
        `max_tokens`, `max_completion_tokens`), adapted from the first request on."""
        timeout = httpx2.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds))
        self._client = openai.AsyncOpenAI(
            base_url=base_url or None,
            api_key=api_key or "not-set",
            max_retries=0,
            timeout=timeout,
            http_client=openai.DefaultAioHttpClient(timeout=timeout),
        )
        address = urlsplit(str(self._client.base_url))
        self._host = f"{address.hostname}:{address.port}" if address.port else str(address.hostname)
        self._secrets = tuple(x for x in (api_key, address.password) if x)
        self._refused: dict[str, frozenset[str]] = dict(refused or {})  # model → the parameters its server refused

    def stream(
        self, model: str, messages: list[dict[str, str]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> AsyncIterator[str | Usage]:
        return self._relay(_request(model, messages, max_tokens, options), _texts)

    def stream_choices(
        self, model: str, messages: list[dict[str, Any]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> AsyncIterator[str | Usage | Choice]:
        return self._relay(_request(model, messages, max_tokens, options), _choices)

    async def _relay(self, request: dict[str, Any], read: Callable[[list[bytes]], list[T]]) -> AsyncIterator[T]:
        """What `read` makes of each read's complete SSE lines, in order."""
        answered = False
        try:
            response = await self._open(request)
            answered = True
            try:
                # Bytes split into SSE lines here: httpx's text and line layers cost more than
                # the parsing. Read to the end even after [DONE]: a fully read response returns
                # its connection to the pool; one closed early costs a new TCP connection.
                pending = b""
                async for chunk in response.aiter_bytes():
                    *lines, pending = (pending + chunk).split(b"\n")
                    for item in read(lines):
                        yield item
            finally:
                await response.aclose()  # on stop this cancels the upstream request
        except _FAILURES as exc:
            failure = failure_of(exc, answered=answered)
            reason = _reason(exc)
            for secret in self._secrets:
                reason = reason.replace(secret, "***")
            log.warning("model server %s failed: %s (%s)", self._host, failure.code, reason)
            raise failure from exc

    async def _open(self, request: dict[str, Any]) -> httpx2.Response:
        """Post the request. A parameter Kiroshi adds unasked that the server refuses by name (a 400
        or 422 saying it is unsupported) is adapted and the request sent again: `stream_options`
        left out (the usage is then bounded by the reply's bytes), the reply limit renamed
        (`max_completion_tokens` ↔ `max_tokens`). What a model's server refused is remembered."""
        model = request["model"]
        _adapt(request, self._refused.get(model, frozenset()))
        while True:
            try:
                # The body goes as ready bytes (`content`): the SDK's own encoder (stdlib json) costs ~10x orjson.
                return await self._client.post(
                    "/chat/completions", cast_to=httpx2.Response, content=orjson.dumps(request), stream=True
                )
            except openai.APIStatusError as exc:
                known = self._refused.get(model, frozenset())
                refused = _refused(exc, request) - known
                if not refused:
                    raise
                log.info("model server %s refuses %s for %s: adapted", self._host, ", ".join(sorted(refused)), model)
                self._refused[model] = known | refused
                _adapt(request, refused)

    async def close(self) -> None:
        await self._client.close()


def failure_of(exc: BaseException, *, answered: bool) -> BadGateway:
    """What the client is told of `exc`, raised before the server answered or while its answer was read."""
    if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
        return UpstreamAuthFailed()
    if isinstance(exc, openai.RateLimitError):
        return UpstreamRateLimited()
    if isinstance(exc, openai.APIStatusError):
        return BadGateway(f"the model server answered {exc.status_code}")
    if _timed_out(exc):
        return UpstreamTimeout()
    if not answered and isinstance(exc, openai.APIConnectionError | httpx2.TransportError | OSError):
        return UpstreamUnreachable()
    return UpstreamUnavailable()


def transient(failure: BadGateway) -> bool:
    """Whether another server may well serve what this one failed: it could not be reached, rate
    limited, timed out, broke off, or answered a 5xx. A refused key or a 4xx is not: the request or
    the configuration is at fault."""
    if isinstance(failure, UpstreamUnreachable | UpstreamRateLimited | UpstreamTimeout | UpstreamUnavailable):
        return True
    cause = failure.__cause__
    return isinstance(cause, openai.APIStatusError) and cause.status_code >= 500


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what it was raised from, outermost first."""
    chain = [exc]
    while len(chain) < 16:
        cause = chain[-1].__cause__ or chain[-1].__context__
        if cause is None or cause in chain:
            break
        chain.append(cause)
    return chain


def _timed_out(exc: BaseException) -> bool:
    """Whether a timeout caused `exc`. The SDK's aiohttp transport reports every failed connection
    (a refused one, a failed DNS lookup) as httpx2.ConnectTimeout, which the SDK raises as
    APITimeoutError within milliseconds: only a real TimeoutError in the chain (aiohttp's socket and
    connect timeouts are ones) counts, or a timeout class that nothing else caused."""
    chain = _causes(exc)
    if any(isinstance(cause, TimeoutError) for cause in chain):
        return True
    return len(chain) == 1 and isinstance(exc, openai.APITimeoutError | httpx2.TimeoutException)


def _reason(exc: BaseException) -> str:
    """The cause in a few words for the log: classes, HTTP status, the provider's error code."""
    if isinstance(exc, openai.APIStatusError):
        code = exc.code if isinstance(exc.code, str) and re.fullmatch(r"[\w.-]{1,64}", exc.code) else ""
        return f"{type(exc).__name__}: HTTP {exc.status_code} {code}".rstrip()
    root = _causes(exc)[-1]
    text = " ".join(str(root).split())[:200]
    named = f"{type(root).__name__}: {text}" if text else type(root).__name__
    return named if root is exc else f"{named}; raised as {type(exc).__name__}"


def _read(chunk: dict[str, Any], text: list[str]) -> Usage | None:
    """Add the chunk's text to `text`; return its usage, if it carries one."""
    for choice in chunk.get("choices") or ():
        content = (choice.get("delta") or {}).get("content")
        if content:
            text.append(content)
    usage = chunk.get("usage")
    return Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))) if usage else None


T = TypeVar("T")
LIMITS = ("max_completion_tokens", "max_tokens")  # the reply limit's two names, the current one first
_UNSUPPORTED = re.compile(r"unsupported|not supported|unrecogni[sz]ed|unknown|extra|not permitted", re.IGNORECASE)


def _request(
    model: str, messages: list[dict[str, Any]], max_tokens: int, options: dict[str, Any] | None
) -> dict[str, Any]:
    """The upstream body. The reply limit goes under the name the caller's options use, else as
    `max_completion_tokens`, OpenAI's current name (its reasoning models refuse `max_tokens`);
    `stream_options.include_usage` asks for the usage that the quota settles with."""
    options = options or {}
    limit = "max_tokens" if "max_tokens" in options else LIMITS[0]
    return {
        **options,
        "model": model,
        "messages": messages,
        limit: max_tokens,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def _refused(exc: openai.APIStatusError, request: dict[str, Any]) -> frozenset[str]:
    """The parameters of `request` that Kiroshi can do without and the server's answer refuses by name."""
    said = f"{exc.message} {exc.body}"
    if exc.status_code not in (400, 422) or not _UNSUPPORTED.search(said):
        return frozenset()
    return frozenset(n for n in ("stream_options", *LIMITS) if n in request and re.search(rf"\b{n}\b", said))


def _adapt(request: dict[str, Any], refused: frozenset[str]) -> None:
    """Leave a refused `stream_options` out; rename a refused reply limit (unless both names are)."""
    if "stream_options" in refused:
        request.pop("stream_options", None)
    for name, other in (LIMITS, LIMITS[::-1]):
        if name in refused and other not in refused and name in request:
            request[other] = request.pop(name)
            return


def _texts(lines: list[bytes]) -> list[str | Usage]:
    """A read's text joined (what arrived together leaves together: one delta per read), then its usage."""
    text: list[str] = []
    usage = None
    for line in lines:
        if line.startswith(b"data:") and line[5:].strip() != b"[DONE]":
            usage = _read(orjson.loads(line[5:]), text) or usage
    items: list[str | Usage] = ["".join(text)] if text else []
    if usage is not None:
        items.append(usage)
    return items


def _choices(lines: list[bytes]) -> list[str | Usage | Choice]:
    """A read's chunks in order: plain text (adjacent pieces joined), a Choice for each chunk that
    carries more (tool calls, logprobs, a finish reason), the usage."""
    items: list[str | Usage | Choice] = []
    for line in lines:
        if not line.startswith(b"data:") or line[5:].strip() == b"[DONE]":
            continue
        chunk = orjson.loads(line[5:])
        for choice in chunk.get("choices") or ():
            item = _choice(choice)
            if isinstance(item, str) and items and isinstance(items[-1], str):
                items[-1] += item
            elif item:
                items.append(item)
        usage = chunk.get("usage")
        if usage:
            items.append(Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))))
    return items


def _choice(choice: dict[str, Any]) -> str | Choice:
    """A chunk's choice: its text alone, or a Choice when it carries more."""
    delta = choice.get("delta") or {}
    content, tool_calls = delta.get("content") or "", delta.get("tool_calls") or None
    logprobs, finish = choice.get("logprobs") or None, choice.get("finish_reason")
    if tool_calls is None and logprobs is None and finish is None:
        return content
    return Choice(content, tool_calls, logprobs, finish)
