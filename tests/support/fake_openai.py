"""A faithful fake of an OpenAI-compatible chat server: SSE chunks, a final usage chunk, a
configurable delay per token and failure modes. Like the real servers it wants a bearer API key
(401 without) and JSON request bodies (400 otherwise). Used by tests and benchmarks.

The last user message steers it:
  `[tokens=N]`   reply with N tokens (default: the server's `tokens`)
  `[delay=MS]`   wait MS milliseconds before each token (default: the server's `delay_ms`)
  `[error=500]`  answer HTTP 500 with an OpenAI-style error body
  `[cut=N]`      send N tokens, then drop the connection without finishing
  `[hang]`       accept the request and never answer
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

WORDS = ("Kiroshi", " streams", " every", " token", " as", " soon", " as", " it", " can", ".")


@dataclass
class FakeOpenAI:
    tokens: int = 12
    delay_ms: float = 0.0
    port: int = 0
    requests: list[dict[str, Any]] = field(default_factory=list)
    models: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "small-model")

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
        if not headers.get(b"authorization", b"").startswith(b"Bearer "):
            await _json(send, 401, {"error": {"message": "no API key", "type": "invalid_request_error"}})
        elif scope["method"] == "POST" and headers.get(b"content-type") != b"application/json":
            await _json(send, 400, {"error": {"message": "send JSON", "type": "invalid_request_error"}})
        elif scope["path"].endswith("/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"} for m in self.models]
            await _json(send, 200, {"object": "list", "data": data})
        elif scope["path"].endswith("/chat/completions"):
            await self._completion(orjson.loads(body), send)
        else:
            await _json(send, 404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    async def _completion(self, request: dict[str, Any], send: Any) -> None:
        self.requests.append(request)
        prompt = next((m["content"] for m in reversed(request["messages"]) if m["role"] == "user"), "")
        knob = lambda name, default: float(m.group(1)) if (m := re.search(rf"\[{name}=(\d+)\]", prompt)) else default  # noqa: E731
        if "[hang]" in prompt:
            await asyncio.sleep(3600)
        if (status := int(knob("error", 0))) != 0:
            await _json(send, status, {"error": {"message": "the fake upstream failed", "type": "server_error"}})
            return
        count = int(knob("tokens", self.tokens))
        count = min(count, request.get("max_tokens") or request.get("max_completion_tokens") or count)
        delay = knob("delay", self.delay_ms) / 1000
        cut = int(knob("cut", -1))
        words = [WORDS[i % len(WORDS)] for i in range(count)]
        prompt_tokens = sum(len(str(m.get("content", ""))) // 4 + 4 for m in request["messages"])
        usage = {"prompt_tokens": prompt_tokens, "completion_tokens": count, "total_tokens": prompt_tokens + count}
        base = {"id": "chatcmpl-fake", "created": int(time.time()), "model": request["model"]}
        if not request.get("stream"):
            message = {"role": "assistant", "content": "".join(words)}
            choice = {"index": 0, "message": message, "finish_reason": "stop"}
            await _json(send, 200, {**base, "object": "chat.completion", "choices": [choice], "usage": usage})
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream"), (b"cache-control", b"no-cache")],
            }
        )
        for i, word in enumerate(words):
            if i == cut:
                raise ConnectionResetError("the fake upstream drops the stream")
            if delay:
                await asyncio.sleep(delay)
            delta = {"role": "assistant", "content": word} if i == 0 else {"content": word}
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
            "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
        }
        tail = b"data: " + orjson.dumps(final) + b"\n\n"
        if (request.get("stream_options") or {}).get("include_usage"):
            tail += (
                b"data: "
                + orjson.dumps({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
                + b"\n\n"
            )
        await send({"type": "http.response.body", "body": tail + b"data: [DONE]\n\n"})

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
