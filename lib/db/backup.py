"""A backup of a Kiroshi database: every table's records, read in one transaction, as CBOR.

The embedded engine offers no export of its own (the surrealdb 2.0.0 wheel, engine 2.3.10: its RPC
answers "Method not found" to `export` and `import`), so a backup is a logical dump. Every table is
read in one read transaction: one snapshot, taken while writes go on (they are not blocked, and the
read does not conflict with them). The file is a CBOR sequence:

    {"format": "kiroshi-backup", "version": 1, "taken_at", "migrations": [names], "tables": {name: rows}}
    {"table": name, "rows": [...]}      at most CHUNK_ROWS rows each, values in SurrealDB's own CBOR tags
    {"end": total rows}

A restore applies the migrations the backup was taken at, then creates the records with their ids,
a chunk per transaction (its memory: one chunk); migrations newer than the backup run when a runner
starts on the restored database, as after an upgrade.

Costs, measured on the embedded engine: the snapshot is read by one query, which holds Python's GIL
(the process answers nothing else meanwhile) and materialises every row in memory at once. See
README, Operations.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

import cbor2

from lib.db.connection import Database, TransactionConflict
from lib.db.migrations import apply_migrations, migration_files

__all__ = ["BackupError", "Summary", "check", "dump", "load"]

FORMAT = "kiroshi-backup"
VERSION = 1
CHUNK_ROWS = 500
SNAPSHOT_ATTEMPTS = 5
_CREATE = "FOR $row IN $rows { CREATE type::thing($row.id) CONTENT $row };"


class BackupError(RuntimeError):
    """The backup cannot be taken, or the file is not a whole Kiroshi backup this version can load."""


@dataclass
class Summary:
    taken_at: str = ""
    migrations: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.tables.values())


def _timestamp(value: Any) -> str:
    """SurrealDB's compact datetime tag (12: [seconds, nanoseconds]) as ISO 8601, to the second."""
    seconds = value.value[0] if isinstance(value, cbor2.CBORTag) else 0
    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat()


def _snapshot(db: Database) -> tuple[Summary, dict[str, list[Any]]]:
    """Every table's rows (but `migration`'s, named in the summary) from one read transaction."""
    tables = sorted(t for t in (db.one("INFO FOR DB") or {}).get("tables", {}) if t != "migration")
    # Table names travel as $params. No RETURN: in a transaction it ends it, skipping what follows.
    reads = [f"SELECT * FROM type::table($t{i});" for i in range(len(tables))]  # noqa: S608
    sql = "\n".join(
        [
            "BEGIN TRANSACTION;",
            "time::now();",
            "array::sort((SELECT VALUE meta::id(id) FROM migration));",
            *reads,
            "COMMIT TRANSACTION;",
        ]
    )
    params = {f"t{i}": table for i, table in enumerate(tables)}
    for attempt in range(SNAPSHOT_ATTEMPTS):
        try:
            results = db.query(sql, params, tagged=True)
        except TransactionConflict:  # not seen with a read-only transaction; cheap to allow
            if attempt == SNAPSHOT_ATTEMPTS - 1:
                raise
            continue
        if len(results) != len(tables) + 2:
            raise BackupError(f"the snapshot answered {len(results)} results to {len(tables) + 2} statements")
        taken_at, migrations, *rows = results
        data = dict(zip(tables, rows, strict=True))
        summary = Summary(_timestamp(taken_at), list(migrations), {t: len(r) for t, r in data.items()})
        return summary, data
    raise AssertionError("unreachable")


def dump(db: Database, out: IO[bytes]) -> Summary:
    """Write a consistent backup of `db` to `out`. Raises QueryFailed or ServiceUnavailable."""
    summary, data = _snapshot(db)
    header = {
        "format": FORMAT,
        "version": VERSION,
        "taken_at": summary.taken_at,
        "migrations": summary.migrations,
        "tables": summary.tables,
    }
    cbor2.dump(header, out)
    for table in list(data):
        rows = data.pop(table)  # free each table once written
        for start in range(0, len(rows), CHUNK_ROWS):
            cbor2.dump({"table": table, "rows": rows[start : start + CHUNK_ROWS]}, out)
    cbor2.dump({"end": summary.rows}, out)
    out.flush()
    return summary


def _items(source: IO[bytes]) -> Iterator[dict[str, Any]]:
    """The file's items, the header first; raises BackupError on anything but a whole backup."""
    decoder = cbor2.CBORDecoder(source)
    try:
        header = decoder.decode()
    except (cbor2.CBORDecodeError, EOFError) as exc:
        raise BackupError(f"not a Kiroshi backup ({exc})") from None
    if isinstance(header, dict) and "error" in header:
        raise BackupError(f"the backup failed: {header['error']}")
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise BackupError("not a Kiroshi backup")
    if header.get("version") != VERSION:
        raise BackupError(f"backup format version {header.get('version')} is not supported (this Kiroshi: {VERSION})")
    yield header
    while True:
        try:
            item = decoder.decode()
        except (cbor2.CBORDecodeError, EOFError):
            raise BackupError("the backup is truncated: it has no end marker") from None
        if not isinstance(item, dict):
            raise BackupError("the backup is damaged: an item is not a map")
        if "error" in item:
            raise BackupError(f"the backup failed: {item['error']}")
        yield item
        if "end" in item:
            return


def _read(source: IO[bytes]) -> tuple[Summary, Iterator[tuple[str, list[Any]]]]:
    """The header's summary and an iterator of (table, rows) chunks that checks the counts at the end."""
    items = _items(source)
    header = next(items)
    try:
        expected = Summary(str(header["taken_at"]), list(header["migrations"]), dict(header["tables"]))
    except (KeyError, TypeError, ValueError):
        raise BackupError("the backup is damaged: its header is incomplete") from None

    def chunks() -> Iterator[tuple[str, list[Any]]]:
        seen: dict[str, int] = dict.fromkeys(expected.tables, 0)
        for item in items:
            if "end" in item:
                if seen != expected.tables or item["end"] != expected.rows:
                    raise BackupError(f"the backup is damaged: it holds {seen}, its header says {expected.tables}")
                return
            table, rows = str(item["table"]), list(item["rows"])
            if table not in seen:
                raise BackupError(f"the backup is damaged: table {table!r} is not in its header")
            seen[table] += len(rows)
            yield table, rows

    return expected, chunks()


def check(source: IO[bytes]) -> Summary:
    """Read a whole backup without loading it. Raises BackupError unless it is complete and intact."""
    summary, chunks = _read(source)
    for _ in chunks:
        pass
    return summary


def load(db: Database, source: IO[bytes]) -> Summary:
    """Load a backup into `db`, an empty database: its schema through the backup's migrations, then
    every record with its id. Raises BackupError for a file this version cannot load (a damaged one
    fails part-way: load into a scratch database and keep it only when this returns)."""
    summary, chunks = _read(source)
    known = [name for name, _ in migration_files()]
    if summary.migrations != known[: len(summary.migrations)]:
        newer = sorted(set(summary.migrations) - set(known))
        raise BackupError(
            f"the backup was taken by another Kiroshi version (migrations {newer or summary.migrations} are not "
            "this version's): restore it with the version that took it, then upgrade"
        )
    if db.one("INFO FOR DB").get("tables"):
        raise BackupError("the target database is not empty")
    apply_migrations(db, through=summary.migrations[-1] if summary.migrations else "")
    for _table, rows in chunks:
        db.transaction(_CREATE, {"rows": rows})
    return summary
