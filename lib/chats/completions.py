"""The OpenAI-compatible `POST /v1/chat/completions`: the same model access, quota and usage
accounting as the chat session, answered in OpenAI's wire format (SSE chunks or one object),
tool calls included (relayed as the model server streams them).

The same limits as the session, too: a message holds at most KIROSHI_MAX_MESSAGE_CHARS
characters (422), and a request's messages (with its tool definitions) together at most what a
session turn can send the model, one whole message and KIROSHI_CONTEXT_TOKENS of history (413).
The quota is reserved by the most tokens the request can cost (lib.chats.history: tokens ≤ UTF-8
bytes; JSON that a chat template may render spaced or indented, twice its bytes; plus the
longest reply) and settled with the usage the model reports, or without one with those bounds.
A model's own limits (KIROSHI_MODELS_FILE: `context_tokens`, `max_output_tokens`) lower those of
the server for it (lib.chats.costs.limits). Answers and chunks name the model that served: the one
asked for, or the fallback that served when it failed before its first token.
"""

from __future__ import annotations

import logging
import secrets
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import orjson

from lib.billing.entitlements import entitlements_for
from lib.chats import repository as chats
from lib.chats.costs import charge_for, count_charge, limits, served_model, worst_cost
from lib.chats.history import PER_MESSAGE, PER_REQUEST, text_bound
from lib.chats.quota import Quotas, Reservation, used_up
from lib.db.connection import Thrown
from lib.errors import NotFound, PayloadTooLarge, RateLimited, UnprocessableContent
from lib.http.dispatch import openai_error
from lib.llm import Choice, ChoicesLLM, Served, UpstreamError, Usage
from lib.metrics import MODEL_FIRST_TOKEN

if TYPE_CHECKING:
    from lib.services import Services

__all__ = ["Opened", "check_sizes", "complete", "open_completion", "prompt_bound", "stream_completion"]

log = logging.getLogger("kiroshi.chat")

PASSTHROUGH = (
    *("temperature", "top_p", "stop", "presence_penalty", "frequency_penalty", "seed", "logit_bias"),
    *("tools", "tool_choice", "response_format", "logprobs", "top_logprobs", "user"),
    *("reasoning_effort", "verbosity", "safety_identifier", "prompt_cache_key"),
)
READ_BY_MODEL = ("tools", "tool_choice", "response_format")  # besides the messages
TEMPLATE_TOKENS = 512  # a chat template's instructions around tool definitions or a response schema


def _json(value: Any) -> str:
    return orjson.dumps(value).decode() if value is not None else ""


def _message_text(message: dict[str, Any]) -> str:
    """What of a message the model reads: its content, the id of the call a tool result answers."""
    return str(message.get("content") or "") + str(message.get("tool_call_id", ""))


def check_sizes(body: dict[str, Any], max_message_chars: int, context_tokens: int) -> None:
    """Raises UnprocessableContent (a message's text or tool calls over `max_message_chars`, each one
    named) or PayloadTooLarge (the messages and tool definitions together over one message and
    `context_tokens` of history)."""
    too_long: dict[int, dict[str, list[str]]] = {}
    total = sum(len(_json(body.get(key))) for key in READ_BY_MODEL)
    for index, message in enumerate(body["messages"]):
        text, calls = len(_message_text(message)), len(_json(message.get("tool_calls")))
        if text + calls > max_message_chars:
            too_long[index] = {"content" if text > calls else "tool_calls": [f"at most {max_message_chars} characters"]}
        total += text + calls
    if too_long:
        raise UnprocessableContent("invalid fields: messages", errors={"messages": too_long})
    most = max_message_chars + context_tokens
    if total > most:
        raise PayloadTooLarge(
            f"the messages and tools hold {total} characters; at most {most} together",
            code="request_too_large",
            param="messages",
        )


def prompt_bound(body: dict[str, Any]) -> int:
    """The most tokens the request's prompt can be: each message's text by its UTF-8 bytes, JSON
    (tool calls, tool definitions, a response schema) by twice its bytes, as a template may space
    or indent it, and TEMPLATE_TOKENS for the instructions a template puts around definitions."""
    bound = PER_REQUEST
    for message in body["messages"]:
        bound += PER_MESSAGE + text_bound(_message_text(message)) + 2 * len(_json(message.get("tool_calls")))
    definitions = sum(len(_json(body.get(key))) for key in READ_BY_MODEL)
    return bound + (2 * definitions + TEMPLATE_TOKENS if definitions else 0)


@dataclass(frozen=True, slots=True)
class Opened:
    """A completion whose quota is reserved: the model call's arguments and the prompt's bound."""

    reservation: Reservation
    request: dict[str, Any]  # the arguments of LLM.stream
    prompt_tokens: int  # the most the prompt can be: its usage when the model reports none


def open_completion(services: Services, user_id: str, body: dict[str, Any]) -> Opened:
    """Check the sizes and the model and reserve the quota. Raises UnprocessableContent (a message
    too long), PayloadTooLarge, NotFound (a model outside the caller's plan) or RateLimited."""
    settings = services.settings
    catalogue = settings.model_catalogue
    budget, reply_cap = limits(catalogue, body["model"], settings.context_tokens, settings.max_reply_tokens)
    check_sizes(body, settings.max_message_chars, budget)
    rights = entitlements_for(services, user_id)
    if not rights.allows(body["model"]):
        available = ", ".join(rights.models)
        raise NotFound(
            f"the model `{body['model']}` is not available to you; your plan allows: {available}",
            code="model_not_found",
            param="model",
        )
    asked = next((k for k in ("max_completion_tokens", "max_tokens") if body.get(k) is not None), None)
    max_tokens = min(body[asked] if asked else reply_cap, reply_cap)
    prompt_tokens = prompt_bound(body)
    money = worst_cost(catalogue, body["model"], prompt_tokens, max_tokens) if rights.cost_quota is not None else 0
    reservation = Quotas(services).reserve(user_id, rights, prompt_tokens + max_tokens, Decimal(money))
    if reservation is None:
        raise RateLimited(3600, used_up(rights), code="quota_exceeded")
    options = {k: body[k] for k in PASSTHROUGH if body.get(k) is not None}
    if body.get("tools") and body.get("parallel_tool_calls") is not None:
        options["parallel_tool_calls"] = body["parallel_tool_calls"]
    if asked is not None:  # the limit goes upstream under the name the client gave it
        options[asked] = max_tokens
    request = {"model": body["model"], "messages": body["messages"], "max_tokens": max_tokens, "options": options}
    return Opened(reservation, request, prompt_tokens)


@dataclass
class _Said:
    """What the model has said so far: text, tool calls (assembled from their deltas), logprobs,
    the finish reason, the usage it reported and the most tokens the rest can be (its bytes)."""

    parts: list[str] = field(default_factory=list)
    calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    logprobs: list[Any] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    tokens: int = 0

    def add(self, item: str | Choice) -> None:
        content = item if isinstance(item, str) else item.content
        self.parts.append(content)
        self.tokens += text_bound(content)
        if isinstance(item, Choice):
            self.finish_reason = item.finish_reason or self.finish_reason
            self.logprobs += (item.logprobs or {}).get("content") or []
            for delta in item.tool_calls or ():
                self.tokens += len(_json(delta))
                self._add_call(delta)

    def _add_call(self, delta: Any) -> None:
        if not isinstance(delta, dict):
            return
        call = self.calls.setdefault(
            delta.get("index", 0), {"id": "", "type": "function", "function": {"name": "", "arguments": ""}}
        )
        call["id"] = delta.get("id") or call["id"]
        function = delta.get("function") or {}
        call["function"]["name"] += function.get("name") or ""
        call["function"]["arguments"] += function.get("arguments") or ""

    def final_usage(self, opened: Opened) -> Usage:
        """The usage the model reported; without one, the most it can have been."""
        return self.usage or Usage(opened.prompt_tokens, min(self.tokens, opened.request["max_tokens"]))


def _settle(services: Services, user_id: str, opened: Opened, usage: Usage, served: Served | None) -> None:
    """Add the usage and what it cost at the prices of the model that `served` to the user's, then
    give the reservation back (a deleted user's: nothing stored; `served` None: nothing to count)."""
    reservation = opened.reservation
    if served is None:
        Quotas(services).release(reservation)
        return
    try:
        period = (reservation.period_start, reservation.period_end)
        charge = charge_for(services.settings.model_catalogue, served, usage)
        chats.add_usage(services.db, user_id, period, charge.tokens, charge, services.now())
        count_charge(charge)
    except Thrown as gone:
        if gone.code != "user_gone":
            raise
        log.info("a completion ended after its account was deleted: its usage is not stored")
    finally:
        Quotas(services).release(reservation)


def _usage_json(usage: Usage) -> dict[str, int]:
    total = usage.prompt_tokens + usage.completion_tokens
    return {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens, "total_tokens": total}


def _model_stream(services: Services, request: dict[str, Any]) -> AsyncIterator[str | Usage | Choice]:
    """The model's reply with tool calls, logprobs and finish reason where the client can relay them."""
    llm = services.llm
    return llm.stream_choices(**request) if isinstance(llm, ChoicesLLM) else llm.stream(**request)


def _served(services: Services, stream: object, opened: Opened, started: float | None = None) -> Served:
    """The model that serves `stream`; with `started` (perf_counter seconds), its first item just came."""
    served = served_model(services.settings.model_catalogue, stream, opened.request["model"])
    if started is not None:
        MODEL_FIRST_TOKEN.labels(served.model, served.provider).observe(time.perf_counter() - started)
    return served


async def complete(services: Services, user_id: str, opened: Opened) -> dict[str, Any]:
    """The whole completion as one `chat.completion` object. Raises UpstreamError (a 502)."""
    said = _Said()
    started, stream = time.perf_counter(), _model_stream(services, opened.request)
    answered = False
    try:
        async for item in stream:
            if not answered:
                answered = True
                _served(services, stream, opened, started)
            if isinstance(item, Usage):
                said.usage = item
            else:
                said.add(item)
    except UpstreamError:
        Quotas(services).release(opened.reservation)
        raise
    usage, served = said.final_usage(opened), _served(services, stream, opened)
    _settle(services, user_id, opened, usage, served)
    text = "".join(said.parts)
    message: dict[str, Any] = {"role": "assistant", "content": text or (None if said.calls else "")}
    if said.calls:
        message["tool_calls"] = [said.calls[index] for index in sorted(said.calls)]
    logprobs = {"content": said.logprobs, "refusal": None} if opened.request["options"].get("logprobs") else None
    choice = {"index": 0, "message": message, "logprobs": logprobs, "finish_reason": said.finish_reason or "stop"}
    return {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": served.model,
        "choices": [choice],
        "usage": _usage_json(usage),
    }


def _delta(item: str | Choice) -> dict[str, Any] | None:
    """The chunk choice that relays `item`, as the model server sent it; None when it says nothing."""
    if isinstance(item, str):
        return {"index": 0, "delta": {"content": item}, "finish_reason": None}
    delta: dict[str, Any] = {"content": item.content} if item.content else {}
    if item.tool_calls:
        delta["tool_calls"] = item.tool_calls
    if not delta and item.logprobs is None:
        return None
    choice = {"index": 0, "delta": delta, "finish_reason": None}
    return choice if item.logprobs is None else {**choice, "logprobs": item.logprobs}


async def stream_completion(
    services: Services, user_id: str, opened: Opened, include_usage: bool
) -> AsyncIterator[bytes]:
    """`chat.completion.chunk` server-sent events, then `[DONE]`; the quota settles however it ends.
    The first chunk (the role) leaves with the model's first item, so that every chunk names the
    model that serves. A model server failure is an event `{"error": {...}}` (OpenAI's shape)
    before `[DONE]`."""
    base = {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": opened.request["model"],
    }
    said = _Said()
    started, stream = time.perf_counter(), _model_stream(services, opened.request)
    answered = failed = False

    def event(**fields: Any) -> bytes:
        return b"data: " + orjson.dumps({**base, **fields}) + b"\n\n"

    def role() -> bytes:
        base["model"] = _served(services, stream, opened, started).model
        return event(choices=[{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])

    try:
        async for item in stream:
            if not answered:
                answered = True
                yield role()
            if isinstance(item, Usage):
                said.usage = item
                continue
            said.add(item)
            if (choice := _delta(item)) is not None:
                yield event(choices=[choice])
        if not answered:  # the model said nothing at all
            answered = True
            yield role()
        yield event(choices=[{"index": 0, "delta": {}, "finish_reason": said.finish_reason or "stop"}])
        if include_usage:
            yield event(choices=[], usage=_usage_json(said.final_usage(opened)))
    except UpstreamError as exc:
        failed = True
        yield b"data: " + orjson.dumps({"error": openai_error(exc)}) + b"\n\n"
    finally:
        # When no model answered there is nothing to count, as in the chat session.
        served = None if failed and not answered else _served(services, stream, opened)
        _settle(services, user_id, opened, said.final_usage(opened), served)
    yield b"data: [DONE]\n\n"
