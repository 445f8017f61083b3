"""JSON logs on stdout: one line per request with request id, route, status, duration, user id.

Never logged: bodies, query strings, tokens, passwords.
"""

from __future__ import annotations

import datetime as dt
import logging
import sys
import time
from typing import Any

from lib.http import json
from lib.http.messages import HttpRequest
from lib.loki import LokiHandler, LokiShipper

__all__ = ["JsonFormatter", "configure_logging", "log_request"]

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
    """JSON lines on stdout; also to Loki in the background when `loki_url` is set."""
    global _loki
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    if loki_url:
        _loki = LokiShipper(loki_url)
        root.addHandler(LokiHandler(_loki, JsonFormatter()))


_second: tuple[int, str] = (0, "")  # the last whole second and its ISO 8601 text


def _timestamp() -> str:
    """Now in ISO 8601 with milliseconds, as JsonFormatter writes it, at a fraction of the cost
    (the text of the second is made once a second)."""
    global _second
    now = time.time()
    second, text = _second
    if int(now) != second:
        second = int(now)
        text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        _second = (second, text)
    return f"{text}.{int((now - second) * 1000):03d}+00:00"


def log_request(
    request: HttpRequest, route: str | None, status: int, seconds: float, request_id: str, user_id: str | None
) -> None:
    """One JSON access line, written straight to stdout: the logging machinery (records, caller
    lookup, formatting) would cost more than serving a small request."""
    if not access.isEnabledFor(logging.INFO):
        return
    entry = {
        "ts": _timestamp(),
        "level": "info",
        "logger": "kiroshi.access",
        "msg": "request",
        "request_id": request_id,
        "route": route,
        "status": status,
        "duration_ms": round(seconds * 1000, 3),
        "user_id": user_id,
        "method": request.method,
        "path": request.path,  # the path only: query strings may carry tokens
        "client": request.client_addr,
    }
    line = json.dumps(entry).decode()
    stream = sys.stdout
    stream.write(line + "\n")
    stream.flush()
    if _loki is not None:
        _loki.ship("info", line)
