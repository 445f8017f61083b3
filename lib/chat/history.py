"""What the model sees of a chat: its history, newest kept first, within a token budget; and a
per-process cache of recent turns, checked against the chat's message count."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

__all__ = ["HISTORY_LIMIT", "TurnCache", "context_messages", "estimate_tokens", "weighed"]

PER_MESSAGE = 4  # the role and separators each message costs
HISTORY_LIMIT = 100  # messages kept per chat, before the token budget trims them

Turn = dict[str, str]


def estimate_tokens(content: str | Sequence[Turn]) -> int:
    """A cheap upper-leaning estimate: ~4 characters per token, plus a little per message."""
    if isinstance(content, str):
        return len(content) // 4 + 1
    return sum(len(m["content"]) // 4 + 1 + PER_MESSAGE for m in content)


def context_messages(history: Sequence[tuple[Turn, int]], budget: int) -> tuple[list[Turn], int]:
    """As much of the history (`(turn, tokens)` pairs ending with the new user message) as fits
    `budget` tokens, oldest first, and its token estimate.

    The newest message is always kept; replies that failed before saying anything are left out.
    """
    newest, spent = history[-1]
    kept = [newest]
    for turn, cost in reversed(history[:-1]):
        if not turn["content"]:
            continue
        if spent + cost > budget:
            break
        kept.append(turn)
        spent += cost
    kept.reverse()
    return kept, spent


def weighed(turn: Turn) -> tuple[Turn, int]:
    return turn, estimate_tokens([turn])


class TurnCache:
    """Recent turns per chat (with their token estimates), so that a turn needs no history read.
    An entry is trusted only while its count follows the chat's message count (another process
    may have added messages)."""

    def __init__(self, max_chats: int = 4096) -> None:
        self._chats: OrderedDict[str, tuple[int, list[tuple[Turn, int]]]] = OrderedDict()
        self._max = max_chats

    def get(self, chat_id: str, load: Callable[[], tuple[int, list[Turn]]]) -> list[tuple[Turn, int]]:
        """The chat's recent turns, oldest first, loaded on a miss."""
        entry = self._chats.get(chat_id)
        if entry is None:
            count, turns = load()
            entry = (count, [weighed(t) for t in turns])
            self._put(chat_id, entry)
        return entry[1]

    def append(self, chat_id: str, count: int, turn: tuple[Turn, int]) -> None:
        """Record that the chat now has `count` messages, the last being `turn`. An entry that
        missed a message is dropped (the next `get` reloads it)."""
        entry = self._chats.pop(chat_id, None)
        if entry is not None and entry[0] == count - 1:
            self._put(chat_id, (count, [*entry[1], turn][-HISTORY_LIMIT:]))

    def _put(self, chat_id: str, entry: tuple[int, list[tuple[Turn, int]]]) -> None:
        self._chats[chat_id] = entry
        self._chats.move_to_end(chat_id)
        if len(self._chats) > self._max:
            self._chats.popitem(last=False)
