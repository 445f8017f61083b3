from __future__ import annotations

from lib.db.memo import Memo


def test_a_read_that_raced_a_write_is_not_kept() -> None:
    memo = Memo(enabled=True)
    database = {"alice": "old"}

    def read_while_someone_writes() -> str:
        value = database["alice"]
        database["alice"] = "new"  # the write commits while the read is in flight...
        memo.invalidate("alice")  # ...and invalidates after committing
        return value

    assert memo.load("alice", "k", read_while_someone_writes) == "old"
    assert memo.load("alice", "k", lambda: database["alice"]) == "new"


def test_values_are_kept_until_their_owner_changes() -> None:
    memo = Memo(enabled=True)
    loads: list[str] = []

    def load(value: str) -> str:
        loads.append(value)
        return value

    memo.load("alice", 1, lambda: load("a1"))
    memo.load("alice", 1, lambda: load("ignored"))
    memo.load("bob", 1, lambda: load("b1"))
    memo.invalidate("alice")
    memo.load("alice", 1, lambda: load("a2"))
    memo.load("bob", 1, lambda: load("ignored"))

    assert loads == ["a1", "b1", "a2"]


def test_a_disabled_memo_always_loads() -> None:
    memo = Memo(enabled=False)
    assert [memo.load("x", 1, lambda i=i: i) for i in range(3)] == [0, 1, 2]


def test_the_memo_stays_bounded() -> None:
    memo = Memo(enabled=True, max_entries=10)
    for i in range(25):
        memo.load(f"user{i}", 1, lambda: "v")
    assert memo._size <= 10


def test_a_write_keeps_the_value_it_returned_unless_another_write_came_between() -> None:
    memo = Memo(enabled=True)
    memo.load("alice", "used", lambda: 10)

    before = memo.generation("alice")
    memo.replace("alice", "used", 15, before)  # the write returned the new total
    assert memo.load("alice", "used", lambda: -1) == 15

    before = memo.generation("alice")
    memo.invalidate("alice", "used")  # another writer committed meanwhile
    memo.replace("alice", "used", 20, before)
    assert memo.load("alice", "used", lambda: 25) == 25  # read again, never the racing write's value


def test_a_load_in_flight_during_a_write_is_not_kept() -> None:
    memo = Memo(enabled=True)

    def read_while_a_write_lands() -> int:
        memo.replace("alice", "used", 15, memo.generation("alice"))
        return 10  # what the read saw before the write

    assert memo.load("alice", "used", read_while_a_write_lands) == 10
    assert memo.load("alice", "used", lambda: -1) == 15
