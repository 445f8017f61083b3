"""POST /v1/chat/completions — any authenticated caller (a Kiroshi token as the API key).

OpenAI-compatible, streaming (server-sent events) or not, tools and tool calls included, with the
same model access, quota and usage accounting as the chat session: the official OpenAI SDKs work
against Kiroshi, and its errors are OpenAI's error object. The same limits too: a message over
KIROSHI_MAX_MESSAGE_CHARS characters is 422; messages (and tool definitions) that together exceed
one message and KIROSHI_CONTEXT_TOKENS of history (in characters) are 413; a model outside the
caller's plan is 404. The quota reserves the most the request can cost (its UTF-8 bytes, plus the
longest reply): 429 when that does not fit."""

from __future__ import annotations

from typing import Any

from lib.chats.completions import complete, open_completion, stream_completion
from lib.http.dispatch import Call
from lib.http.messages import Reply


async def handler(call: Call) -> Reply | dict[str, Any]:
    user_id = call.caller.user_id
    opened = open_completion(call.services, user_id, call.body)
    if call.body["stream"]:
        include_usage = bool((call.body.get("stream_options") or {}).get("include_usage"))
        events = stream_completion(call.services, user_id, opened, include_usage)
        return Reply(events, content_type="text/event-stream", headers={"Cache-Control": "no-cache"})
    return await complete(call.services, user_id, opened)
