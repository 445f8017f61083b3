"""Small transactions that share one commit, so that many share one fsync.

An fsynced commit of the embedded engine takes ~1-3 ms and commits run one after another: a
process streaming many replies would spend its time waiting on the disk, two commits per turn.
`GroupCommit` queues writes from any thread and commits everything waiting in one transaction on
a thread of its own; alone, a write commits at once, as before. When a shared transaction fails
(one write's chat was deleted meanwhile, say) each write is committed alone, so a write fails
only for its own reason and never because of its neighbours.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import queue
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from lib.db.connection import Database

__all__ = ["GroupCommit", "Write", "commit"]

log = logging.getLogger("kiroshi.db")

_VARIABLE = re.compile(r"\$(\w+)")
_LET = re.compile(r"\bLET\s+\$(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Write:
    """Statements that run atomically; the write's value is its last statement's result.

    No `RETURN` statements: inside a transaction, RETURN ends it early (the statements after it
    are silently skipped). `after` runs once the write is committed, with the results of its
    statements (to refresh or invalidate memoised reads).
    """

    statements: tuple[str, ...]
    params: Mapping[str, Any]
    after: Callable[[list[Any]], None] | None = field(default=None, compare=False)


def _renamed(write: Write, suffix: str) -> tuple[tuple[str, ...], dict[str, Any]]:
    """The write with its parameters and LET variables renamed apart from the other writes'."""
    statements = _renamed_statements(write.statements, frozenset(write.params), suffix)
    return statements, {f"{name}_{suffix}": value for name, value in write.params.items()}


@functools.lru_cache(maxsize=1024)  # few kinds of writes, suffixes w0..w99: the regex runs once each
def _renamed_statements(statements: tuple[str, ...], params: frozenset[str], suffix: str) -> tuple[str, ...]:
    names = params | {name for sql in statements for name in _LET.findall(sql)}

    def rename(match: re.Match[str]) -> str:
        return f"${match.group(1)}_{suffix}" if match.group(1) in names else match.group(0)

    return tuple(_VARIABLE.sub(rename, sql) for sql in statements)


def commit(db: Database, writes: Sequence[Write]) -> list[Any]:
    """Commit `writes` in one transaction; return the value of each. Raises what the database raises."""
    statements: list[str] = []
    params: dict[str, Any] = {}
    ends = []
    for index, write in enumerate(writes):
        own, values = _renamed(write, f"w{index}") if len(writes) > 1 else (write.statements, dict(write.params))
        statements += own
        params |= values
        ends.append(len(statements) - 1)
    results = db.transaction(";\n".join(statements) + ";", params)
    start = 0
    for write, end in zip(writes, ends, strict=True):
        if write.after is not None:
            try:
                write.after(results[start : end + 1])
            except Exception:  # committed all the same: never report (or retry) the write as failed
                log.exception("a callback after a committed write failed")
        start = end + 1
    return [results[end] for end in ends]


class GroupCommit:
    """One committing thread; `write` (from a coroutine) or `submit` (from a thread) queue a write."""

    def __init__(self, db: Database, max_writes: int = 100) -> None:
        self._db = db
        self._max = max_writes
        self._queue: queue.SimpleQueue[tuple[Write, Future[Any]] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start = threading.Lock()

    def submit(self, write: Write) -> Future[Any]:
        """Queue `write`; the future holds its value. Once queued it is committed, even if the
        caller stops waiting (a reply stopped by shutdown is still stored)."""
        done: Future[Any] = Future()
        done.set_running_or_notify_cancel()  # a running future cannot be cancelled
        with self._start:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="group-commit", daemon=True)
                self._thread.start()
        self._queue.put((write, done))
        return done

    async def write(self, write: Write) -> Any:
        return await asyncio.wrap_future(self.submit(write))

    def close(self) -> None:
        """Commit what is queued, then stop the thread."""
        with self._start:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join()

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            batch = [item]
            while len(batch) < self._max:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is None:
                    self._commit(batch)
                    return
                batch.append(item)
            self._commit(batch)

    def _commit(self, batch: list[tuple[Write, Future[Any]]]) -> None:
        if len(batch) > 1:
            try:
                values = commit(self._db, [write for write, _ in batch])
            except Exception as error:  # each write is retried alone below, with its own outcome
                log.info("a shared commit of %d writes failed (%s); committing them one by one", len(batch), error)
            else:
                for (_, done), value in zip(batch, values, strict=True):
                    done.set_result(value)
                return
        for write, done in batch:
            try:
                done.set_result(commit(self._db, [write])[0])
            except Exception as error:  # handed to the waiting caller
                done.set_exception(error)
