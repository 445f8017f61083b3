"""The model interface: stream a chat completion as text deltas, then its usage.

`OpenAICompatible` (lib/llm/openai.py) talks to any OpenAI-compatible server through the openai
package; tests and benchmarks point it at the project's fake server (tests/support/fake_openai.py).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["LLM", "UpstreamError", "Usage"]


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int


class UpstreamError(Exception):
    """The model server failed, timed out or broke the stream. `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class LLM(Protocol):
    adapter: str

    def stream(
        self, model: str, messages: list[dict[str, str]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> AsyncIterator[str | Usage]:
        """Yield each text delta in order, then (when the server reports it) the Usage.
        `options` are passed through (sampling parameters: temperature, top_p, stop, ...).

        Raises UpstreamError; cancelling the iteration cancels the upstream request.
        """
        ...

    async def close(self) -> None: ...
