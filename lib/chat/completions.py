"""The OpenAI-compatible `POST /v1/chat/completions`: the same model access, quota and usage
accounting as the chat session, answered in OpenAI's wire format (SSE chunks or one object)."""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from lib.chat.history import estimate_tokens
from lib.chat.quota import Quotas, Reservation
from lib.db import chats
from lib.entitlements import entitlements_for
from lib.errors import ApiError, RateLimited, UnprocessableContent
from lib.llm import UpstreamError, Usage

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["BadGateway", "complete", "open_completion", "stream_completion"]

PASSTHROUGH = ("temperature", "top_p", "stop", "presence_penalty", "frequency_penalty", "seed")


class BadGateway(ApiError):
    status, title, default_code = 502, "Bad Gateway", "upstream_error"
    default_detail = "the model server failed"


def open_completion(services: Services, user_id: str, body: dict[str, Any]) -> tuple[Reservation, dict[str, Any]]:
    """Check the model and reserve the quota. Raises UnprocessableContent (model) or RateLimited."""
    rights = entitlements_for(services, user_id)
    if not rights.allows(body["model"]):
        raise UnprocessableContent(
            "invalid fields: model", errors={"model": [f"not available to you: {', '.join(rights.models)}"]}
        )
    max_tokens = min(
        body.get("max_completion_tokens") or body.get("max_tokens") or 10**9, services.settings.max_reply_tokens
    )
    reservation = Quotas(services).reserve(user_id, rights, estimate_tokens(body["messages"]) + max_tokens)
    if reservation is None:
        raise RateLimited(3600, "your token quota for this period is used up", code="quota_exceeded")
    request = {
        "model": body["model"],
        "messages": body["messages"],
        "max_tokens": max_tokens,
        "options": {k: body[k] for k in PASSTHROUGH if body.get(k) is not None},
    }
    return reservation, request


def _settle(services: Services, user_id: str, reservation: Reservation, usage: Usage) -> None:
    try:
        period = (reservation.period_start, reservation.period_end)
        chats.add_usage(services.db, user_id, period, usage.prompt_tokens + usage.completion_tokens)
    finally:
        Quotas(services).release(reservation)


def _usage(usage: Usage | None, request: dict[str, Any], text: str) -> Usage:
    return usage or Usage(estimate_tokens(request["messages"]), estimate_tokens(text))


def _usage_json(usage: Usage) -> dict[str, int]:
    total = usage.prompt_tokens + usage.completion_tokens
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens, "total_tokens": total}


async def complete(
    services: Services, user_id: str, reservation: Reservation, request: dict[str, Any]
) -> dict[str, Any]:
    """The whole completion as one `chat.completion` object. Raises BadGateway."""
    parts: list[str] = []
    usage: Usage | None = None
    try:
        async for item in services.llm.stream(**request):
            if isinstance(item, Usage):
                usage = item
            else:
                parts.append(item)
    except UpstreamError as exc:
        Quotas(services).release(reservation)
        raise BadGateway(exc.message, code=exc.code) from None
    text = "".join(parts)
    final = _usage(usage, request, text)
    _settle(services, user_id, reservation, final)
    return {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request["model"],
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": _usage_json(final),
    }


async def stream_completion(
    services: Services, user_id: str, reservation: Reservation, request: dict[str, Any], include_usage: bool
) -> AsyncIterator[bytes]:
    """`chat.completion.chunk` server-sent events, then `[DONE]`; the quota settles however it ends."""
    base = {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": request["model"],
    }
    parts: list[str] = []
    usage: Usage | None = None

    def event(**fields: Any) -> bytes:
        return b"data: " + orjson.dumps({**base, **fields}) + b"\n\n"

    try:
        yield event(choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])
        async for item in services.llm.stream(**request):
            if isinstance(item, Usage):
                usage = item
                continue
            parts.append(item)
            yield event(choices=[{"index": 0, "delta": {"content": item}, "finish_reason": None}])
        yield event(choices=[{"index": 0, "delta": {}, "finish_reason": "stop"}])
        if include_usage:
            yield event(choices=[], usage=_usage_json(_usage(usage, request, "".join(parts))))
    except UpstreamError as exc:
        yield b"data: " + orjson.dumps({"error": {"message": exc.message, "type": "upstream_error", "code": exc.code}})
        yield b"\n\n"
    finally:
        _settle(services, user_id, reservation, _usage(usage, request, "".join(parts)))
    yield b"data: [DONE]\n\n"
