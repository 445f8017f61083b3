"""SurrealDB's CBOR RPC, spoken directly: to the embedded engine (the surrealdb package's Rust
extension) or to a server over WebSocket (`ws://host:8000/rpc`).

The SDK encodes every request and decodes every answer with a pure-Python CBOR codec (~4x what
the engine spends on a point read) and `import surrealdb` costs ~300 ms (it pulls in aiohttp and
requests). This module speaks the same messages with cbor2's C extension, loads only the engine
extension, and uses the `websockets` client for servers: a function that needs a server
connection starts in a fraction of that.
"""

from __future__ import annotations

import datetime as dt
import decimal
import importlib.machinery
import importlib.util
import itertools
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2

__all__ = ["EmbeddedWire", "RecordID", "RemoteWire", "Table"]

TAG_NONE = 6
TAG_TABLE = 7
TAG_RECORD_ID = 8
TAG_UUID = 9
TAG_DECIMAL = 10
TAG_DATETIME_COMPACT = 12


@dataclass(frozen=True)
class RecordID:
    """`table:⟨id⟩`, as SurrealDB's CBOR tag 8 carries it."""

    table_name: str
    id: Any

    def __str__(self) -> str:
        return f"{self.table_name}:{self.id}"


@dataclass(frozen=True)
class Table:
    table_name: str


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


class _Rpc:
    """Request/answer encoding shared by both wires."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def _request(self, method: str, params: list[Any]) -> bytes:
        request = {"id": next(self._ids), "method": method, "params": _nones(params)}
        return bytes(cbor2.dumps(request, default=_encode, timezone=dt.UTC))

    @staticmethod
    def _answer(data: bytes) -> dict[str, Any]:
        answer = cbor2.loads(data, semantic_decoders=_SEMANTIC)
        return answer if isinstance(answer, dict) else {}

    def _call(self, data: bytes) -> bytes:
        raise NotImplementedError

    def rpc(self, method: str, params: list[Any]) -> dict[str, Any]:
        answer = self._answer(self._call(self._request(method, params)))
        if answer.get("error"):
            raise RuntimeError(str(answer["error"].get("message", answer["error"])))
        return answer

    def query_raw(self, sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The SDK's `query_raw`: `{"result": [{"status", "result"}, ...]}` or `{"error": ...}`."""
        return self._answer(self._call(self._request("query", [sql, dict(params)])))

    def query_tagged(self, sql: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """`query_raw` with values left in SurrealDB's CBOR tags (`cbor2.CBORTag`: record ids, datetimes
        to the nanosecond, NONE): what a backup stores, and sends back as they are to restore."""
        answer = cbor2.loads(self._call(self._request("query", [sql, dict(params)])))
        return answer if isinstance(answer, dict) else {}

    def use(self, namespace: str, database: str) -> None:
        self.rpc("use", [namespace, database])


def _engine_extension() -> Any:
    """The surrealdb package's Rust extension, loaded without the package's Python half."""
    spec = importlib.util.find_spec("surrealdb")
    if spec is None or spec.origin is None:
        raise ImportError("the surrealdb package is not installed")
    name = "surrealdb._surrealdb_ext"
    library = next(Path(spec.origin).parent.glob("_surrealdb_ext*.so"))
    loader = importlib.machinery.ExtensionFileLoader(name, str(library))
    module = importlib.util.module_from_spec(importlib.util.spec_from_loader(name, loader))  # type: ignore[arg-type]
    loader.exec_module(module)
    return module


class EmbeddedWire(_Rpc):
    """The embedded engine (`mem://`, `surrealkv://path`); one handle serves many threads."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._engine = _engine_extension().SyncEmbeddedDB(url)
        self._engine.connect()

    def _call(self, data: bytes) -> bytes:
        return bytes(self._engine.execute(data))

    def close(self) -> None:
        self._engine.close()


class RemoteWire(_Rpc):
    """A SurrealDB server over WebSocket RPC (`ws://`, `wss://`). One call at a time; a broken
    socket raises ConnectionError and the next call reconnects."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._url = url.rstrip("/") + "/rpc"
        self._lock = threading.Lock()
        self._socket: Any = None
        self._session: list[tuple[str, list[Any]]] = []  # signin/use, replayed on reconnect

    def _connect(self) -> Any:
        from websockets.sync.client import connect  # noqa: PLC0415

        socket = connect(self._url, subprotocols=["cbor"], max_size=None, open_timeout=5)  # type: ignore[list-item]
        for method, params in self._session:
            socket.send(self._request(method, params))
            answer = self._answer(bytes(socket.recv(timeout=10)))  # type: ignore[arg-type]
            if answer.get("error"):
                socket.close()
                raise ConnectionError(f"SurrealDB refused {method}: {answer['error']}")
        return socket

    def _call(self, data: bytes) -> bytes:
        from websockets.exceptions import WebSocketException  # noqa: PLC0415

        with self._lock:
            try:
                if self._socket is None:
                    self._socket = self._connect()
                self._socket.send(data)
                return bytes(self._socket.recv(timeout=30))
            except (OSError, TimeoutError, WebSocketException) as exc:
                if self._socket is not None:
                    self._socket.close()
                self._socket = None
                raise ConnectionError(f"SurrealDB at {self._url} is unreachable: {exc}") from exc

    def remember(self, method: str, params: list[Any]) -> None:
        """Run signin/use now and again on every reconnect."""
        self._session.append((method, params))
        self.rpc(method, params)

    def use(self, namespace: str, database: str) -> None:
        self.remember("use", [namespace, database])

    def close(self) -> None:
        with self._lock:
            if self._socket is not None:
                self._socket.close()
                self._socket = None
