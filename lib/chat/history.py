"""What the model sees of a chat: its history, newest kept first, within a token budget."""

from __future__ import annotations

from collections.abc import Sequence

from lib.db.chats import Message

__all__ = ["context_messages", "estimate_tokens"]

PER_MESSAGE = 4  # the role and separators each message costs


def estimate_tokens(content: str | Sequence[dict[str, str]]) -> int:
    """A cheap upper-leaning estimate: ~4 characters per token, plus a little per message."""
    if isinstance(content, str):
        return len(content) // 4 + 1
    return sum(len(m["content"]) // 4 + 1 + PER_MESSAGE for m in content)


def context_messages(history: Sequence[Message], new_content: str, budget: int) -> list[dict[str, str]]:
    """The new user message and as much recent history as fits `budget` tokens, in order.

    Replies that failed before saying anything are left out.
    """
    kept = [{"role": "user", "content": new_content}]
    spent = estimate_tokens(kept)
    for message in reversed(history):
        if not message.content:
            continue
        entry = {"role": message.role, "content": message.content}
        cost = estimate_tokens([entry])
        if spent + cost > budget:
            break
        kept.append(entry)
        spent += cost
    kept.reverse()
    return kept
