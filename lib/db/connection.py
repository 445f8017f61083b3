"""One SurrealDB handle per process: embedded (`mem://`, `surrealkv://`) or remote (`ws://`, `http://`).

The embedded engine takes no lock on its directory, so `open_database` takes an exclusive lock
beside it and refuses a second owner. `begin()` is not supported on embedded handles, so
transactions are sent as one `BEGIN; ...; COMMIT;` query and every statement's status is checked.
"""

from __future__ import annotations

import fcntl
import logging
import os
import random
import re
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any

from lib.config import Settings, prepare_engine_environment
from lib.db.memo import MAX_ENTRIES, Memo
from lib.errors import ServiceUnavailable

__all__ = [
    "Database",
    "DatabaseLocked",
    "QueryFailed",
    "RecordExists",
    "StaleWrite",
    "Thrown",
    "TransactionConflict",
    "lock_data_directory",
    "open_database",
]

log = logging.getLogger("kiroshi.db")

MAX_TRANSACTION_ATTEMPTS = 12
_NOT_EXECUTED = "not executed due to a failed transaction"


class DatabaseLocked(RuntimeError):
    """Another process owns the embedded data directory."""


class QueryFailed(RuntimeError):
    """A statement returned ERR; the message is the engine's."""


class RecordExists(QueryFailed):
    """A CREATE hit an existing record id or a UNIQUE index."""


class TransactionConflict(QueryFailed):
    """Two transactions touched the same keys; the loser may retry."""


class Thrown(QueryFailed):
    """A transaction stopped itself with `THROW 'kiroshi:<code>'`; `code` says why."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


class StaleWrite(Thrown):
    """A version-guarded write found the record changed since it was read (`THROW 'kiroshi:stale'`)."""


_THROWN = re.compile(r"kiroshi:([a-z_]+)")


def _classify(message: str) -> QueryFailed:
    thrown = _THROWN.search(message)
    if thrown is not None:
        return (StaleWrite if thrown.group(1) == "stale" else Thrown)(message, thrown.group(1))
    if "already exists" in message or "already contains" in message:
        return RecordExists(message)
    if "conflict" in message.lower() or "can be retried" in message:
        return TransactionConflict(message)
    return QueryFailed(message)


@dataclass(frozen=True, slots=True)
class Event:
    """A domain event: written with the change it announces (Database.write), published after."""

    topic: str
    payload: dict[str, Any]


# The outbox's rows; lib.events.outbox publishes them, in order, after the write committed.
_OUTBOX = (
    "FOR $event IN $outbox_events "
    "{ CREATE event_outbox CONTENT {topic: $event.topic, payload: $event.payload, created_at: time::now()} };"
)


class Database:
    """A thread-safe facade over one SDK connection. Results are plain Python values."""

    def __init__(
        self, wire: Any, *, embedded: bool, lock_file: IO[str] | None = None, memo_entries: int = MAX_ENTRIES
    ) -> None:
        self._wire = wire
        # Embedded handles serve threads concurrently; a remote socket takes one call at a time.
        self._serial = None if embedded else threading.Lock()
        self._lock_file = lock_file
        self.adapter = "embedded" if embedded else "remote"
        self.closed = False
        # Only an embedded database is written by this process alone: only then may reads be memoised.
        self.memo = Memo(enabled=embedded, max_entries=memo_entries)
        self._events_written = False  # since the last take_events_written: some write left events to publish

    def query(self, sql: str, params: Mapping[str, Any] | None = None, *, tagged: bool = False) -> list[Any]:
        """Run one or more statements; return each statement's result.

        With `tagged` (embedded and `ws://` only), values stay in SurrealDB's CBOR tags, exact (backups).
        Raises RecordExists, TransactionConflict or QueryFailed for the first failing statement
        (skipping the engine's "not executed due to a failed transaction" placeholders), and
        ServiceUnavailable when the database cannot be reached.
        """
        if self.closed:
            raise ServiceUnavailable("the database is closed", code="database_unavailable")
        run = self._wire.query_tagged if tagged else self._wire.query_raw
        try:
            if self._serial is None:
                response = run(sql, params or {})
            else:
                with self._serial:
                    response = run(sql, dict(params or {}))
        except (OSError, ConnectionError) as exc:
            log.error("database unreachable: %s", exc)
            raise ServiceUnavailable("the database is unavailable", code="database_unavailable") from exc
        except RuntimeError as exc:  # the embedded engine raises parse and engine errors this way
            raise QueryFailed(str(exc)) from exc
        if response.get("error"):
            raise QueryFailed(str(response["error"]))
        statements = response.get("result") or []
        failures = [s["result"] for s in statements if s.get("status") == "ERR"]
        real = [f for f in failures if _NOT_EXECUTED not in str(f)]
        if failures:
            raise _classify(str((real or failures)[0]))
        return [s.get("result") for s in statements]

    def one(self, sql: str, params: Mapping[str, Any] | None = None) -> Any:
        """The result of the last statement."""
        return self.query(sql, params)[-1]

    def transaction(self, sql: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Run statements atomically, retrying on transaction conflicts with a short backoff.

        The results exclude the BEGIN/COMMIT markers. RecordExists and QueryFailed are final.
        """
        for attempt in range(MAX_TRANSACTION_ATTEMPTS):
            try:
                return self.query(f"BEGIN TRANSACTION;\n{sql}\nCOMMIT TRANSACTION;", params)
            except TransactionConflict:
                if attempt == MAX_TRANSACTION_ATTEMPTS - 1:
                    raise
                time.sleep(random.uniform(0, min(0.05, 0.002 * 2**attempt)))  # noqa: S311 - jitter
        raise AssertionError("unreachable")

    def write(
        self,
        sql: str,
        params: Mapping[str, Any] | None = None,
        *,
        events: Sequence[Event] = (),
        stale: str | None = None,
    ) -> list[Any]:
        """A write transaction (as `transaction`) with what it changes beside its rows: `events`
        join it in the outbox (one more result, last), and the memo forgets owner `stale`'s
        entries once it is over, committed or not."""
        sql = sql if sql.rstrip().endswith(";") else f"{sql};"
        if events:
            sql = f"{sql}\n{_OUTBOX}"
            params = {**(params or {}), "outbox_events": [{"topic": e.topic, "payload": e.payload} for e in events]}
        try:
            results = self.transaction(sql, params)
        finally:
            if stale is not None:
                self.memo.invalidate(stale)
        if events:
            self._events_written = True
        return results

    def take_events_written(self) -> bool:
        """Whether a write committed events since the last call (then the outbox has some to publish)."""
        if not self._events_written:
            return False
        self._events_written = False
        return True

    def ping(self) -> None:
        self.query("RETURN 1")

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        try:
            self._wire.close()
        finally:
            if self._lock_file is not None:
                self._lock_file.close()
                self._lock_file = None


def lock_data_directory(settings: Settings) -> IO[str] | None:
    """Take the exclusive lock beside an on-disk embedded database (None for other kinds); closing
    the returned file releases it. Raises DatabaseLocked while another process holds it."""
    path = settings.database_path
    if path is None:
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    lock_file = open(f"{path}.lock", "a+")  # noqa: SIM115 - held for the process lifetime
    try:
        fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        lock_file.seek(0)
        owner = lock_file.read().strip() or "unknown"
        lock_file.close()
        raise DatabaseLocked(
            f"the data directory {path} is in use by another Kiroshi process (pid {owner}); "
            "stop it first, or point KIROSHI_DATABASE_URL at a SurrealDB server to share one database"
        ) from None
    lock_file.seek(0)
    lock_file.truncate()
    lock_file.write(str(os.getpid()))
    lock_file.flush()
    return lock_file


def _wire(settings: Settings) -> Any:
    """The connection for the URL's scheme: embedded, a server over WebSocket, or (through the
    SDK, which costs ~300 ms to import) a server over HTTP."""
    from lib.db.wire import EmbeddedWire, RemoteWire  # noqa: PLC0415

    scheme = settings.database_url.split("://", 1)[0]
    if settings.embedded_database:
        wire: Any = EmbeddedWire(settings.database_url)
    elif scheme in ("ws", "wss"):
        wire = RemoteWire(settings.database_url)
    else:
        import surrealdb  # noqa: PLC0415

        wire = surrealdb.Surreal(settings.database_url)
    if not settings.embedded_database and settings.database_user:
        credentials = {"user": settings.database_user, "pass": str(settings.database_pass)}
        if isinstance(wire, RemoteWire):
            wire.remember("signin", [credentials])
        else:
            wire.signin({"username": settings.database_user, "password": settings.database_pass})
    wire.use(settings.database_namespace, settings.database_name)
    return wire


def open_database(settings: Settings) -> Database:
    """Open the configured database, lock it if embedded, and select namespace and database.

    Raises DatabaseLocked when another process holds the embedded data directory.
    """
    prepare_engine_environment()
    lock_file = lock_data_directory(settings)
    try:
        wire = _wire(settings)
    except BaseException:
        if lock_file is not None:
            lock_file.close()
        raise
    return Database(wire, embedded=settings.embedded_database, lock_file=lock_file, memo_entries=settings.memo_entries)
