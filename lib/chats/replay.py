"""Where a reply's frames wait for a client that resumes on another instance.

In one process the reply's own buffer serves resumes (`LocalReplay` keeps nothing more). With
Redis (`RedisReplay`, lib/cache/redis.py) every frame is also appended to a Redis stream per chat,
which a resuming client on any instance reads from its last index and then follows live.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

__all__ = ["LocalReplay", "Replay"]


class Replay(Protocol):
    def start(self, chat_id: str) -> None:
        """A new reply begins on this chat (its buffer starts empty)."""
        ...

    def push(self, chat_id: str, frame: str) -> None:
        """Append a delta frame; never blocks the relay."""
        ...

    def finish(self, chat_id: str, frame: str) -> None:
        """Append the final (`done` or `error`) frame."""
        ...

    def follow(self, chat_id: str, after: int) -> AsyncIterator[str]:
        """Frames of the chat's latest reply with an index above `after`, then the live rest,
        ending with the final frame (nothing when no reply is known)."""
        ...


class LocalReplay:
    def start(self, chat_id: str) -> None:
        return None

    def push(self, chat_id: str, frame: str) -> None:
        return None

    def finish(self, chat_id: str, frame: str) -> None:
        return None

    async def follow(self, chat_id: str, after: int) -> AsyncIterator[str]:
        return
        yield  # an empty async generator
