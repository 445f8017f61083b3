"""Fake model providers for routing tests: FakeOpenAI (tests/support/fake_openai.py) with failures
set on the server rather than in the prompt, so that two upstreams asked the same question
behave differently, and with the parameter quirks of real OpenAI-compatible servers.

    flaky = FakeProvider(status=503).serve_in_thread()   # every completion answers 503
    flaky.status = 0                                     # ... and now it answers

  `status`    answer every completion with this HTTP status (429 rate limited, 500/503, ...)
  `hang`      accept every completion and never answer (the client times out)
  `cut_after` send that many tokens, then drop the connection
  `refuses`   model → parameters it answers 400 for, worded as OpenAI does for an unknown
              argument (`{"llama3": ("stream_options",)}`: some Ollama and vLLM versions)
Every completion request is recorded in `requests` as it was received, failed or not.
A port nothing listens on (tests.support.runner.free_port) is an upstream that cannot be reached.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_openai import ERROR_CODES, FakeOpenAI, _json

__all__ = ["FakeProvider", "older_compatible", "openai_reasoning"]


@dataclass
class FakeProvider(FakeOpenAI):
    status: int = 0
    hang: bool = False
    cut_after: int | None = None
    refuses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    async def _completion(self, request: dict[str, Any], send: Any) -> None:
        name = next((p for p in self.refuses.get(request["model"], ()) if p in request), None)
        if not (self.status or self.hang or name):
            await self._reply(request, send)
            return
        self.requests.append(request)
        if self.hang:
            await asyncio.sleep(3600)
        if name is not None:
            message = f"Unrecognized request argument supplied: {name}"
            error = {"message": message, "type": "invalid_request_error", "param": None, "code": None}
            await _json(send, 400, {"error": error})
        else:
            code = ERROR_CODES.get(self.status, "server_error")
            error = {"message": "the fake provider failed", "type": code, "param": None, "code": code}
            await _json(send, self.status, {"error": error})

    async def _reply(self, request: dict[str, Any], send: Any) -> None:
        """FakeOpenAI's reply, with `[cut=N]` added to the prompt when `cut_after` is set (the
        request is recorded as received all the same)."""
        if self.cut_after is None:
            await super()._completion(request, send)
            return
        messages = [*request["messages"][:-1], dict(request["messages"][-1])]
        messages[-1]["content"] = f"{messages[-1]['content']} [cut={self.cut_after}]"
        asked = {**request, "messages": messages}
        try:
            await super()._completion(asked, send)
        finally:
            self.requests[:] = [request if r is asked else r for r in self.requests]


def openai_reasoning(*models: str) -> FakeProvider:
    """OpenAI's reasoning models: 400 for `max_tokens` ("use max_completion_tokens")."""
    return FakeProvider(models=models, new_models=frozenset(models))


def older_compatible(*models: str) -> FakeProvider:
    """An older compatible server (early vLLM, LocalAI): 400 for `stream_options` and for
    `max_completion_tokens`."""
    return FakeProvider(models=models, old_models=frozenset(models))
