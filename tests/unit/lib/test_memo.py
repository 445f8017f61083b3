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
    assert memo.size() <= 10
    assert memo.load("user24", 1, lambda: "reloaded") == "v"  # the newest is still there


def test_writes_keep_the_memo_bounded_too() -> None:
    memo = Memo(enabled=True, max_entries=10)
    for i in range(25):
        memo.replace(f"user{i}", "used", i, memo.generation(f"user{i}"))
    assert memo.size() <= 10
    assert memo.owners() <= 10
    assert memo.load("user24", "used", lambda: -1) == 24


def test_the_write_generations_of_many_owners_stay_bounded() -> None:
    memo = Memo(enabled=True, max_entries=10)
    memo.load("alice", "k", lambda: "a")
    for i in range(1000):
        memo.invalidate(f"user{i}")  # every account that ever wrote
    assert memo.owners() <= 10
    assert memo.load("alice", "k", lambda: "reloaded") == "a"  # values outlive the generations


def test_a_load_across_forgotten_generations_is_not_kept() -> None:
    memo = Memo(enabled=True, max_entries=10)
    database = {"alice": "old"}

    def read_while_others_write() -> str:
        value = database["alice"]
        database["alice"] = "new"
        for i in range(20):  # enough writers that the generations are forgotten meanwhile
            memo.invalidate(f"user{i}")
        memo.invalidate("alice")
        for i in range(20, 40):
            memo.invalidate(f"user{i}")
        return value

    assert memo.load("alice", "k", read_while_others_write) == "old"
    assert memo.load("alice", "k", lambda: database["alice"]) == "new"


def test_an_owner_left_with_no_values_is_forgotten() -> None:
    memo = Memo(enabled=True)
    for i in range(100):
        memo.load(f"user{i}", "k", lambda: "v")
        memo.invalidate(f"user{i}", "k")
    assert memo.size() == 0
    assert memo._entries == {}


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
