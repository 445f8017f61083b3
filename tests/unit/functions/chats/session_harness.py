"""The chat session in process: the real engine and dispatch, a scripted model whose usage is the
worst a byte-level tokenizer can report, and a socket that records its frames."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from lib.accounts.principal import authenticate
from lib.chats import repository as chats
from lib.chats.connections import Connection
from lib.chats.engine import ChatEngine
from lib.llm import Usage
from lib.services import Services
from tests.support.client import Account, Client


def worst_prompt_tokens(messages: list[dict[str, str]]) -> int:
    """What a tokenizer that splits every text into single bytes reports (with OpenAI's 4 tokens
    per message and 3 for the reply's header): more than the ~4 characters a token that English
    averages, and what adversarial text (emoji, rare scripts, random bytes) really costs."""
    return 3 + sum(len(m["content"].encode()) + 4 for m in messages)


@dataclass
class ScriptedModel:
    """Streams `words` one-token deltas (at most `max_tokens`), `delay` seconds apart; after the
    first delta it waits for `gate` when one is set. Records each request's messages."""

    words: int = 6
    delay: float = 0.0
    gate: asyncio.Event | None = None
    on_stream: Callable[[], None] | None = None
    requests: list[list[dict[str, str]]] = field(default_factory=list)
    adapter: str = "scripted"

    async def stream(
        self, model: str, messages: list[dict[str, str]], max_tokens: int, options: dict[str, Any] | None = None
    ) -> AsyncIterator[str | Usage]:
        self.requests.append([dict(m) for m in messages])
        if self.on_stream is not None:
            self.on_stream()
        count = min(self.words, max_tokens)
        for index in range(count):
            if index == 1 and self.gate is not None:
                await self.gate.wait()
            if self.delay:
                await asyncio.sleep(self.delay)
            yield f"w{index} "
        yield Usage(worst_prompt_tokens(messages), count)

    async def close(self) -> None:
        return None


@dataclass(eq=False)
class Socket:
    frames: list[dict[str, Any]] = field(default_factory=list)
    closed_with: int | None = None

    async def send_text(self, text: str) -> None:
        self.frames.append(orjson.loads(text))

    async def close(self, code: int) -> None:
        self.closed_with = code

    def kinds(self) -> list[str]:
        return [f["type"] for f in self.frames]


async def until(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the condition never held")
        await asyncio.sleep(0.005)


def new_chat(client: Client, account: Account) -> str:
    answer = client.post(f"/chats/{account.user_id}", {"model": "gpt-4o-mini"}, token=account.token)
    assert answer.status == 201, answer
    return str(answer.json["chat_id"])


async def open_session(
    engine: ChatEngine, services: Services, account: Account, chat_id: str
) -> tuple[Connection, Socket]:
    chat = chats.get_chat(services.db, chat_id)
    assert chat is not None
    socket = Socket()
    claims = authenticate(services, account.token).claims
    return await engine.open(claims, chat, socket, None, -1), socket


async def say(engine: ChatEngine, connection: Connection, socket: Socket, content: str) -> dict[str, Any]:
    """Send a message; the final frame (`done` or `error`)."""
    seen = len(socket.frames)
    await engine.receive(connection, orjson.dumps({"type": "message", "content": content}).decode())
    await until(lambda: any(f["type"] in ("done", "error") for f in socket.frames[seen:]))
    return next(f for f in socket.frames[seen:] if f["type"] in ("done", "error"))
