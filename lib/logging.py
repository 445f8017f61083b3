"""JSON logs on stdout: one line per request with request id, route, status, duration, user id.

Never logged: bodies, query strings, tokens, passwords.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import sys
import time
from typing import Any

import orjson

from lib.http import json
from lib.http.messages import HttpRequest
from lib.loki import LokiHandler, LokiShipper

__all__ = [
    "JsonFormatter",
    "configure_logging",
    "drop_queries",
    "flush_access_lines",
    "hold_access_lines",
    "log_request",
]

access = logging.getLogger("kiroshi.access")

_EXTRA = ("request_id", "route", "status", "duration_ms", "user_id", "method", "path", "client")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key in _EXTRA:
            if key in record.__dict__:
                entry[key] = record.__dict__[key]
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry).decode()


_loki: LokiShipper | None = None


def configure_logging(level: str = "INFO", loki_url: str = "") -> None:
    """JSON lines on stdout; also to Loki in the background when `loki_url` is set. No record's
    message keeps a query string, whichever library logged it (see `drop_queries`)."""
    global _loki
    handler = _StdoutHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(drop_queries)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if loki_url:
        _loki = LokiShipper(loki_url)
        shipper = LokiHandler(_loki, JsonFormatter())
        shipper.addFilter(drop_queries)
        root.addHandler(shipper)


_QUERY = re.compile(r"\?[^\s\"'?#]*=[^\s\"']*")  # `?name=value...`, up to a space or a quote


def drop_queries(record: logging.LogRecord) -> bool:
    """Cut query strings (which may carry tokens: `?auth_token=...`) out of a record's message: a
    net under every library's log lines (a URL in a third-party message, say). Keeps the record."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed call: the handler reports it, as without this filter
        return True
    if "?" in message and _QUERY.search(message):
        record.msg, record.args = _QUERY.sub("?[query dropped]", message), None
    return True


class _StdoutHandler(logging.StreamHandler):  # type: ignore[type-arg]
    def emit(self, record: logging.LogRecord) -> None:
        flush_access_lines()  # held access lines first: stdout keeps the order things happened in
        super().emit(record)


_held: list[bytes] | None = None  # access lines not yet written, while a caller batches them
MAX_HELD_LINES = 1024  # then they leave at once, whenever the next flush was due: ~0.5 MB held at most


def hold_access_lines() -> None:
    """Hold access lines in memory until `flush_access_lines` (the local runner calls it every
    0.1 s, and at shutdown) instead of a write syscall per request: even an unbuffered stdout
    (PYTHONUNBUFFERED) gets one write per batch. Any other log record flushes them first. FaaS
    front doors never hold: their process may be frozen right after the answer."""
    global _held
    if _held is None:
        _held = []


def flush_access_lines() -> None:
    held = _held
    if not held:
        return
    count = len(held)
    lines = b"".join(held[:count])
    del held[:count]  # lines appended meanwhile (other threads) stay for the next flush
    _write(lines)


def _write(lines: bytes) -> None:
    stream = sys.stdout
    buffer = getattr(stream, "buffer", None)  # below the text layer, which is flushed after each record
    if buffer is not None:
        buffer.write(lines)
        buffer.flush()
    else:  # a text-only stream (a test's capture)
        stream.write(lines.decode())
        stream.flush()


_second: tuple[int, str] = (0, "")  # the last whole second and its ISO 8601 text
_stamp: tuple[float, str] = (0.0, "")  # when the last millisecond ends, and its whole timestamp


def _timestamp() -> str:
    """Now in ISO 8601 with milliseconds, as JsonFormatter writes it, at a fraction of the cost
    (the text of the second is made once a second, the timestamp once a millisecond)."""
    global _second, _stamp
    now = time.time()
    if now < _stamp[0]:
        return _stamp[1]
    second, millis = divmod(int(now * 1000), 1000)
    if second != _second[0]:
        _second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
    _stamp = (second + (millis + 1) / 1000, f"{_second[1]}.{millis:03d}+00:00")
    return _stamp[1]


def log_request(
    request: HttpRequest, route: str | None, status: int, seconds: float, request_id: str, user_id: str | None
) -> None:
    """One JSON access line, written straight to stdout: the logging machinery (records, caller
    lookup, formatting) would cost more than serving a small request."""
    if not access.isEnabledFor(logging.INFO):
        return
    line = orjson.dumps(
        {
            "ts": _timestamp(),
            "level": "info",
            "logger": "kiroshi.access",
            "msg": "request",
            "request_id": request_id,
            "route": route,
            "status": status,
            "duration_ms": int(seconds * 1_000_000) / 1000,
            "user_id": user_id,
            "method": request.method,
            "path": request.path,  # the path only: query strings may carry tokens
            "client": request.client_addr,
        },
        option=orjson.OPT_APPEND_NEWLINE,
    )
    if _held is not None:
        _held.append(line)
        if len(_held) >= MAX_HELD_LINES:
            flush_access_lines()
    else:
        _write(line)
    if _loki is not None:
        _loki.ship("info", line[:-1].decode())
