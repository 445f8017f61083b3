"""Record ids are built and read here, and nowhere else; so are records read from rows.

A record is a frozen dataclass whose fields name the row's columns, and `from_row` reads one: a
`RecordKey` field holds the string key of the row's own `id`; a `LinkKey` field `<link>_id` the
key of the row's `<link>` (`user_id`: the `user` link); a field typed `X | None` may be absent from
the row (SurrealDB leaves NONE out); a `tuple[...]` field turns the row's array into a tuple.
Datetimes arrive as datetimes from the wire (lib.db.wire) and are kept as they are.
"""

from __future__ import annotations

import dataclasses
import functools
import secrets
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

from lib.db.wire import RecordID

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = ["LinkKey", "RecordKey", "from_row", "from_rows", "new_id", "record", "record_key"]

T = TypeVar("T", bound="DataclassInstance")
Row = Mapping[str, Any]


@dataclasses.dataclass(frozen=True)
class _KeyOf:
    """Annotated metadata: the field holds the key of the record id in `column` (None: the column
    the field names without its `_id`)."""

    column: str | None


RecordKey = Annotated[str, _KeyOf("id")]
LinkKey = Annotated[str, _KeyOf(None)]


def new_id() -> str:
    """A fresh opaque id: 26 hex characters, safe in URLs and record ids."""
    return secrets.token_hex(13)


def record(table: str, key: str) -> RecordID:
    """The RecordID of `table:⟨key⟩` (keys are always strings)."""
    return RecordID(table, key)


def record_key(value: Any) -> str:
    """The string key of a RecordID (or of a `table:key` string)."""
    key = getattr(value, "id", None)
    if key is None:
        key = str(value).split(":", 1)[1]
    return str(key)


def from_row(record_type: type[T], row: Row | None) -> T | None:
    """The record of a `SELECT *` row, or None for no row (None or empty: a read that found
    nothing). Raises KeyError when the row lacks a column that the record requires."""
    if not row:
        return None
    read: Callable[[Row], T] = _reader(record_type)
    return read(row)


def from_rows(record_type: type[T], rows: Iterable[Row] | None) -> list[T]:
    """The records of `SELECT` rows, in their order (None: no rows)."""
    read: Callable[[Row], T] = _reader(record_type)
    return [read(row) for row in rows or ()]


@functools.cache
def _reader(record_type: type[T]) -> Callable[[Row], T]:
    """How to read `record_type` from a row, worked out once per record type. Mapping runs on hot
    paths (the `/auth` read of a user, a page of chats): the row is copied in C and only what
    differs is fixed (keys, absent NONEs, tuples); a row with other columns than the record's
    takes the field-by-field way."""
    hints = typing.get_type_hints(record_type)
    names = tuple(f.name for f in dataclasses.fields(record_type))
    field_names = frozenset(names)
    keys = list(_keys(record_type))
    optional = [name for name in names if _optional(hints[name])]
    tuples = [name for name in names if _origin(hints[name]) is tuple]
    build = _builder(record_type)

    def read(row: Row) -> T:
        values = dict(row)
        for name, column in keys:
            values[name] = record_key(values.pop(column))  # KeyError without it, as `row[column]`
        for name in optional:
            values.setdefault(name, None)  # SurrealDB leaves NONE out
        if values.keys() != field_names:  # columns the record does not keep, or a missing one
            values = {name: values[name] for name in names}  # KeyError for a missing column
        for name in tuples:
            if values[name] is not None:
                values[name] = tuple(values[name])
        return build(values)

    return read


def _keys(record_type: type[DataclassInstance]) -> Iterator[tuple[str, str]]:
    """(field, column) of each `RecordKey` and `LinkKey` field."""
    for name, hint in typing.get_type_hints(record_type, include_extras=True).items():
        for mark in getattr(hint, "__metadata__", ()):
            if isinstance(mark, _KeyOf):
                yield name, mark.column or name.removesuffix("_id")


def _builder(record_type: type[T]) -> Callable[[dict[str, Any]], T]:
    """A function that makes the record from all its field values. A plain dataclass (no slots,
    no `__post_init__`) gets them as its `__dict__`, exactly what its `__init__` would set."""
    if hasattr(record_type, "__slots__") or hasattr(record_type, "__post_init__"):
        return lambda values: record_type(**values)
    new = object.__new__

    def build(values: dict[str, Any]) -> T:
        made: T = new(record_type)
        made.__dict__.update(values)
        return made

    return build


def _optional(hint: Any) -> bool:
    """Whether the hint admits None (`X | None`)."""
    return typing.get_origin(hint) in (types.UnionType, typing.Union) and types.NoneType in typing.get_args(hint)


def _origin(hint: Any) -> Any:
    """The generic class of a hint, under `| None`: `tuple` for `tuple[str, ...] | None`."""
    args = [arg for arg in typing.get_args(hint) if arg is not types.NoneType] if _optional(hint) else [hint]
    return typing.get_origin(args[0]) if len(args) == 1 else None
