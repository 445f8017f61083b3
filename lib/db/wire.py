"""The embedded engine's CBOR wire, encoded with cbor2's C extension.

The SDK encodes each request and decodes each answer with a pure-Python CBOR codec, which costs
~4x what the engine itself spends on a point read. This speaks the same messages (the SDK's
`WS_CBOR_DESCRIPTOR` format and SurrealDB's CBOR tags) to the same engine handle.
"""

from __future__ import annotations

import datetime as dt
import decimal
import itertools
from collections.abc import Callable, Mapping
from typing import Any

import cbor2
from surrealdb import RecordID, Table

__all__ = ["EmbeddedWire"]

TAG_NONE = 6
TAG_TABLE = 7
TAG_RECORD_ID = 8
TAG_UUID = 9
TAG_DECIMAL = 10
TAG_DATETIME_COMPACT = 12


class _NoneValue:
    """SurrealDB's NONE (an absent value). Python's None is sent as NONE, never as NULL, so that
    `option<...>` fields accept it, as the SDK does."""


_NONE = _NoneValue()


def _nones(value: Any) -> Any:
    if value is None:
        return _NONE
    if isinstance(value, dict):
        return {k: _nones(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_nones(v) for v in value]
    return value


def _encode(encoder: Any, value: Any) -> None:
    if value is _NONE:
        encoder.encode(cbor2.CBORTag(TAG_NONE, None))
    elif isinstance(value, RecordID):
        encoder.encode(cbor2.CBORTag(TAG_RECORD_ID, [value.table_name, value.id]))
    elif isinstance(value, Table):
        encoder.encode(cbor2.CBORTag(TAG_TABLE, value.table_name))
    elif isinstance(value, decimal.Decimal):
        encoder.encode(cbor2.CBORTag(TAG_DECIMAL, str(value)))
    else:
        raise TypeError(f"cannot send {type(value).__name__} to SurrealDB")


def _datetime(value: list[int]) -> dt.datetime:
    seconds, nanos = ([*value, 0])[:2]
    return dt.datetime.fromtimestamp(seconds, dt.UTC) + dt.timedelta(microseconds=nanos // 1000)


_DECODERS: dict[int, Callable[[Any], Any]] = {
    TAG_NONE: lambda value: None,
    TAG_TABLE: Table,
    TAG_RECORD_ID: lambda value: RecordID(value[0], value[1]),
    TAG_UUID: str,
    TAG_DECIMAL: decimal.Decimal,
    TAG_DATETIME_COMPACT: _datetime,
}


def _semantic(convert: Callable[[Any], Any]) -> Callable[..., Any]:
    # cbor2 6.3 (pinned) calls a semantic decoder with the tag's decoded content and an `immutable` flag.
    return lambda value, _immutable=False: convert(value)


_SEMANTIC = {tag: _semantic(convert) for tag, convert in _DECODERS.items()}


class EmbeddedWire:
    """`query_raw` with the SDK's semantics, over an embedded connection's engine handle."""

    def __init__(self, connection: Any) -> None:
        self._engine = connection._db  # the SDK's SyncEmbeddedDB
        self._ids = itertools.count(1)

    def query_raw(self, sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
        request = {"id": next(self._ids), "method": "query", "params": [sql, _nones(dict(params))]}
        payload = cbor2.dumps(request, default=_encode, timezone=dt.UTC)
        answer = cbor2.loads(self._engine.execute(payload), semantic_decoders=_SEMANTIC)
        return answer if isinstance(answer, dict) else {}
