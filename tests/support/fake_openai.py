"""A faithful fake of an OpenAI-compatible chat server: SSE chunks, a final usage chunk, a
configurable delay per token and failure modes. Like the real servers it wants a bearer API key
(401 without; with `api_key` set, 401 for any other key, its message echoing the key masked as
OpenAI's does) and JSON request bodies (400 otherwise). Used by tests and benchmarks.

The last user message steers it:
  `[tokens=N]`   reply with N tokens (default: the server's `tokens`)
  `[delay=MS]`   wait MS milliseconds before each token (default: the server's `delay_ms`)
  `[error=500]`  answer HTTP 500 (or 401, 403, 429, ...) with an OpenAI-style error body
  `[cut=N]`      send N tokens, then drop the connection without finishing
  `[hang]`       accept the request and never answer
  `[calls=N]`    with `tools`, call N of them at once (default 1; 1 with `parallel_tool_calls: false`)
  `[echo]`       reply with the message itself (the knobs taken out), a word (with the space before it) a token
With `tools` (and `tool_choice` not "none") it calls a tool as OpenAI streams calls: `delta.tool_calls`
chunks (`index`, `id`, `type`, `function.name`, then `function.arguments` in pieces), finish_reason
`tool_calls`; the tool's argument is the prompt. After a `tool` message it answers what the tool said.
A model in `new_models` refuses `max_tokens` (400, as OpenAI's reasoning models); one in `old_models`
refuses `stream_options` and `max_completion_tokens` (400, as older compatible servers).
Run it alone: `python -m tests.support.fake_openai PORT [TOKENS] [DELAY_MS]`.
"""

from __future__ import annotations

import asyncio
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn

ERROR_CODES = {401: "invalid_api_key", 403: "unsupported_country_region_territory", 429: "rate_limit_exceeded"}
WORDS = ("Kiroshi", " streams", " every", " token", " as", " soon", " as", " it", " can", ".")


@dataclass
class FakeOpenAI:
    tokens: int = 12
    delay_ms: float = 0.0
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    models: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "small-model")
    api_key: str | None = None
    new_models: frozenset[str] = frozenset()
    old_models: frozenset[str] = frozenset()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = dict(scope["headers"])
        if (refusal := self._refusal(headers.get(b"authorization", b""))) is not None:
            await _json(send, 401, refusal)
        elif scope["method"] == "POST" and headers.get(b"content-type") != b"application/json":
            await _json(send, 400, {"error": {"message": "send JSON", "type": "invalid_request_error"}})
        elif scope["path"].endswith("/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
            await _json(send, 200, {"object": "list", "data": data})
        elif scope["path"].endswith("/chat/completions"):
            await self._completion(orjson.loads(body), send)
        else:
            await _json(send, 404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def _refusal(self, authorization: bytes) -> dict[str, Any] | None:
        """The 401 body for a missing or (with `api_key` set) wrong key; None when the key is good.
        Like OpenAI's, the message shows a wrong key's start and end."""
        if not authorization.startswith(b"Bearer "):
            return {"error": {"message": "no API key", "type": "invalid_request_error"}}
        key = authorization[7:].decode(errors="replace")
        if self.api_key is None or key == self.api_key:
            return None
        masked = key[:3] + "*" * (len(key) - 7) + key[-4:] if len(key) > 12 else "*" * len(key)
        message = f"Incorrect API key provided: {masked}. You can find your API key at https://platform.openai.com/account/api-keys."
        return {
            "error": {"message": message, "type": "invalid_request_error", "param": None, "code": "invalid_api_key"}
        }

    async def _completion(self, request: dict[str, Any], send: Any) -> None:
        self.requests.append(request)
        prompt = next((m["content"] for m in reversed(request["messages"]) if m["role"] == "user"), "")

        def knob(name: str, default: float) -> float:
            found = re.search(rf"\[{name}=(\d+)\]", prompt)
            return float(found.group(1)) if found else default

        if "[hang]" in prompt:
            await asyncio.sleep(3600)
        if (refusal := self._unsupported(request)) is not None:
            await _json(send, 400, refusal)
            return
        if (status := int(knob("error", 0))) != 0:
            code = ERROR_CODES.get(status, "server_error")
            error = {"message": "the fake upstream failed", "type": code, "param": None, "code": code}
            await _json(send, status, {"error": error})
            return
        count = int(knob("tokens", self.tokens))
        count = min(count, request.get("max_tokens") or request.get("max_completion_tokens") or count)
        delay = knob("delay", self.delay_ms) / 1000
        cut = int(knob("cut", -1))
        deltas, finish = _reply(request, prompt, count, int(knob("calls", 1)))
        count = len(deltas)
        prompt_tokens = sum(len(str(m.get("content", ""))) // 4 + 4 for m in request["messages"])
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": count, "total_tokens": prompt_tokens + count}
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": request["model"]}
        if not request.get("stream"):
            choice = {"index": 0, "message": _whole(deltas), "finish_reason": finish}
            await _json(send, 200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
            }
        )
        for i, delta in enumerate(deltas):
            if i == cut:
                raise ConnectionResetError("the fake upstream drops the stream")
            if delay:
                await asyncio.sleep(delay)
            delta = {"role": "assistant", **delta} if i == 0 else delta
            chunk = {
                **base,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "finish_reason": None}],
            }
            await send(
                {"type": "http.response.body", "body": b"data: " + orjson.dumps(chunk) + b"\n\n", "more_body": True}
            )
        final = {
            **base,
            "object": "chat.completion.chunk",
            "choices": [{"index": 0, "delta": {}, "finish_reason": finish}],
        }
        tail = b"data: " + orjson.dumps(final) + b"\n\n"
        if (request.get("stream_options") or {}).get("include_usage"):
            tail += (
                b"data: "
                + orjson.dumps({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
                + b"\n\n"
            )
        await send({"type": "http.response.body", "body": tail + b"data: [DONE]\n\n"})

    def _unsupported(self, request: dict[str, Any]) -> dict[str, Any] | None:
        """The 400 body for a parameter the model refuses, as OpenAI words it; None when none is."""
        model = request["model"]
        refused: tuple[str, ...] = ("max_tokens",) if model in self.new_models else ()
        refused += ("stream_options", "max_completion_tokens") if model in self.old_models else ()
        name = next((p for p in refused if p in request), None)
        if name == "max_tokens":
            message = (
                "Unsupported parameter: 'max_tokens' is not supported with this model."
                " Use 'max_completion_tokens' instead."
            )
            error = {
                "message": message,
                "type": "invalid_request_error",
                "param": name,
                "code": "unsupported_parameter",
            }
            return {"error": error}
        if name is not None:
            message = f"Unrecognized request argument supplied: {name}"
            return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}}
        return None

    def serve_in_thread(self) -> FakeOpenAI:
        """Serve on 127.0.0.1 (a free port unless `port` is set) until the process ends."""
        config = uvicorn.Config(
            self, host="127.0.0.1", port=self.port, log_level="error", lifespan="off", loop="asyncio", http="httptools"
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        self.port = server.servers[0].sockets[0].getsockname()[1]
        self._server = server
        return self

    def stop(self) -> None:
        self._server.should_exit = True

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"


def _reply(request: dict[str, Any], prompt: str, count: int, calls: int) -> tuple[list[dict[str, Any]], str]:
    """The reply's deltas and finish reason: after a tool's result, what it said; with tools, `calls`
    calls of them (the arguments in pieces of 8 characters); else `count` words."""
    last = request["messages"][-1]
    if last["role"] == "tool":
        return [{"content": w} for w in ("The", " tool", " said", ": ", str(last["content"]))][:count], "stop"
    tools, choice = request.get("tools") or [], request.get("tool_choice", "auto")
    if "[echo]" in prompt and not tools:
        return [{"content": word} for word in re.findall(r"\s*\S+", re.sub(r"\[[^\]]*\] ?", "", prompt))], "stop"
    if not tools or choice == "none":
        return [{"content": WORDS[i % len(WORDS)]} for i in range(count)], "stop"
    if isinstance(choice, dict):
        tools = [t for t in tools if t["function"]["name"] == choice["function"]["name"]]
    deltas: list[dict[str, Any]] = []
    for index in range(1 if request.get("parallel_tool_calls") is False else calls):
        function = tools[index % len(tools)]["function"]
        key = next(iter((function.get("parameters") or {}).get("properties") or {"input": None}))
        arguments = orjson.dumps({key: re.sub(r"\[[^\]]*\]", "", prompt).strip()}).decode()
        start = {"index": index, "id": f"call_{index}_{time.time_ns():x}", "type": "function"}
        deltas.append({"tool_calls": [{**start, "function": {"name": function["name"], "arguments": ""}}]})
        pieces = [arguments[i : i + 8] for i in range(0, len(arguments), 8)]
        deltas += [{"tool_calls": [{"index": index, "function": {"arguments": piece}}]} for piece in pieces]
    deltas[0] = {"content": None, **deltas[0]}
    return deltas, "tool_calls"


def _whole(deltas: list[dict[str, Any]]) -> dict[str, Any]:
    """The message that `deltas` make, as a non-streamed answer carries it."""
    content = "".join(d.get("content") or "" for d in deltas)
    calls: dict[int, dict[str, Any]] = {}
    for delta in deltas:
        for part in delta.get("tool_calls", ()):
            function = part["function"]
            call = calls.setdefault(part["index"], {"id": part.get("id"), "type": "function", "function": {}})
            call["function"]["name"] = call["function"].get("name") or function.get("name")
            call["function"]["arguments"] = call["function"].get("arguments", "") + function.get("arguments", "")
    if not calls:
        return {"role": "assistant", "content": content}
    return {"role": "assistant", "content": content or None, "tool_calls": list(calls.values())}


async def _json(send: Any, status: int, body: dict[str, Any]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": orjson.dumps(body)})


if __name__ == "__main__":
    fake = FakeOpenAI(
        tokens=int(sys.argv[2]) if len(sys.argv) > 2 else 12, delay_ms=float(sys.argv[3]) if len(sys.argv) > 3 else 0.0
    )
    uvicorn.run(
        fake,
        host="127.0.0.1",
        port=int(sys.argv[1]),
        log_level="error",
        lifespan="off",
        loop="uvloop",
        http="httptools",
    )
