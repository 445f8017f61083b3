"""What the model sees of a chat: its history, newest kept first, within a token budget; and a
per-process cache of recent turns, checked against the chat's message count.

Token counts here are upper bounds that hold for any text, never estimates: a byte-level BPE
tokenizer (GPT's, Llama's, Qwen's, ...) spends at least one UTF-8 byte per token, so a text has
at most as many tokens as bytes. Quotas reserve by these bounds (lib.chats.quota), so that no
text, however it tokenizes, spends more than was reserved.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

__all__ = [
    "HISTORY_LIMIT",
    "PER_REQUEST",
    "TURN_OVERHEAD",
    "TurnCache",
    "context_messages",
    "text_bound",
    "tokens_bound",
    "weighed",
]

PER_MESSAGE = 8  # the role and the chat template's separators of one message (4-6 in common templates)
PER_REQUEST = 8  # the template's start and the reply's header (3-5 in common templates)
HISTORY_LIMIT = 100  # messages kept per chat, before the token budget trims them
TURN_OVERHEAD = 320  # bytes a cached turn costs beyond its text: its dict, tuple and str headers

Turn = dict[str, str]


def text_bound(text: str) -> int:
    """The most tokens `text` can be: its UTF-8 bytes."""
    return len(text.encode())


def tokens_bound(messages: Sequence[Turn]) -> int:
    """The most tokens a prompt of these messages can be."""
    return PER_REQUEST + sum(text_bound(m["content"]) + PER_MESSAGE for m in messages)


def context_messages(history: Sequence[tuple[Turn, int]], budget: int) -> tuple[list[Turn], int]:
    """As much of the history (`(turn, tokens)` pairs ending with the new user message) as fits
    `budget` tokens, oldest first, and the most tokens it can be (`tokens_bound` of it).

    The newest message is always kept, even alone over the budget; replies that failed before
    saying anything are left out.
    """
    newest, newest_cost = history[-1]
    kept, spent = [newest], PER_REQUEST + newest_cost
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
    """The turn with the most tokens it can add to a prompt."""
    return turn, text_bound(turn["content"]) + PER_MESSAGE


class TurnCache:
    """Recent turns per chat (with their token bounds), so that a turn needs no history read.
    An entry is trusted only while its count follows the chat's message count (another process
    may have added messages).

    Bounded twice, least recently used chats going first: at most `max_chats` chats, and at most
    `max_bytes` held, counted as each turn's UTF-8 bytes plus TURN_OVERHEAD (the chat just used
    stays, even alone over the bound)."""

    def __init__(self, max_chats: int = 4096, max_bytes: int = 64 << 20) -> None:
        self._chats: OrderedDict[str, tuple[int, list[tuple[Turn, int]]]] = OrderedDict()
        self._weights: dict[str, int] = {}
        self._max = max_chats
        self._max_bytes = max_bytes
        self.bytes = 0  # what the entries weigh now

    def __len__(self) -> int:
        return len(self._chats)

    def get(self, chat_id: str, load: Callable[[], tuple[int, list[Turn]]]) -> list[tuple[Turn, int]]:
        """The chat's recent turns, oldest first, loaded on a miss."""
        entry = self._chats.get(chat_id)
        if entry is None:
            count, turns = load()
            entry = (count, [weighed(t) for t in turns])
            self._put(chat_id, entry)
        else:
            self._chats.move_to_end(chat_id)
        return entry[1]

    def append(self, chat_id: str, count: int, turn: tuple[Turn, int]) -> None:
        """Record that the chat now has `count` messages, the last being `turn`. An entry that
        missed a message is dropped (the next `get` reloads it)."""
        entry = self._pop(chat_id)
        if entry is not None and entry[0] == count - 1:
            self._put(chat_id, (count, [*entry[1], turn][-HISTORY_LIMIT:]))

    def drop(self, chat_id: str) -> None:
        """Forget the chat (deleted)."""
        self._pop(chat_id)

    def _pop(self, chat_id: str) -> tuple[int, list[tuple[Turn, int]]] | None:
        self.bytes -= self._weights.pop(chat_id, 0)
        return self._chats.pop(chat_id, None)

    def _put(self, chat_id: str, entry: tuple[int, list[tuple[Turn, int]]]) -> None:
        self._pop(chat_id)
        weight = sum(cost + TURN_OVERHEAD for _, cost in entry[1])
        self._chats[chat_id] = entry
        self._weights[chat_id] = weight
        self.bytes += weight
        while len(self._chats) > 1 and (len(self._chats) > self._max or self.bytes > self._max_bytes):
            self._pop(next(iter(self._chats)))
