"""What the model sees of a chat (lib.chats.history), as tables: token bounds, the history that
fits a budget, and the per-process cache of recent turns."""

from __future__ import annotations

import pytest

from lib.chats.history import (
    HISTORY_LIMIT,
    PER_REQUEST,
    TURN_OVERHEAD,
    TurnCache,
    context_messages,
    text_bound,
    tokens_bound,
    weighed,
)


def _turn(content: str, role: str = "user") -> dict[str, str]:
    return {"role": role, "content": content}


@pytest.mark.parametrize(("text", "bound"), [("", 0), ("abc", 3), ("é", 2), ("€", 3), ("🙂", 4), ("a€🙂", 8)])
def test_a_text_is_at_most_as_many_tokens_as_utf8_bytes(text: str, bound: int) -> None:
    assert text_bound(text) == bound


@pytest.mark.parametrize(
    ("contents", "bound"), [([], 8), (["abc"], 8 + 3 + 8), (["abc", ""], 8 + 11 + 8), (["€", "🙂"], 8 + 11 + 12)]
)
def test_a_prompt_is_at_most_its_texts_and_the_templates_share(contents: list[str], bound: int) -> None:
    assert tokens_bound([_turn(c) for c in contents]) == bound
    assert PER_REQUEST == 8


def test_a_turn_weighs_its_text_and_its_template() -> None:
    turn = _turn("€uro", "assistant")

    assert weighed(turn) == (turn, 6 + 8)


A, B, C, D = _turn("a"), _turn("b", "assistant"), _turn("c"), _turn("d", "assistant")


@pytest.mark.parametrize(
    ("history", "budget", "kept", "spent"),
    [
        ([(A, 100)], 10, [A], 108),  # the newest message stays, alone over the budget
        ([(A, 10), (B, 10), (C, 10)], 38, [A, B, C], 38),  # exactly the budget
        ([(A, 10), (B, 10), (C, 10)], 37, [B, C], 28),
        ([(A, 10), (B, 10), (C, 10)], 27, [C], 18),
        ([(A, 1), (B, 100), (C, 10)], 50, [C], 18),  # history stops at the first turn that does not fit
        ([(A, 9), (_turn("", "assistant"), 8), (C, 10)], 100, [A, C], 27),  # a reply that said nothing
        ([(A, 9), (_turn("", "assistant"), 8), (B, 9), (C, 10)], 100, [A, B, C], 36),
        ([(A, 5), (B, 6), (C, 7), (D, 8)], 100, [A, B, C, D], 34),  # oldest first
    ],
)
def test_the_history_that_fits_the_budget(
    history: list[tuple[dict[str, str], int]], budget: int, kept: list[dict[str, str]], spent: int
) -> None:
    assert context_messages(history, budget) == (kept, spent)


class Loader:
    """A chat's turns as the database would answer them, counting the reads."""

    def __init__(self, count: int, turns: list[dict[str, str]]) -> None:
        self.count, self.turns, self.reads = count, turns, 0

    def __call__(self) -> tuple[int, list[dict[str, str]]]:
        self.reads += 1
        return self.count, list(self.turns)


def test_a_chats_turns_are_read_once_then_kept() -> None:
    cache, load = TurnCache(), Loader(2, [A, B])

    first = cache.get("chat-1", load)
    again = cache.get("chat-1", load)

    assert first == again == [weighed(A), weighed(B)]
    assert load.reads == 1


def test_a_turn_that_follows_is_appended_without_a_read() -> None:
    cache, load = TurnCache(), Loader(2, [A, B])
    cache.get("chat-1", load)

    cache.append("chat-1", 3, weighed(C))

    assert cache.get("chat-1", load) == [weighed(A), weighed(B), weighed(C)]
    assert load.reads == 1


@pytest.mark.parametrize("count", [2, 4, 5, 1])
def test_a_cache_entry_that_missed_a_message_is_read_again(count: int) -> None:
    cache, load = TurnCache(), Loader(2, [A, B])
    cache.get("chat-1", load)

    cache.append("chat-1", count, weighed(C))  # another process wrote in between

    assert cache.get("chat-1", load) == [weighed(A), weighed(B)]
    assert load.reads == 2


def test_appending_to_a_chat_not_kept_keeps_nothing() -> None:
    cache, load = TurnCache(), Loader(3, [A, B, C])

    cache.append("chat-1", 3, weighed(C))

    assert cache.get("chat-1", load) == [weighed(A), weighed(B), weighed(C)]
    assert load.reads == 1


def test_a_chat_keeps_its_last_hundred_turns() -> None:
    turns = [_turn(str(i)) for i in range(HISTORY_LIMIT)]
    cache, load = TurnCache(), Loader(HISTORY_LIMIT, turns)
    cache.get("chat-1", load)

    cache.append("chat-1", HISTORY_LIMIT + 1, weighed(C))

    assert cache.get("chat-1", load) == [weighed(t) for t in turns[1:]] + [weighed(C)]
    assert HISTORY_LIMIT == 100


def test_a_dropped_chat_is_read_again() -> None:
    cache, load, other = TurnCache(), Loader(1, [A]), Loader(1, [B])
    cache.get("chat-1", load)
    cache.get("chat-2", other)

    cache.drop("chat-1")
    cache.drop("chat-3")  # not kept: nothing to do

    assert cache.get("chat-1", load) == [weighed(A)]
    assert cache.get("chat-2", other) == [weighed(B)]
    assert (load.reads, other.reads) == (2, 1)


def test_the_cache_forgets_the_chat_written_longest_ago() -> None:
    cache = TurnCache(max_chats=2)
    loads = {name: Loader(1, [A]) for name in ("a", "b", "c")}
    cache.get("a", loads["a"])
    cache.get("b", loads["b"])
    cache.append("a", 2, weighed(B))  # a was written last: b is now the oldest

    cache.get("c", loads["c"])
    for name in ("a", "c", "b"):
        cache.get(name, loads[name])

    assert {name: load.reads for name, load in loads.items()} == {"a": 1, "b": 2, "c": 1}


def test_the_cache_holds_4096_chats() -> None:
    cache = TurnCache()
    loads = [Loader(1, [A]) for _ in range(4097)]
    for index, load in enumerate(loads):
        cache.get(f"chat-{index}", load)

    cache.get("chat-1", loads[1])
    cache.get("chat-0", loads[0])

    assert (loads[0].reads, loads[1].reads) == (2, 1)


def test_the_cache_holds_at_most_its_bytes_of_turns_the_least_used_going_first() -> None:
    long = _turn("x" * 10_000)
    weight = weighed(long)[1] + TURN_OVERHEAD
    cache = TurnCache(max_bytes=10 * weight)
    loads = [Loader(1, [long]) for _ in range(30)]
    for index, load in enumerate(loads):
        cache.get(f"chat-{index}", load)
        cache.get("chat-0", loads[0])  # in use all along

    assert len(cache) == 10
    assert cache.bytes <= 10 * weight
    cache.get("chat-29", loads[29])
    cache.get("chat-0", loads[0])
    cache.get("chat-1", loads[1])
    assert (loads[29].reads, loads[0].reads, loads[1].reads) == (1, 1, 2)


def test_appended_turns_count_against_the_bytes_too() -> None:
    cache = TurnCache(max_bytes=50_000)
    loads = [Loader(1, [_turn("x" * 10_000)]), Loader(1, [_turn("x" * 10_000)]), Loader(0, [])]
    for index, load in enumerate(loads):
        cache.get(f"chat-{index}", load)
    for count in range(1, 16):
        cache.append("chat-2", count, weighed(_turn("y" * 2_000)))

    assert cache.bytes <= 50_000
    cache.get("chat-1", loads[1])
    cache.get("chat-0", loads[0])
    assert (loads[0].reads, loads[1].reads) == (2, 1)  # the oldest went to make room
    for name in ("chat-0", "chat-1", "chat-2"):
        cache.drop(name)
    assert (len(cache), cache.bytes) == (0, 0)


def test_one_chat_over_the_bytes_is_still_kept() -> None:
    cache = TurnCache(max_bytes=1_000)
    load = Loader(1, [_turn("z" * 5_000)])
    cache.get("big", load)
    cache.get("big", load)
    assert load.reads == 1
