"""What a chat session is made of: the transport a frame travels on, a client connection, a reply
being generated, and the frames themselves (JSON text, encoded once)."""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from lib.auth.tokens import TokenClaims
from lib.chats.quota import Reservation
from lib.chats.repository import Chat

__all__ = ["Connection", "EndedReplies", "ReplyJob", "Transport", "error_frame", "frame"]


class Transport(Protocol):
    async def send_text(self, text: str) -> None: ...

    async def close(self, code: int) -> None: ...


@dataclass(eq=False)
class Connection:
    """One client socket on one chat."""

    claims: TokenClaims
    chat: Chat
    session_token: str
    transport: Transport
    closed: bool = False
    follower: asyncio.Task[None] | None = None  # forwards a reply running on another instance

    @property
    def user_id(self) -> str:
        return self.claims.user_id

    @property
    def jti(self) -> str:
        return self.claims.jti

    async def send(self, frame: str) -> bool:
        if self.closed:
            return False
        try:
            await self.transport.send_text(frame)
        except Exception:  # a dropped client: the reply goes on without it
            self.closed = True
            return False
        return True


@dataclass(eq=False)
class ReplyJob:
    chat: Chat
    message_id: str
    reservation: Reservation
    listeners: set[Connection]
    user_turn: tuple[dict[str, str], int] = ({}, 0)
    streaming: bool = True  # until the model's stream ends; only then can `stop` cancel it
    deltas: list[str] = field(default_factory=list)
    final_frame: str | None = None
    task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self.final_frame is None


class EndedReplies:
    """Replies that ended, kept in `jobs` (the engine's, by chat) for clients that resume: each
    until `forget` (the engine calls it a grace period after the end), and at most `limit` at
    once, the oldest forgotten first."""

    def __init__(self, jobs: dict[str, ReplyJob], limit: int) -> None:
        self._jobs = jobs
        self._ended: OrderedDict[int, ReplyJob] = OrderedDict()
        self._limit = limit

    def __len__(self) -> int:
        return len(self._ended)

    def add(self, job: ReplyJob) -> None:
        self._ended[id(job)] = job
        while len(self._ended) > self._limit:
            self.forget(next(iter(self._ended.values())))

    def forget(self, job: ReplyJob) -> None:
        self._ended.pop(id(job), None)
        if self._jobs.get(job.chat.chat_id) is job:
            del self._jobs[job.chat.chat_id]


def frame(**fields: Any) -> str:
    return orjson.dumps(fields).decode()


def error_frame(code: str, message: str) -> str:
    return frame(type="error", code=code, message=message)
