"""OpenAI-compatible servers through the openai package's async client.

The SDK's typed streaming parses every chunk into pydantic models (~150 us of CPU each here);
this adapter uses its raw streaming response and decodes each `data:` line with orjson.
(openai 3.x runs on `httpx2`, whose errors can surface while a stream is read.)
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import openai
import orjson

from lib.llm import UpstreamError, Usage

__all__ = ["OpenAICompatible"]


class OpenAICompatible:
    adapter = "openai"

    def __init__(self, base_url: str, api_key: str, timeout_seconds: float) -> None:
        self._client = openai.AsyncOpenAI(
            base_url=base_url or None,
            api_key=api_key or "not-set",
            max_retries=0,
            timeout=httpx2.Timeout(timeout_seconds, connect=min(10.0, timeout_seconds)),
        )

    async def stream(self, model: str, messages: list[dict[str, str]], max_tokens: int) -> AsyncIterator[str | Usage]:
        request: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": max_tokens,
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        try:
            async with self._client.chat.completions.with_streaming_response.create(**request) as response:
                async for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    payload = line[5:].strip()
                    if payload == "[DONE]":
                        return
                    for item in _items(orjson.loads(payload)):
                        yield item
        except openai.APIStatusError as exc:
            raise UpstreamError("upstream_error", f"the model server answered {exc.status_code}") from exc
        except (openai.APITimeoutError, httpx2.TimeoutException) as exc:
            raise UpstreamError("upstream_timeout", "the model server did not answer in time") from exc
        except (openai.APIConnectionError, httpx2.HTTPError, orjson.JSONDecodeError) as exc:
            raise UpstreamError("upstream_unavailable", "the model server could not be reached or broke off") from exc

    async def close(self) -> None:
        await self._client.close()


def _items(chunk: dict[str, Any]) -> list[str | Usage]:
    items: list[str | Usage] = []
    for choice in chunk.get("choices") or ():
        content = (choice.get("delta") or {}).get("content")
        if content:
            items.append(content)
    usage = chunk.get("usage")
    if usage:
        items.append(Usage(int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))))
    return items
