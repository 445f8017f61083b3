"""The OpenAI-compatible `POST /v1/chat/completions`: the same model access, quota and usage
accounting as the chat session, answered in OpenAI's wire format (SSE chunks or one object).

The same limits as the session, too: a message holds at most KIROSHI_MAX_MESSAGE_CHARS
characters (422), and a request's messages together at most what a session turn can send the
model, one whole message and KIROSHI_CONTEXT_TOKENS of history (413). The quota is reserved by
the most tokens the request can cost (lib.chat.history: tokens ≤ UTF-8 bytes, plus the longest
reply) and settled with the usage the model reports.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import orjson

from lib.chat.history import text_bound, tokens_bound
from lib.chat.quota import Quotas, Reservation
from lib.db import chats
from lib.db.connection import Thrown
from lib.entitlements import entitlements_for
from lib.errors import ApiError, PayloadTooLarge, RateLimited, UnprocessableContent
from lib.llm import UpstreamError, Usage

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["BadGateway", "complete", "open_completion", "stream_completion"]

log = logging.getLogger("kiroshi.chat")

PASSTHROUGH = ("temperature", "top_p", "stop", "presence_penalty", "frequency_penalty", "seed")


class BadGateway(ApiError):
    status, title, default_code = 502, "Bad Gateway", "upstream_error"
    default_detail = "the model server failed"


def check_sizes(messages: list[dict[str, str]], max_message_chars: int, context_tokens: int) -> None:
    """Raises UnprocessableContent (a message over `max_message_chars`, each one named) or
    PayloadTooLarge (the messages together over one message and `context_tokens` of history)."""
    too_long = {
        index: {"content": [f"at most {max_message_chars} characters"]}
        for index, message in enumerate(messages)
        if len(message["content"]) > max_message_chars
    }
    if too_long:
        raise UnprocessableContent("invalid fields: messages", errors={"messages": too_long})
    total, most = sum(len(m["content"]) for m in messages), max_message_chars + context_tokens
    if total > most:
        raise PayloadTooLarge(
            f"the messages hold {total} characters; at most {most} together", code="request_too_large"
        )


def open_completion(services: Services, user_id: str, body: dict[str, Any]) -> tuple[Reservation, dict[str, Any]]:
    """Check the sizes and the model and reserve the quota. Raises UnprocessableContent (a message
    too long, the model), PayloadTooLarge or RateLimited."""
    settings = services.settings
    check_sizes(body["messages"], settings.max_message_chars, settings.context_tokens)
    rights = entitlements_for(services, user_id)
    if not rights.allows(body["model"]):
        raise UnprocessableContent(
            "invalid fields: model", errors={"model": [f"not available to you: {', '.join(rights.models)}"]}
        )
    max_tokens = min(body.get("max_completion_tokens") or body.get("max_tokens") or 10**9, settings.max_reply_tokens)
    reservation = Quotas(services).reserve(user_id, rights, tokens_bound(body["messages"]) + max_tokens)
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
    """Add the usage to the user's, then give the reservation back (a deleted user's: nothing stored)."""
    try:
        period = (reservation.period_start, reservation.period_end)
        chats.add_usage(services.db, user_id, period, usage.prompt_tokens + usage.completion_tokens)
    except Thrown as gone:
        if gone.code != "user_gone":
            raise
        log.info("a completion ended after its account was deleted: its usage is not stored")
    finally:
        Quotas(services).release(reservation)


def _usage(usage: Usage | None, request: dict[str, Any], text: str) -> Usage:
    """The usage the model reported; without one, the most it can have been."""
    return usage or Usage(tokens_bound(request["messages"]), min(text_bound(text), request["max_tokens"]))


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
