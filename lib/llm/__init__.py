"""The model interface: stream a chat completion as text deltas, then its usage.

`OpenAICompatible` (lib/llm/openai.py) talks to any OpenAI-compatible server through the openai
package; tests and benchmarks point it at the project's fake server (tests/support/fake_openai.py).
`Router` (lib/llm/router.py) serves the models of a catalogue (lib/llm/catalogue.py) from several
such servers, with fallbacks; `served_by(stream)` tells which model served a stream it returned.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from lib.errors import BadGateway

__all__ = ["LLM", "Choice", "ChoicesLLM", "Served", "UpstreamError", "Usage", "served_by"]


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


@dataclass(frozen=True, slots=True)
class Choice:
    """What a chunk's choice carries besides plain text, as the server sent it: tool-call deltas
    (`[{"index", "id", "type", "function": {"name", "arguments"}}]`, the arguments in pieces),
    logprobs, the finish reason (`stop`, `length`, `tool_calls`, `content_filter`)."""

    content: str = ""
    tool_calls: list[dict[str, Any]] | None = None
    logprobs: dict[str, Any] | None = None
    finish_reason: str | None = None


@dataclass(frozen=True, slots=True)
class Served:
    """Which model served a reply: its public name, the provider, and the provider's name for it."""

    model: str
    provider: str
    provider_model: str


def served_by(stream: object) -> Served | None:
    """Which model served `stream` (what an LLM's `stream` or `stream_choices` returned): known
    from its first item on, or once it ended without any; None before, when every model failed,
    and for an adapter that serves one model as asked (OpenAICompatible)."""
    served = getattr(stream, "served", None)
    return served if isinstance(served, Served) else None


# What a model adapter raises: lib.errors.BadGateway, or the subclass that says how the model server
# failed (UpstreamUnreachable, UpstreamAuthFailed, UpstreamRateLimited, UpstreamTimeout,
# UpstreamUnavailable), each with its stable `code` and a `message` for the client.
UpstreamError = BadGateway


class LLM(Protocol):
    adapter: str

    def stream(
        self, model: str, messages: list[dict[str, str]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> AsyncIterator[str | Usage]:
        """Yield each text delta in order, then (when the server reports it) the Usage.
        `options` are passed through (sampling parameters: temperature, top_p, stop, ...).

        Raises UpstreamError (one subclass per kind of failure, each logged once with its cause by
        the adapter); cancelling the iteration cancels the upstream request.
        """
        ...

    async def close(self) -> None: ...


@runtime_checkable
class ChoicesLLM(LLM, Protocol):
    """A model client that also relays what chunks carry besides text (for `/v1/chat/completions`)."""

    def stream_choices(
        self, model: str, messages: list[dict[str, Any]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> AsyncIterator[str | Usage | Choice]:
        """`stream`, with each chunk that carries more than text (tool calls, logprobs, a finish
        reason) as a Choice; `messages` may hold tool calls and tool results."""
        ...
