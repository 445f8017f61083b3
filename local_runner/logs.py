"""The web server's own log lines, made fit for the runner's logs.

uvicorn and the websockets library log to `uvicorn.error`: at INFO a line for every WebSocket
upgrade with its whole URL (`?auth_token=...`) and "connection open / rejected / closed", at DEBUG
every frame. The runner writes its own access line for each upgrade, as for each HTTP request
(RunnerApp), so these loggers keep warnings and errors only. And a refused upgrade, which uvicorn
reports as an ERROR when the app answers it with an HTTP response, is not one.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

__all__ = ["mark_refused", "quiet_server_logs"]

SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi", "websockets")
_UNFINISHED = "ASGI callable returned without completing handshake."

# Set in the connection's own task (uvicorn awaits the app in it, then logs in it): one refusal
# never hides another connection's error.
_refused: ContextVar[bool] = ContextVar("kiroshi_upgrade_refused", default=False)


def mark_refused() -> None:
    """Record that this connection's upgrade was refused with an HTTP answer."""
    _refused.set(True)


def _not_a_refusal(record: logging.LogRecord) -> bool:
    return not (record.msg == _UNFINISHED and _refused.get())


def quiet_server_logs() -> None:
    """Keep the server's loggers at WARNING or above (the root's level if higher); drop uvicorn's
    "returned without completing handshake" for an upgrade the app refused."""
    level = max(logging.WARNING, logging.getLogger().getEffectiveLevel())
    for name in SERVER_LOGGERS:
        logging.getLogger(name).setLevel(level)
    logging.getLogger("uvicorn.error").addFilter(_not_a_refusal)
