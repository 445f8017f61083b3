"""Shipping JSON log lines to Loki (`/loki/api/v1/push`) in background batches.

A bounded queue: a request only appends a line (dropping the oldest when Loki has been away too
long); a daemon thread pushes a batch every second, keeps what failed for the next round, and
never blocks or fails a request. Labels stay few: app, level.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import urllib.error
import urllib.request

import orjson

__all__ = ["LokiShipper"]

MAX_LINES = 10_000
BATCH = 1_000


class LokiShipper:
    def __init__(self, url: str, interval_seconds: float = 1.0, labels: dict[str, str] | None = None) -> None:
        self._endpoint = url.rstrip("/") + "/loki/api/v1/push"
        self._labels = {"app": "kiroshi", **(labels or {})}
        self._lines: collections.deque[tuple[str, str, str]] = collections.deque(maxlen=MAX_LINES)
        self._lock = threading.Lock()
        self._interval = interval_seconds
        self.dropped = 0
        self.pushed = 0
        threading.Thread(target=self._run, name="kiroshi-loki", daemon=True).start()

    def ship(self, level: str, line: str) -> None:
        """Queue one line (never blocks; the oldest line goes when the queue is full)."""
        with self._lock:
            if len(self._lines) == MAX_LINES:
                self.dropped += 1
            self._lines.append((str(time.time_ns()), level, line))

    def _run(self) -> None:
        while True:
            time.sleep(self._interval)
            self.flush()

    def flush(self) -> bool:
        """Push what is queued; True when Loki took it (or there was nothing)."""
        with self._lock:
            batch = [self._lines.popleft() for _ in range(min(BATCH, len(self._lines)))]
        if not batch:
            return True
        streams: dict[str, list[list[str]]] = {}
        for ts, level, line in batch:
            streams.setdefault(level, []).append([ts, line])
        body = orjson.dumps(
            {"streams": [{"stream": {**self._labels, "level": lvl}, "values": vals} for lvl, vals in streams.items()]}
        )
        request = urllib.request.Request(  # noqa: S310 - the operator's own Loki URL (http/https, checked at start)
            self._endpoint, data=body, headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310
                ok = 200 <= answer.status < 300
        except (urllib.error.URLError, OSError):
            ok = False
        if not ok:
            with self._lock:  # keep them for the next round, oldest first, within the bound
                self._lines.extendleft(reversed(batch))
            return False
        self.pushed += len(batch)
        return True


class LokiHandler(logging.Handler):
    """Application log records (warnings, errors) to the shipper, formatted as JSON lines."""

    def __init__(self, shipper: LokiShipper, formatter: logging.Formatter) -> None:
        super().__init__()
        self._shipper = shipper
        self.setFormatter(formatter)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._shipper.ship(record.levelname.lower(), self.format(record))
        except Exception:  # logging must never raise
            self.handleError(record)
